mock_provider "aws" {}

run "iam_authorized_routes" {
  command = plan

  variables {
    api_id              = "api123"
    api_execution_arn   = "arn:aws:execute-api:eu-west-1:123456789012:api123"
    function_name       = "initializer-api"
    function_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/x:live/invocations"
    function_qualifier  = "live"
    routes              = ["POST /payments", "GET /payments/{payment_order_id}"]
  }

  assert {
    condition     = alltrue([for r in aws_apigatewayv2_route.this : r.authorization_type == "AWS_IAM"])
    error_message = "every route requires IAM auth"
  }
  assert {
    condition     = alltrue([for p in aws_lambda_permission.api : p.qualifier == "live"])
    error_message = "API Gateway may invoke the alias (the published version), not $LATEST"
  }
  assert {
    condition = { for route, p in aws_lambda_permission.api : route => p.source_arn } == {
      "POST /payments"                   = "arn:aws:execute-api:eu-west-1:123456789012:api123/*/POST/payments"
      "GET /payments/{payment_order_id}" = "arn:aws:execute-api:eu-west-1:123456789012:api123/*/GET/payments/*"
    }
    error_message = "one invoke permission per route, its source ARN naming that route (path parameters as *)"
  }
  assert {
    condition     = length(distinct([for p in aws_lambda_permission.api : p.statement_id])) == 2
    error_message = "each route's permission has its own statement id"
  }
  assert {
    condition     = aws_apigatewayv2_integration.this.payload_format_version == "1.0"
    error_message = "payload format 1.0 (REST proxy events)"
  }
}

run "any_method_and_default_route" {
  command = plan

  variables {
    api_id              = "api123"
    api_execution_arn   = "arn:aws:execute-api:eu-west-1:123456789012:api123"
    function_name       = "fn"
    function_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/x:live/invocations"
    function_qualifier  = "live"
    routes              = ["ANY /books/{proxy+}", "$default"]
  }

  assert {
    condition     = aws_lambda_permission.api["ANY /books/{proxy+}"].source_arn == "arn:aws:execute-api:eu-west-1:123456789012:api123/*/*/books/*"
    error_message = "ANY: any method; a greedy path parameter: any path below"
  }
  assert {
    condition     = aws_lambda_permission.api["$default"].source_arn == "arn:aws:execute-api:eu-west-1:123456789012:api123/*/$default"
    error_message = "the default route's ARN ends in $default"
  }
}

run "a_route_a_caller_signs_its_own_way" {
  command = plan

  variables {
    api_id              = "api123"
    api_execution_arn   = "arn:aws:execute-api:eu-west-1:123456789012:api123"
    function_name       = "finalizer-webhook"
    function_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/x:live/invocations"
    function_qualifier  = "live"
    routes              = ["POST /webhooks/stripe"]
    authorization_type  = "NONE"
  }

  assert {
    condition     = aws_apigatewayv2_route.signed_by_caller["POST /webhooks/stripe"].authorization_type == "NONE" && length(aws_apigatewayv2_route.this) == 0
    error_message = "Stripe signs its webhooks itself: no IAM on that route"
  }
}

run "no_other_authorization" {
  command = plan

  variables {
    api_id              = "api123"
    api_execution_arn   = "arn:aws:execute-api:eu-west-1:123456789012:api123"
    function_name       = "fn"
    function_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/x:live/invocations"
    function_qualifier  = "live"
    routes              = ["POST /x"]
    authorization_type  = "JWT"
  }

  expect_failures = [var.authorization_type]
}
