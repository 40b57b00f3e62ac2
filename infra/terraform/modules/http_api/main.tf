variable "api_id" {
  description = "The platform's HTTP API."
  type        = string
}

variable "api_execution_arn" {
  type = string
}

variable "function_name" {
  type = string
}

variable "function_invoke_arn" {
  description = "The invoke ARN of the function's alias (lambda_service's invoke_arn)."
  type        = string
}

variable "function_qualifier" {
  description = "The alias API Gateway invokes (lambda_service's alias_name)."
  type        = string
}

variable "authorization_type" {
  description = "AWS_IAM (SigV4: merchants' back ends and our services) or NONE (a caller that signs its own way, e.g. Stripe's webhooks, verified by the function)."
  type        = string
  default     = "AWS_IAM"
  validation {
    condition     = contains(["AWS_IAM", "NONE"], var.authorization_type)
    error_message = "authorization_type is AWS_IAM or NONE."
  }
}

variable "routes" {
  description = "Route keys served by the function, e.g. [\"POST /payments\", \"GET /payments/{payment_order_id}\"]."
  type        = list(string)
}

# Payload format 1.0: the handlers use Powertools' API Gateway REST (v1) resolver.
resource "aws_apigatewayv2_integration" "this" {
  api_id                 = var.api_id
  integration_type       = "AWS_PROXY"
  integration_uri        = var.function_invoke_arn
  payload_format_version = "1.0"
  timeout_milliseconds   = 29000
}

# Auth: IAM (SigV4). Callers are merchants' back ends and our own services, which hold AWS credentials;
# IAM needs no authorizer Lambda (no extra cold start, no token store) and every call is in CloudTrail.
resource "aws_apigatewayv2_route" "this" {
  for_each           = var.authorization_type == "AWS_IAM" ? toset(var.routes) : toset([])
  api_id             = var.api_id
  route_key          = each.value
  target             = "integrations/${aws_apigatewayv2_integration.this.id}"
  authorization_type = "AWS_IAM"
}

# A caller that signs its own way (Stripe's webhooks: Stripe-Signature, verified by the function first).
resource "aws_apigatewayv2_route" "signed_by_caller" {
  # checkov:skip=CKV_AWS_309:Only for callers that cannot hold AWS credentials and sign their requests themselves; the function verifies that signature before anything else.
  for_each           = var.authorization_type == "NONE" ? toset(var.routes) : toset([])
  api_id             = var.api_id
  route_key          = each.value
  target             = "integrations/${aws_apigatewayv2_integration.this.id}"
  authorization_type = "NONE"
}

# One permission per route: API Gateway may invoke the function only through the routes it serves, not through
# whatever route a later change adds to the shared API. Source ARN: <execution arn>/<stage>/<METHOD>/<path>
# ("Control access for invoking an API"); a path parameter matches any value, route method ANY any method.
locals {
  # "GET /payments/{payment_order_id}" → "GET/payments/*"
  invoke_paths = { for route in var.routes : route => replace(replace(replace(route, "ANY /", "*/"), " /", "/"), "/\\{[^}]+\\}/", "*") }
}

resource "aws_lambda_permission" "api" {
  for_each      = local.invoke_paths
  statement_id  = "HttpApi${replace(title(replace(each.key, "/[^A-Za-z0-9]+/", " ")), " ", "")}" # an IAM Sid: [A-Za-z0-9]
  action        = "lambda:InvokeFunction"
  function_name = var.function_name
  qualifier     = var.function_qualifier
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${var.api_execution_arn}/*/${each.value}"
}

output "route_ids" {
  value = { for key, route in merge(aws_apigatewayv2_route.this, aws_apigatewayv2_route.signed_by_caller) : key => route.id }
}
