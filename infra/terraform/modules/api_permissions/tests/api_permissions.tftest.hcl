mock_provider "aws" {}

variables {
  api_execution_arn  = "arn:aws:execute-api:eu-west-1:123456789012:api123"
  stage_name         = "prod"
  function_name      = "initializer-api"
  function_qualifier = "live"
  routes             = ["POST /payments", "GET /payments/{payment_order_id}"]
}

run "one_permission_per_route_on_the_stage_for_the_alias" {
  command = plan

  assert {
    condition     = alltrue([for p in aws_lambda_permission.api : p.qualifier == "live"])
    error_message = "API Gateway may invoke the alias (the published version), not $LATEST"
  }
  assert {
    condition = { for route, p in aws_lambda_permission.api : route => p.source_arn } == {
      "POST /payments"                   = "arn:aws:execute-api:eu-west-1:123456789012:api123/prod/POST/payments"
      "GET /payments/{payment_order_id}" = "arn:aws:execute-api:eu-west-1:123456789012:api123/prod/GET/payments/*"
    }
    error_message = "one invoke permission per route, its source ARN naming the stage and that route (path parameters as *)"
  }
  assert {
    condition     = length(distinct([for p in aws_lambda_permission.api : p.statement_id])) == 2
    error_message = "each route's permission has its own statement id"
  }
}

run "a_route_is_a_method_and_a_path" {
  command = plan
  variables {
    routes = ["$default"]
  }
  expect_failures = [var.routes]
}
