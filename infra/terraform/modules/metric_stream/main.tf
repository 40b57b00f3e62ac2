# AWS metrics to Dynatrace: a CloudWatch metric stream → Firehose → Dynatrace's metric streams ingest, set up as
# Dynatrace's "CloudWatch Metric Streams" guide says (OpenTelemetry 1.0, GZIP, retry 900 s, 3 MiB / 60 s, failed
# data backed up to S3, the dt-url common attribute). Cost: CloudWatch bills $0.003 per 1,000 metric updates
# (each additional statistic counts as one more update), plus Firehose ingestion (docs/infra.md).

variable "name" {
  type    = string
  default = "payments-metrics-to-dynatrace"
}

variable "dynatrace_api_url" {
  description = "The environment's API URL, e.g. https://<environment-id>.live.dynatrace.com (sent as dt-url)."
  type        = string
}

variable "delivery_endpoint" {
  description = "Dynatrace's metric streams endpoint: Global, US (us.aws.cloud.dynatrace.com) or EU (eu.aws.cloud.dynatrace.com)."
  type        = string
  default     = "https://aws.cloud.dynatrace.com/metrics"
}

variable "dynatrace_access_key" {
  description = "Dynatrace API token with the Ingest metrics (metrics.ingest) scope; the root reads it from SSM."
  type        = string
  sensitive   = true
}

variable "kms_key_arn" {
  type = string
}

variable "namespaces" {
  description = "The namespaces the dashboards and alarms read; nothing else is streamed (each update is billed)."
  type        = list(string)
  default     = ["AWS/Lambda", "AWS/ApiGateway", "AWS/Events", "AWS/DynamoDB", "AWS/SQS", "AWS/Firehose", "Payments"]
}

variable "percentile_metrics" {
  description = "Metrics whose percentiles the dashboards chart, as namespace/metric name."
  type        = list(string)
  default = [
    "AWS/Lambda/Duration",
    "AWS/ApiGateway/Latency",
    "AWS/ApiGateway/IntegrationLatency",
    "AWS/Events/PutEventsLatency",
    "AWS/DynamoDB/SuccessfulRequestLatency",
    "Payments/PspLatency",
    "Payments/TimeToFinalStatus",
  ]
}

variable "percentiles" {
  type    = list(string)
  default = ["p50", "p90", "p95", "p99"]
  validation {
    # OpenTelemetry formats carry percentiles only (PutMetricStream: StatisticsConfigurations).
    condition     = alltrue([for p in var.percentiles : can(regex("^p[0-9]+(\\.[0-9]+)?$", p))])
    error_message = "Only percentile statistics (pNN) can be streamed in OpenTelemetry format."
  }
}

variable "tags" {
  type    = map(string)
  default = {}
}

module "firehose" {
  source                 = "../firehose_dynatrace"
  name                   = var.name
  writer                 = "metric_stream"
  dynatrace_endpoint_url = var.delivery_endpoint
  dynatrace_access_key   = var.dynatrace_access_key
  kms_key_arn            = var.kms_key_arn
  buffering_size         = 3
  common_attributes      = { "dt-url" = var.dynatrace_api_url, "require-valid-certificate" = "true" }
  tags                   = var.tags
}

locals {
  # "AWS/ApiGateway/Latency" → namespace "AWS/ApiGateway", metric "Latency"
  percentile_metrics = [for m in var.percentile_metrics : {
    namespace   = join("/", slice(split("/", m), 0, length(split("/", m)) - 1))
    metric_name = element(split("/", m), length(split("/", m)) - 1)
  }]
}

resource "aws_cloudwatch_metric_stream" "this" {
  name          = var.name
  role_arn      = module.firehose.logs_to_firehose_role_arn
  firehose_arn  = module.firehose.firehose_arn
  output_format = "opentelemetry1.0"
  tags          = var.tags

  dynamic "include_filter" {
    for_each = var.namespaces
    content {
      namespace = include_filter.value
    }
  }

  statistics_configuration {
    additional_statistics = var.percentiles
    dynamic "include_metric" {
      for_each = local.percentile_metrics
      content {
        namespace   = include_metric.value.namespace
        metric_name = include_metric.value.metric_name
      }
    }
  }

  lifecycle {
    precondition {
      condition     = alltrue([for m in local.percentile_metrics : contains(var.namespaces, m.namespace)])
      error_message = "A metric whose percentiles are streamed must be in a streamed namespace."
    }
  }
}

output "metric_stream_name" {
  value = aws_cloudwatch_metric_stream.this.name
}

output "firehose_name" {
  value = module.firehose.firehose_name
}

output "delivery_errors_log_group" {
  value = module.firehose.delivery_errors_log_group
}
