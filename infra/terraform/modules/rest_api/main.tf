# The API as the seed sets it up: a REST API (regional), stage `prod`, execution logging at INFO without data
# tracing (request bodies carry card data), detailed metrics, JSON access logs; both log groups shipped to
# Dynatrace through the logs Firehose. Routes come from contracts/api_routes.json; each route invokes its
# function's `live` alias (the service roots grant the permission, route by route). A resource policy keeps
# callers of other accounts out at the edge, but for the accounts listed and the routes whose caller signs its
# own way (Stripe's webhooks).

variable "name" {
  type    = string
  default = "payments"
}

variable "stage_name" {
  type    = string
  default = "prod"
}

variable "routes" {
  description = "contracts/api_routes.json's routes: method, path (at most three segments), function, authorization (AWS_IAM or NONE)."
  type = list(object({
    method        = string
    path          = string
    function      = string
    authorization = string
  }))
  validation {
    condition     = alltrue([for r in var.routes : contains(["AWS_IAM", "NONE"], r.authorization)])
    error_message = "A route's authorization is AWS_IAM (SigV4) or NONE (a caller that signs its own way, verified by the function)."
  }
  validation {
    condition     = alltrue([for r in var.routes : can(regex("^(/[A-Za-z0-9._{}-]+){1,3}$", r.path))])
    error_message = "A route's path has one to three segments."
  }
}

variable "function_alias" {
  description = "The alias every route invokes (lambda_service's alias)."
  type        = string
  default     = "live"
}

variable "cross_account_callers" {
  description = "Other AWS accounts whose principals may call the IAM routes (they still need their own IAM allow). Everyone else's is denied at the edge."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for a in var.cross_account_callers : can(regex("^[0-9]{12}$", a))])
    error_message = "Accounts are 12-digit ids."
  }
}

variable "throttling_rate_limit" {
  type    = number
  default = 100
}

variable "throttling_burst_limit" {
  type    = number
  default = 200
}

variable "kms_key_arn" {
  type = string
}

variable "log_retention_days" {
  type    = number
  default = 365 # a year of audit trail (PCI DSS 10.7)
}

variable "firehose_arn" {
  description = "The logs Firehose: access and execution logs go to Dynatrace the way the functions' logs do."
  type        = string
}

variable "logs_to_firehose_role_arn" {
  type = string
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
  region  = data.aws_region.current.name
  # Every resource path the routes need, by depth: "/payments/{id}" needs "/payments" too. A path may serve
  # several methods (GET and POST /webhook_endpoints): one resource each.
  segments = { for path in distinct([for r in var.routes : r.path]) : path => split("/", trimprefix(path, "/")) }
  paths_at = { for depth in [1, 2, 3] : depth => toset(flatten([
    for parts in values(local.segments) : length(parts) >= depth ? ["/${join("/", slice(parts, 0, depth))}"] : []
  ])) }
  routes = { for r in var.routes : "${r.method} ${r.path}" => r }
  resource_ids = merge(
    { for p, r in aws_api_gateway_resource.depth1 : p => r.id },
    { for p, r in aws_api_gateway_resource.depth2 : p => r.id },
    { for p, r in aws_api_gateway_resource.depth3 : p => r.id },
  )
  invoke_uri = "arn:aws:apigateway:${local.region}:lambda:path/2015-03-31/functions/arn:aws:lambda:${local.region}:${local.account}:function:%s:${var.function_alias}/invocations"
  # execute-api resources of the routes whose callers sign their own way: open to any principal.
  open_routes  = [for r in var.routes : "execute-api:/*/${r.method}${replace(r.path, "/\\{[^}]+\\}/", "*")}" if r.authorization == "NONE"]
  caller_roots = [for a in concat([local.account], var.cross_account_callers) : "arn:aws:iam::${a}:root"]
}

