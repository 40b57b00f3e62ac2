variable "name" {
  type    = string
  default = "payments"
}

variable "region" {
  type = string
}

# A REST API's CloudWatch metrics carry ApiName and Stage (and Resource, Method with detailed metrics), never ApiId.
variable "api_name" {
  type    = string
  default = "payments"
}

variable "stage" {
  type    = string
  default = "prod"
}

variable "api_function_names" {
  description = "The functions the API integrates: their invocations are what the API's requests should become."
  type        = list(string)
  default     = ["initializer-api", "wallet-api", "ledger-api", "notifier-api"]
  validation {
    condition     = length(var.api_function_names) > 0
    error_message = "The API integrates at least one function."
  }
}

variable "function_urls" {
  description = "Functions with a URL of their own (contracts/function_urls.json: Stripe's webhook), each with the alias its URL invokes: their Url* metrics, not API Gateway's."
  type        = list(object({ function = string, qualifier = string }))
  default     = [{ function = "finalizer-webhook", qualifier = "live" }]
}

variable "function_names" {
  type = list(string)
}

variable "table_names" {
  type = list(string)
}

variable "event_bus_name" {
  type = string
}

variable "rule_names" {
  type    = list(string)
  default = []
}

variable "dlq_names" {
  type    = list(string)
  default = []
}

locals {
  api = ["ApiName", var.api_name, "Stage", var.stage]
  lambda_metric = { for m in ["Errors", "Duration", "ConcurrentExecutions", "Invocations", "Throttles"] :
    m => [for f in var.function_names : ["AWS/Lambda", m, "FunctionName", f]]
  }
  dynamodb_operations = ["GetItem", "PutItem", "UpdateItem", "Query", "TransactWriteItems"]
  # The seed's gap: requests API Gateway answered itself (IAM 403s, throttling, unknown routes) never reach a
  # function. Metric math: requests minus the sum of the API functions' invocations.
  invocation_ids = [for i, f in var.api_function_names : "inv${i}"]
  requests_vs_invocations = concat(
    [concat(["AWS/ApiGateway", "Count"], local.api, [{ id = "requests", label = "API requests" }])],
    [for i, f in var.api_function_names : ["AWS/Lambda", "Invocations", "FunctionName", f, { id = local.invocation_ids[i], visible = false }]],
    [
      [{ id = "invocations", expression = "SUM([${join(", ", local.invocation_ids)}])", label = "Lambda invocations (API functions)" }],
      [{ id = "gap", expression = "requests - invocations", label = "requests without an invocation" }],
    ],
  )
  # A function URL's metrics: FunctionName and Resource <function>:<alias> (docs: "Monitoring Lambda function URLs").
  url_metric = { for m in ["UrlRequestCount", "Url4xxCount", "Url5xxCount", "UrlRequestLatency"] :
    m => [for u in var.function_urls : ["AWS/Lambda", m, "FunctionName", u.function, "Resource", "${u.function}:${u.qualifier}"]]
  }
  widgets = [
    { title = "API requests, 4xx, 5xx", metrics = [
      concat(["AWS/ApiGateway", "Count"], local.api),
      concat(["AWS/ApiGateway", "4XXError"], local.api),
      concat(["AWS/ApiGateway", "5XXError"], local.api),
    ], stat = "Sum" },
    { title = "API latency vs integration latency (p99)", metrics = [
      concat(["AWS/ApiGateway", "Latency"], local.api),
      concat(["AWS/ApiGateway", "IntegrationLatency"], local.api),
    ], stat = "p99" },
    { title = "API requests vs Lambda invocations (API functions)", metrics = local.requests_vs_invocations, stat = "Sum" },
    { title = "Function URLs (Stripe's webhook): requests, 4xx, 5xx", metrics = concat(
      local.url_metric["UrlRequestCount"], local.url_metric["Url4xxCount"], local.url_metric["Url5xxCount"],
    ), stat = "Sum" },
    { title = "Function URLs: latency (p99)", metrics = local.url_metric["UrlRequestLatency"], stat = "p99" },
    { title = "Lambda errors", metrics = local.lambda_metric["Errors"], stat = "Sum" },
    { title = "Lambda duration (p99)", metrics = local.lambda_metric["Duration"], stat = "p99" },
    { title = "Lambda concurrency", metrics = local.lambda_metric["ConcurrentExecutions"], stat = "Maximum" },
    { title = "Lambda invocations", metrics = local.lambda_metric["Invocations"], stat = "Sum" },
    { title = "Lambda throttles", metrics = local.lambda_metric["Throttles"], stat = "Sum" },
    { title = "Cold starts (EMF)", metrics = [for f in var.function_names : ["Payments", "ColdStart", "function_name", f, "service", split("-", f)[0]]], stat = "Sum" },
    { title = "EventBridge PutEvents latency", metrics = [["AWS/Events", "PutEventsLatency"]], stat = "p99" },
    { title = "EventBridge failed invocations", metrics = [for r in var.rule_names : ["AWS/Events", "FailedInvocations", "RuleName", r, "EventBusName", var.event_bus_name]], stat = "Sum" },
    { title = "EventBridge successful invocation attempts", metrics = [for r in var.rule_names : ["AWS/Events", "SuccessfulInvocationAttempts", "RuleName", r, "EventBusName", var.event_bus_name]], stat = "Sum" },
    { title = "DLQ depth", metrics = [for q in var.dlq_names : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q]], stat = "Maximum" },
    { title = "DynamoDB consumed capacity", metrics = [
      for pair in setproduct(var.table_names, ["ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"]) :
      ["AWS/DynamoDB", pair[1], "TableName", pair[0]]
    ], stat = "Sum" },
    { title = "DynamoDB throttles", metrics = [for t in var.table_names : ["AWS/DynamoDB", "ThrottledRequests", "TableName", t]], stat = "Sum" },
    # Published per (TableName, Operation) only: one series per table and operation the services call.
    { title = "DynamoDB successful request latency per table", metrics = [
      for pair in setproduct(var.table_names, local.dynamodb_operations) :
      ["AWS/DynamoDB", "SuccessfulRequestLatency", "TableName", pair[0], "Operation", pair[1]]
    ], stat = "Average" },
    { title = "Payments (EMF)", metrics = [
      ["Payments", "PaymentsInitiated", "service", "initializer"],
      ["Payments", "PaymentsSucceeded", "service", "finalizer"],
      ["Payments", "PaymentsFailed", "service", "finalizer"],
    ], stat = "Sum" },
    { title = "PSP latency (EMF, p99)", metrics = [["Payments", "PspLatency", "service", "finalizer"]], stat = "p99" },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [for i, w in local.widgets : {
      type   = "metric"
      x      = (i % 3) * 8
      y      = floor(i / 3) * 6
      width  = 8
      height = 6
      properties = {
        title   = w.title
        region  = var.region
        metrics = w.metrics
        stat    = w.stat
        period  = 60
        view    = "timeSeries"
      }
    }]
  })
}

output "dashboard_name" {
  value = aws_cloudwatch_dashboard.this.dashboard_name
}

output "widget_metrics" {
  description = "Every (namespace, metric) the dashboard plots, for tests."
  value       = distinct(flatten([for w in local.widgets : [for m in w.metrics : "${m[0]}/${m[1]}" if can(tostring(m[0]))]]))
}
