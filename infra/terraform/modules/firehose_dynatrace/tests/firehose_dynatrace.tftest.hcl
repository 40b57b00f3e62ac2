mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

run "the_seed_settings" {
  command = plan

  variables {
    dynatrace_endpoint_url = "https://abc.live.dynatrace.com/api/v2/logs/ingest/aws_firehose"
    dynatrace_access_key   = "dt0c01.secret"
    kms_key_arn            = "arn:aws:kms:eu-west-1:123456789012:key/k"
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.destination == "http_endpoint"
    error_message = "http_endpoint destination"
  }
  assert {
    condition = (aws_kinesis_firehose_delivery_stream.this.http_endpoint_configuration[0].retry_duration == 900
      && aws_kinesis_firehose_delivery_stream.this.http_endpoint_configuration[0].buffering_size == 1
      && aws_kinesis_firehose_delivery_stream.this.http_endpoint_configuration[0].buffering_interval == 60
      && aws_kinesis_firehose_delivery_stream.this.http_endpoint_configuration[0].s3_backup_mode == "FailedDataOnly"
    && aws_kinesis_firehose_delivery_stream.this.http_endpoint_configuration[0].request_configuration[0].content_encoding == "GZIP")
    error_message = "GZIP, retry 900 s, 1 MiB / 60 s, failed data only"
  }
}

run "only_this_accounts_streams_assume_the_role_and_the_backup_bucket_refuses_plain_http" {
  command = plan

  variables {
    dynatrace_endpoint_url = "https://abc.live.dynatrace.com/api/v2/logs/ingest/aws_firehose"
    dynatrace_access_key   = "dt0c01.secret"
    kms_key_arn            = "arn:aws:kms:eu-west-1:123456789012:key/k"
  }

  assert {
    condition = jsonencode(data.aws_iam_policy_document.firehose_assume.statement[0].condition) == jsonencode([
      { test = "StringEquals", variable = "sts:ExternalId", values = [data.aws_caller_identity.current.account_id] }
    ])
    error_message = "Firehose assumes the role only for a stream of this account (external id = account id)"
  }
  assert {
    condition = jsonencode([for s in data.aws_iam_policy_document.backup_tls_only.statement : [s.effect, s.actions, s.condition]]) == jsonencode([
      ["Deny", ["s3:*"], [{ test = "Bool", variable = "aws:SecureTransport", values = ["false"] }]]
    ])
    error_message = "the backup bucket denies every request made without TLS"
  }
}

run "delivery_errors_are_logged_and_the_writer_is_who_the_stream_serves" {
  command = plan

  variables {
    dynatrace_endpoint_url = "https://aws.cloud.dynatrace.com/metrics"
    dynatrace_access_key   = "dt0c01.secret"
    kms_key_arn            = "arn:aws:kms:eu-west-1:123456789012:key/k"
    writer                 = "metric_stream"
    common_attributes      = { "dt-url" = "https://abc.live.dynatrace.com" }
  }

  assert {
    condition = (aws_kinesis_firehose_delivery_stream.this.http_endpoint_configuration[0].cloudwatch_logging_options[0].enabled
      && aws_kinesis_firehose_delivery_stream.this.http_endpoint_configuration[0].cloudwatch_logging_options[0].log_group_name == "/aws/kinesisfirehose/payments-logs-to-dynatrace"
      && aws_kinesis_firehose_delivery_stream.this.http_endpoint_configuration[0].cloudwatch_logging_options[0].log_stream_name == "DestinationDelivery"
    && aws_kinesis_firehose_delivery_stream.this.http_endpoint_configuration[0].s3_configuration[0].cloudwatch_logging_options[0].log_stream_name == "BackupDelivery")
    error_message = "delivery and backup errors go to the stream's own log group"
  }
  assert {
    condition     = aws_cloudwatch_log_group.delivery_errors.kms_key_id == "arn:aws:kms:eu-west-1:123456789012:key/k"
    error_message = "the delivery errors are encrypted with the platform key"
  }
  assert {
    condition     = jsonencode(aws_kinesis_firehose_delivery_stream.this.http_endpoint_configuration[0].request_configuration[0].common_attributes) == jsonencode([{ name = "dt-url", value = "https://abc.live.dynatrace.com" }])
    error_message = "common attributes are sent with every request"
  }
  assert {
    condition     = [for p in data.aws_iam_policy_document.logs_assume.statement[0].principals : p.identifiers] == [toset(["streams.metrics.cloudwatch.amazonaws.com"])]
    error_message = "a metric stream's Firehose is written by CloudWatch metric streams, not by CloudWatch Logs"
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.firehose.statement : s.actions if s.sid == "DeliveryErrors"]) == toset(["logs:PutLogEvents"])
    error_message = "Firehose may write its delivery errors"
  }
}

run "an_unknown_writer_is_refused" {
  command = plan

  variables {
    dynatrace_endpoint_url = "https://abc.live.dynatrace.com/api/v2/logs/ingest/aws_firehose"
    dynatrace_access_key   = "dt0c01.secret"
    kms_key_arn            = "arn:aws:kms:eu-west-1:123456789012:key/k"
    writer                 = "sns"
  }

  expect_failures = [var.writer]
}