resource "aws_api_gateway_rest_api" "this" {
  # checkov:skip=CKV_AWS_237:The API's id is in every caller's URL and in the invoke permissions: it is changed in place, never replaced.
  name = var.name
  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

resource "aws_api_gateway_resource" "depth1" {
  for_each    = local.paths_at[1]
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = basename(each.value)
}

resource "aws_api_gateway_resource" "depth2" {
  for_each    = local.paths_at[2]
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.depth1[dirname(each.value)].id
  path_part   = basename(each.value)
}

resource "aws_api_gateway_resource" "depth3" {
  for_each    = local.paths_at[3]
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.depth2[dirname(each.value)].id
  path_part   = basename(each.value)
}

# IAM (SigV4) for merchants' back ends and our operators: no authorizer Lambda, every call in CloudTrail.
resource "aws_api_gateway_method" "this" {
  # checkov:skip=CKV_AWS_59:Only routes whose caller signs its own way (Stripe-Signature, verified by the function before anything else) have no AWS authorization; the resource policy opens exactly those.
  # checkov:skip=CKV2_AWS_53:Requests are validated by the functions (problem+json naming the field), the contract the API documents.
  for_each      = local.routes
  rest_api_id   = aws_api_gateway_rest_api.this.id
  resource_id   = local.resource_ids[each.value.path]
  http_method   = each.value.method
  authorization = each.value.authorization
}

# Lambda proxy: the handlers speak the REST proxy event (Powertools' APIGatewayRestResolver).
resource "aws_api_gateway_integration" "this" {
  for_each                = local.routes
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = local.resource_ids[each.value.path]
  http_method             = aws_api_gateway_method.this[each.key].http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = format(local.invoke_uri, each.value.function)
  timeout_milliseconds    = 29000
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  # A new deployment whenever a route, its integration or the policy changes; the stage then points at it.
  triggers = {
    redeployment = sha1(jsonencode([var.routes, local.resource_ids, aws_api_gateway_rest_api_policy.this.policy]))
  }
  depends_on = [aws_api_gateway_integration.this, aws_api_gateway_rest_api_policy.this]
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}-access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# Where API Gateway writes the stage's execution logs; created here for retention, encryption and shipping.
resource "aws_cloudwatch_log_group" "execution" {
  name              = "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.this.id}/${var.stage_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_api_gateway_stage" "this" {
  # checkov:skip=CKV_AWS_73:Traces are OpenTelemetry's through the OneAgent (one trace across EventBridge), not X-Ray's.
  # checkov:skip=CKV_AWS_120:Responses are per caller and per payment; a cache would serve one merchant's data to another.
  # checkov:skip=CKV2_AWS_29:WAF is an account-level decision (cost, managed rules) outside this module; IAM auth refuses unsigned calls first.
  # checkov:skip=CKV2_AWS_51:Callers authenticate with SigV4 (IAM); client certificates would be a second, weaker identity.
  rest_api_id   = aws_api_gateway_rest_api.this.id
  deployment_id = aws_api_gateway_deployment.this.id
  stage_name    = var.stage_name

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    # JSON, one line per request: the error fields show refusals made before any function ran (IAM, throttling).
    format = jsonencode({
      requestId          = "$context.requestId"
      ip                 = "$context.identity.sourceIp"
      caller             = "$context.identity.caller"
      httpMethod         = "$context.httpMethod"
      resourcePath       = "$context.resourcePath"
      status             = "$context.status"
      protocol           = "$context.protocol"
      responseLength     = "$context.responseLength"
      latency            = "$context.responseLatency"
      integrationLatency = "$context.integrationLatency"
      integrationStatus  = "$context.integrationStatus"
      errorMessage       = "$context.error.message"
      errorType          = "$context.error.responseType"
    })
  }
  depends_on = [aws_cloudwatch_log_group.execution]
}

resource "aws_api_gateway_method_settings" "all" {
  # checkov:skip=CKV_AWS_225:Responses are per caller and per payment; a cache would serve one merchant's data to another.
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"
  settings {
    metrics_enabled        = true   # detailed metrics: per method and resource
    logging_level          = "INFO" # the seed's "Errors and Info"
    data_trace_enabled     = false  # never full requests and responses: bodies carry card data
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
  }
}

data "aws_iam_policy_document" "resource_policy" {
  statement {
    sid       = "CallersOfTheseAccounts"
    actions   = ["execute-api:Invoke"]
    resources = ["execute-api:/*"]
    principals {
      type        = "AWS"
      identifiers = local.caller_roots
    }
  }
  dynamic "statement" {
    for_each = length(local.open_routes) > 0 ? [1] : []
    content {
      sid       = "CallersThatSignTheirOwnWay"
      actions   = ["execute-api:Invoke"]
      resources = local.open_routes
      principals {
        type        = "*"
        identifiers = ["*"]
      }
    }
  }
  # An explicit deny: another account's principal is refused at the edge even if its own IAM allows it.
  statement {
    sid     = "NoOtherAccounts"
    effect  = "Deny"
    actions = ["execute-api:Invoke"]
    # Every route when none is open (the contract's routes are all AWS_IAM since Stripe's webhook has its own URL).
    resources     = length(local.open_routes) > 0 ? null : ["execute-api:/*"]
    not_resources = length(local.open_routes) > 0 ? local.open_routes : null
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "StringNotEquals"
      variable = "aws:PrincipalAccount"
      values   = concat([local.account], var.cross_account_callers)
    }
  }
}

resource "aws_api_gateway_rest_api_policy" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  policy      = data.aws_iam_policy_document.resource_policy.json
}

# Both logs reach Dynatrace as the functions' do: one ingestion path (the logs Firehose).
resource "aws_cloudwatch_log_subscription_filter" "to_dynatrace" {
  for_each = {
    access    = aws_cloudwatch_log_group.access.name
    execution = aws_cloudwatch_log_group.execution.name
  }
  name            = "${var.name}-${each.key}-to-dynatrace"
  log_group_name  = each.value
  filter_pattern  = ""
  destination_arn = var.firehose_arn
  role_arn        = var.logs_to_firehose_role_arn
}

output "id" {
  value = aws_api_gateway_rest_api.this.id
}

output "execution_arn" {
  value = aws_api_gateway_rest_api.this.execution_arn
}

output "invoke_url" {
  value = aws_api_gateway_stage.this.invoke_url
}

output "stage_name" {
  value = aws_api_gateway_stage.this.stage_name
}

output "access_log_group" {
  value = aws_cloudwatch_log_group.access.name
}

output "execution_log_group" {
  value = aws_cloudwatch_log_group.execution.name
}
