mock_provider "aws" {}

run "seed_metrics" {
  command = plan

  variables {
    region         = "eu-west-1"
    api_id         = "api123"
    function_names = ["initializer-api", "finalizer"]
    table_names    = ["initializer-events"]
    event_bus_name = "payments"
    rule_names     = ["finalizer"]
    dlq_names      = ["finalizer-dlq"]
  }

  assert {
    condition = alltrue([for m in ["AWS/ApiGateway/4xx", "AWS/ApiGateway/5xx", "AWS/ApiGateway/IntegrationLatency", "AWS/Lambda/Errors",
      "AWS/Lambda/ConcurrentExecutions", "AWS/Lambda/Throttles", "AWS/Events/PutEventsLatency", "AWS/Events/FailedInvocations",
    "AWS/DynamoDB/ThrottledRequests", "AWS/DynamoDB/ConsumedWriteCapacityUnits", "AWS/SQS/ApproximateNumberOfMessagesVisible"] : contains(output.widget_metrics, m)])
    error_message = "the seed's key metrics are plotted"
  }
}
