mock_provider "aws" {}

variables {
  region         = "eu-west-1"
  function_names = ["initializer-api", "finalizer", "wallet-api"]
  table_names    = ["initializer-events", "ShowMeTheMoney"]
  event_bus_name = "payments"
  rule_names     = ["finalizer", "ledger"]
  dlq_names      = ["finalizer-dlq"]
}

run "seed_metrics" {
  command = plan

  assert {
    condition = alltrue([for m in ["AWS/ApiGateway/Count", "AWS/ApiGateway/4XXError", "AWS/ApiGateway/5XXError", "AWS/ApiGateway/IntegrationLatency",
      "AWS/Lambda/Errors", "AWS/Lambda/ConcurrentExecutions", "AWS/Lambda/Throttles", "AWS/Events/PutEventsLatency", "AWS/Events/FailedInvocations",
      "AWS/Events/SuccessfulInvocationAttempts", "AWS/DynamoDB/ThrottledRequests", "AWS/DynamoDB/ConsumedWriteCapacityUnits",
    "AWS/DynamoDB/SuccessfulRequestLatency", "AWS/SQS/ApproximateNumberOfMessagesVisible"] : contains(output.widget_metrics, m)])
    error_message = "the seed's key metrics are plotted, EventBridge's successful invocation attempts and DynamoDB's latency among them"
  }

  # An HTTP API's metric names (4xx, 5xx) do not exist for a REST API.
  assert {
    condition     = !contains(output.widget_metrics, "AWS/ApiGateway/4xx") && !contains(output.widget_metrics, "AWS/ApiGateway/5xx")
    error_message = "a REST API publishes 4XXError and 5XXError"
  }
}

run "rest_api_dimensions" {
  command = plan

  variables {
    api_name = "payments"
    stage    = "prod"
  }

  assert {
    condition = alltrue(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [
        for m in w.properties.metrics : slice(m, 2, 6) == ["ApiName", "payments", "Stage", "prod"] if m[0] == "AWS/ApiGateway"
      ]
    ]))
    error_message = "every API Gateway metric is selected by ApiName and Stage, as a REST API publishes them"
  }

  assert {
    condition     = !strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "ApiId")
    error_message = "a REST API's metrics carry no ApiId dimension"
  }
}

run "requests_vs_invocations" {
  command = plan

  variables {
    api_function_names = ["initializer-api", "wallet-api"]
  }

  assert {
    condition = [
      for m in one([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.metrics if w.properties.title == "API requests vs Lambda invocations (API functions)"]) :
      m[3] if m[0] == "AWS/Lambda"
    ] == ["initializer-api", "wallet-api"]
    error_message = "the invocations side sums exactly the API's functions, not every function"
  }

  assert {
    condition = [
      for m in one([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.metrics if w.properties.title == "API requests vs Lambda invocations (API functions)"]) :
      m[0].expression if length(m) == 1
    ] == ["SUM([inv0, inv1])", "requests - invocations"]
    error_message = "the widget sums the API functions' invocations and plots the gap against the API's requests"
  }
}

run "latency_per_table" {
  command = plan

  assert {
    condition = toset([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [
        for m in w.properties.metrics : m[3] if m[1] == "SuccessfulRequestLatency"
      ] if w.properties.title == "DynamoDB successful request latency per table"
    ][0]) == toset(["initializer-events", "ShowMeTheMoney"])
    error_message = "every table has its successful request latency"
  }
}

run "function_url_metrics" {
  command = plan

  assert {
    condition = alltrue([for m in ["AWS/Lambda/UrlRequestCount", "AWS/Lambda/Url4xxCount", "AWS/Lambda/Url5xxCount", "AWS/Lambda/UrlRequestLatency"] :
    contains(output.widget_metrics, m)])
    error_message = "Stripe's webhook URL has its requests, 4xx, 5xx and latency plotted"
  }
  assert {
    condition = alltrue(flatten([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [
        for m in w.properties.metrics : slice(m, 2, 6) == ["FunctionName", "finalizer-webhook", "Resource", "finalizer-webhook:live"] if try(startswith(m[1], "Url"), false)
      ]
    ]))
    error_message = "a function URL's metrics are selected by FunctionName and Resource <function>:<alias>"
  }
}

run "an_api_without_functions_is_refused" {
  command = plan

  variables {
    api_function_names = []
  }

  expect_failures = [var.api_function_names]
}
