mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:api" }
  }
  mock_resource "aws_api_gateway_rest_api" {
    defaults = { id = "api123", root_resource_id = "root", execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:api123" }
  }
}

variables {
  kms_key_arn               = "arn:aws:kms:eu-west-1:123456789012:key/k"
  firehose_arn              = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/payments-logs-to-dynatrace"
  logs_to_firehose_role_arn = "arn:aws:iam::123456789012:role/logs-to-firehose"
  routes = [
    { method = "POST", path = "/payments", function = "initializer-api", authorization = "AWS_IAM" },
    { method = "GET", path = "/payments/{payment_order_id}", function = "initializer-api", authorization = "AWS_IAM" },
    { method = "POST", path = "/payments/{payment_order_id}/refunds", function = "initializer-api", authorization = "AWS_IAM" },
    { method = "POST", path = "/webhooks/stripe", function = "finalizer-webhook", authorization = "NONE" },
  ]
  cross_account_callers = ["210987654321"]
}

run "every_route_a_resource_method_and_proxy_integration_to_its_functions_alias" {
  command = apply

  assert {
    condition     = keys(aws_api_gateway_resource.depth1) == ["/payments", "/webhooks"] && keys(aws_api_gateway_resource.depth2) == ["/payments/{payment_order_id}", "/webhooks/stripe"] && keys(aws_api_gateway_resource.depth3) == ["/payments/{payment_order_id}/refunds"]
    error_message = "one resource per path segment, shared by the routes below it"
  }
  assert {
    condition     = aws_api_gateway_resource.depth3["/payments/{payment_order_id}/refunds"].path_part == "refunds" && aws_api_gateway_resource.depth2["/payments/{payment_order_id}"].path_part == "{payment_order_id}"
    error_message = "path parts are the last segment"
  }
  assert {
    condition     = { for k, m in aws_api_gateway_method.this : k => m.authorization } == { "POST /payments" = "AWS_IAM", "GET /payments/{payment_order_id}" = "AWS_IAM", "POST /payments/{payment_order_id}/refunds" = "AWS_IAM", "POST /webhooks/stripe" = "NONE" }
    error_message = "IAM on every route but those whose caller signs its own way"
  }
  assert {
    condition     = aws_api_gateway_integration.this["POST /payments"].uri == "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:initializer-api:live/invocations"
    error_message = "each route invokes its function's live alias"
  }
  assert {
    condition     = alltrue([for i in aws_api_gateway_integration.this : i.type == "AWS_PROXY" && i.integration_http_method == "POST"])
    error_message = "Lambda proxy integrations (the REST proxy event the handlers speak)"
  }
}

run "several_methods_on_one_path_share_its_resource" {
  command = apply

  variables {
    routes = [
      { method = "POST", path = "/webhook_endpoints", function = "notifier-api", authorization = "AWS_IAM" },
      { method = "GET", path = "/webhook_endpoints", function = "notifier-api", authorization = "AWS_IAM" },
      { method = "GET", path = "/webhook_endpoints/{endpoint_id}", function = "notifier-api", authorization = "AWS_IAM" },
      { method = "DELETE", path = "/webhook_endpoints/{endpoint_id}", function = "notifier-api", authorization = "AWS_IAM" },
    ]
  }

  assert {
    condition     = keys(aws_api_gateway_resource.depth1) == ["/webhook_endpoints"] && keys(aws_api_gateway_resource.depth2) == ["/webhook_endpoints/{endpoint_id}"]
    error_message = "one resource per path, whatever its methods"
  }
  assert {
    condition     = length(aws_api_gateway_method.this) == 4
    error_message = "a method per route"
  }
}

run "the_prod_stage_as_the_seed_sets_it_up" {
  command = apply

  assert {
    condition     = aws_api_gateway_stage.this.stage_name == "prod"
    error_message = "stage prod"
  }
  assert {
    condition = (one(aws_api_gateway_method_settings.all.settings).logging_level == "INFO"
      && one(aws_api_gateway_method_settings.all.settings).data_trace_enabled == false
    && one(aws_api_gateway_method_settings.all.settings).metrics_enabled == true)
    error_message = "execution logs at INFO, no data trace (card data), detailed metrics"
  }
  assert {
    condition     = aws_api_gateway_method_settings.all.method_path == "*/*"
    error_message = "the settings cover every method"
  }
  assert {
    condition     = contains(keys(jsondecode(one(aws_api_gateway_stage.this.access_log_settings).format)), "errorMessage") && jsondecode(one(aws_api_gateway_stage.this.access_log_settings).format).status == "$context.status"
    error_message = "JSON access logs with the error fields"
  }
  assert {
    condition     = aws_cloudwatch_log_group.execution.name == "API-Gateway-Execution-Logs_api123/prod"
    error_message = "the execution log group is the one API Gateway writes to"
  }
  assert {
    condition     = toset([for f in aws_cloudwatch_log_subscription_filter.to_dynatrace : f.log_group_name]) == toset(["/aws/apigateway/payments-access", "API-Gateway-Execution-Logs_api123/prod"]) && alltrue([for f in aws_cloudwatch_log_subscription_filter.to_dynatrace : f.destination_arn == var.firehose_arn])
    error_message = "access and execution logs both go to the logs Firehose"
  }
}

run "the_resource_policy_keeps_other_accounts_out_but_for_routes_that_sign_their_own_way" {
  command = plan

  assert {
    condition     = one([for s in data.aws_iam_policy_document.resource_policy.statement : s.resources if s.sid == "CallersThatSignTheirOwnWay"]) == toset(["execute-api:/*/POST/webhooks/stripe"])
    error_message = "only the NONE routes are open to any principal"
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.resource_policy.statement : [for p in s.principals : p.identifiers] if s.sid == "CallersOfTheseAccounts"]) == [toset(["arn:aws:iam::123456789012:root", "arn:aws:iam::210987654321:root"])]
    error_message = "this account and the listed ones may call"
  }
  assert {
    condition = jsonencode(one([for s in data.aws_iam_policy_document.resource_policy.statement : {
      effect = s.effect, not_resources = s.not_resources, values = one(s.condition).values, variable = one(s.condition).variable
      } if s.sid == "NoOtherAccounts"])) == jsonencode({
      effect = "Deny", not_resources = ["execute-api:/*/POST/webhooks/stripe"], values = ["123456789012", "210987654321"], variable = "aws:PrincipalAccount"
    })
    error_message = "every other account's principal is denied, on every route but the open ones"
  }
}

run "without_open_routes_every_other_account_is_denied_everywhere" {
  command = plan
  variables {
    routes = [
      { method = "POST", path = "/payments", function = "initializer-api", authorization = "AWS_IAM" },
      { method = "GET", path = "/payments/{payment_order_id}", function = "initializer-api", authorization = "AWS_IAM" },
    ]
  }

  assert {
    condition     = length([for s in data.aws_iam_policy_document.resource_policy.statement : s if s.sid == "CallersThatSignTheirOwnWay"]) == 0
    error_message = "no route open to any principal when every route is AWS_IAM"
  }
  assert {
    condition = jsonencode(one([for s in data.aws_iam_policy_document.resource_policy.statement : {
      resources = s.resources, not_resources = s.not_resources
      } if s.sid == "NoOtherAccounts"])) == jsonencode({
      resources = ["execute-api:/*"], not_resources = null
    })
    error_message = "other accounts are denied on every route"
  }
}

run "a_path_deeper_than_three_segments_is_refused" {
  command = plan
  variables {
    routes = [{ method = "GET", path = "/a/b/c/d", function = "f", authorization = "AWS_IAM" }]
  }
  expect_failures = [var.routes]
}
