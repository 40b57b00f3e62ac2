variable "name" {
  type    = string
  default = "payments"
}

variable "region" {
  type = string
}

variable "api_id" {
  type = string
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
  lambda_metric = { for m in ["Errors", "Duration", "ConcurrentExecutions", "Invocations", "Throttles"] :
    m => [for f in var.function_names : ["AWS/Lambda", m, "FunctionName", f]]
  }
  widgets = [
    { title = "API requests, 4xx, 5xx", metrics = [
      ["AWS/ApiGateway", "Count", "ApiId", var.api_id],
      ["AWS/ApiGateway", "4xx", "ApiId", var.api_id],
      ["AWS/ApiGateway", "5xx", "ApiId", var.api_id],
    ], stat = "Sum" },
    { title = "API latency vs integration latency (p99)", metrics = [
      ["AWS/ApiGateway", "Latency", "ApiId", var.api_id],
      ["AWS/ApiGateway", "IntegrationLatency", "ApiId", var.api_id],
    ], stat = "p99" },
    { title = "Lambda errors", metrics = local.lambda_metric["Errors"], stat = "Sum" },
    { title = "Lambda duration (p99)", metrics = local.lambda_metric["Duration"], stat = "p99" },
    { title = "Lambda concurrency", metrics = local.lambda_metric["ConcurrentExecutions"], stat = "Maximum" },
    { title = "Lambda invocations", metrics = local.lambda_metric["Invocations"], stat = "Sum" },
    { title = "Lambda throttles", metrics = local.lambda_metric["Throttles"], stat = "Sum" },
    { title = "Cold starts (EMF)", metrics = [for f in var.function_names : ["Payments", "ColdStart", "function_name", f, "service", split("-", f)[0]]], stat = "Sum" },
    { title = "EventBridge PutEvents latency", metrics = [["AWS/Events", "PutEventsLatency"]], stat = "p99" },
    { title = "EventBridge failed invocations", metrics = [for r in var.rule_names : ["AWS/Events", "FailedInvocations", "RuleName", r, "EventBusName", var.event_bus_name]], stat = "Sum" },
    { title = "DLQ depth", metrics = [for q in var.dlq_names : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q]], stat = "Maximum" },
    { title = "DynamoDB consumed capacity", metrics = [
      for pair in setproduct(var.table_names, ["ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"]) :
      ["AWS/DynamoDB", pair[1], "TableName", pair[0]]
    ], stat = "Sum" },
    { title = "DynamoDB throttles", metrics = [for t in var.table_names : ["AWS/DynamoDB", "ThrottledRequests", "TableName", t]], stat = "Sum" },
    { title = "DynamoDB latency (TransactWriteItems)", metrics = [for t in var.table_names : ["AWS/DynamoDB", "SuccessfulRequestLatency", "TableName", t, "Operation", "TransactWriteItems"]], stat = "Average" },
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
  value       = distinct(flatten([for w in local.widgets : [for m in w.metrics : "${m[0]}/${m[1]}"]]))
}
