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
    condition     = aws_lambda_permission.api.qualifier == "live"
    error_message = "API Gateway may invoke the alias (the published version), not $LATEST"
  }
  assert {
    condition     = aws_apigatewayv2_integration.this.payload_format_version == "1.0"
    error_message = "payload format 1.0 (REST proxy events)"
  }
}
