mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
  mock_resource "aws_kinesis_firehose_delivery_stream" {
    defaults = { arn = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/payments-metrics-to-dynatrace" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::payments-metrics-to-dynatrace-failed-1" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesisfirehose/payments-metrics-to-dynatrace" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/payments-metrics-to-dynatrace-logs-to-firehose" }
  }
}

variables {
  dynatrace_api_url    = "https://abc12345.live.dynatrace.com"
  dynatrace_access_key = "dt0c01.metrics"
  kms_key_arn          = "arn:aws:kms:eu-west-1:123456789012:key/k"
}

run "the_dashboards_namespaces_and_percentiles_go_to_dynatraces_metric_streams_ingest" {
  command = apply

  assert {
    condition     = aws_cloudwatch_metric_stream.this.output_format == "opentelemetry1.0"
    error_message = "OpenTelemetry 1.0, as Dynatrace's guide sets it"
  }
  assert {
    condition = toset([for f in aws_cloudwatch_metric_stream.this.include_filter : f.namespace]) == toset(
    ["AWS/Lambda", "AWS/ApiGateway", "AWS/Events", "AWS/DynamoDB", "AWS/SQS", "AWS/Firehose", "Payments"])
    error_message = "the namespaces the dashboards read, and only those"
  }
  assert {
    condition     = one(aws_cloudwatch_metric_stream.this.statistics_configuration).additional_statistics == toset(["p50", "p90", "p95", "p99"])
    error_message = "the percentiles the latency tiles chart"
  }
  assert {
    condition = contains([for m in one(aws_cloudwatch_metric_stream.this.statistics_configuration).include_metric : "${m.namespace}/${m.metric_name}"], "AWS/ApiGateway/Latency") && contains(
    [for m in one(aws_cloudwatch_metric_stream.this.statistics_configuration).include_metric : "${m.namespace}/${m.metric_name}"], "AWS/Lambda/Duration")
    error_message = "API latency and Lambda duration percentiles are streamed"
  }
  assert {
    condition     = module.firehose.firehose_name == "payments-metrics-to-dynatrace"
    error_message = "its own Firehose"
  }
  assert {
    condition     = aws_cloudwatch_metric_stream.this.firehose_arn == "arn:aws:firehose:eu-west-1:123456789012:deliverystream/payments-metrics-to-dynatrace"
    error_message = "the stream writes into its Firehose"
  }
}

run "a_percentile_of_a_namespace_not_streamed_is_refused" {
  command = plan
  variables {
    percentile_metrics = ["AWS/Kinesis/GetRecords.Latency"]
  }
  expect_failures = [aws_cloudwatch_metric_stream.this]
}

run "only_percentiles_can_be_streamed_in_opentelemetry" {
  command = plan
  variables {
    percentiles = ["p99", "Average"]
  }
  expect_failures = [var.percentiles]
}
