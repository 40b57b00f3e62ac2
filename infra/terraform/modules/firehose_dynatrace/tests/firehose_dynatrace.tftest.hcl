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
