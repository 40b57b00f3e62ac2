# API Gateway may invoke a function through the routes it serves, and only those: one permission per route (not
# through whatever route a later change adds to the shared API). The routes themselves are the platform's REST
# API (modules/rest_api, from contracts/api_routes.json).

variable "api_execution_arn" {
  description = "The platform's REST API execution ARN."
  type        = string
}

variable "stage_name" {
  description = "The stage that serves the routes (the platform's api_stage output)."
  type        = string
}

variable "function_name" {
  type = string
}

variable "function_qualifier" {
  description = "The alias API Gateway invokes (lambda_service's alias_name)."
  type        = string
}

variable "routes" {
  description = "The function's route keys, e.g. [\"POST /payments\", \"GET /payments/{payment_order_id}\"]."
  type        = list(string)
  validation {
    condition     = alltrue([for r in var.routes : can(regex("^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/[A-Za-z0-9._{}-]+)+$", r))])
    error_message = "A route is \"<METHOD> /path\"."
  }
}

# Source ARN: <execution arn>/<stage>/<METHOD>/<path> ("Control access for invoking an API"); a path parameter
# matches any value.
locals {
  # "GET /payments/{payment_order_id}" → "GET/payments/*"
  invoke_paths = { for route in var.routes : route => replace(replace(route, " /", "/"), "/\\{[^}]+\\}/", "*") }
}

resource "aws_lambda_permission" "api" {
  for_each      = local.invoke_paths
  statement_id  = "RestApi${replace(title(replace(each.key, "/[^A-Za-z0-9]+/", " ")), " ", "")}" # an IAM Sid: [A-Za-z0-9]
  action        = "lambda:InvokeFunction"
  function_name = var.function_name
  qualifier     = var.function_qualifier
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${var.api_execution_arn}/${var.stage_name}/${each.value}"
}

output "source_arns" {
  value = { for route, p in aws_lambda_permission.api : route => p.source_arn }
}
