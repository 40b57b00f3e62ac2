# The shared platform: event bus (+ archive), KMS key, artifact bucket, Firehoses to Dynatrace (logs, metric
# stream), the REST API.
# State is local by default; for S3 state add `terraform { backend "s3" {} }` in backend.tf and run
# `terraform init -backend-config=bucket=… -backend-config=key=platform.tfstate -backend-config=region=…`.
terraform {
  required_version = ">= 1.7"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.40" }
  }
}

provider "aws" {
  region = var.region
  # Offline tests apply against a local moto server (AWS_ENDPOINT_URL); real accounts leave this false.
  skip_credentials_validation = var.local_endpoint
  skip_metadata_api_check     = var.local_endpoint
  s3_use_path_style           = var.local_endpoint
  default_tags {
    tags = { system = "payments", component = "platform" }
  }
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "local_endpoint" {
  description = "True when AWS_ENDPOINT_URL points at a local emulator (tests)."
  type        = bool
  default     = false
}

variable "bus_name" {
  type    = string
  default = "payments"
}

variable "dynatrace_logs_endpoint_url" {
  description = "Dynatrace log ingest endpoint for Firehose."
  type        = string
  default     = "https://example.live.dynatrace.com/api/v2/logs/ingest/aws_firehose"
}

variable "dynatrace_firehose_key_parameter" {
  description = "SSM SecureString holding the Dynatrace API token used by Firehose (never in code or tfvars)."
  type        = string
  default     = "/payments/dynatrace/firehose-access-key"
}

variable "dynatrace_api_url" {
  description = "The Dynatrace environment's API URL (https://<environment-id>.live.dynatrace.com), sent with the metric stream."
  type        = string
  default     = "https://example.live.dynatrace.com"
}

variable "dynatrace_metric_stream_key_parameter" {
  description = "SSM SecureString holding the Dynatrace API token (Ingest metrics) used by the metric stream's Firehose."
  type        = string
  default     = "/payments/dynatrace/metric-stream-access-key"
}

variable "cross_account_callers" {
  description = "Other accounts whose principals may call the API's IAM routes (the resource policy denies every other account)."
  type        = list(string)
  default     = []
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

data "aws_ssm_parameter" "dynatrace_firehose_key" {
  name            = var.dynatrace_firehose_key_parameter
  with_decryption = true
}

data "aws_iam_policy_document" "key_policy" {
  # checkov:skip=CKV_AWS_111:A key policy's Resource "*" is this key alone.
  # checkov:skip=CKV_AWS_356:A key policy's Resource "*" is this key alone.
  # checkov:skip=CKV_AWS_109:A key policy's Resource "*" is this key alone; the account administers its key.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy "*" means this key
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
  # CloudWatch Logs encrypts the log groups (functions', API access) with this key. AWS ("Encrypt log data in
  # CloudWatch Logs using AWS KMS") binds each use to the log group ARN in the encryption context: the key
  # then serves only this account's log groups, whoever asks CloudWatch Logs. kms:DescribeKey is left out:
  # it carries no encryption context, so under this condition it could never be allowed.
  statement {
    sid       = "CloudWatchLogsEncryptsThisAccountsLogGroups"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.name}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:aws:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:*"]
    }
  }
  # The consumers' queues (event_subscription) are encrypted with this key and EventBridge sends to them as
  # itself, so it needs the key (EventBridge troubleshooting: "events are not delivered to the target SQS
  # queue"). Only for rules of this account's bus: AWS's confused-deputy guidance for rule targets.
  # No grant to sqs.amazonaws.com: SQS uses the key with its callers' permissions (the functions' roles,
  # EventBridge above), per the SQS "Key management" page.
  statement {
    sid       = "EventBridgeSendsToEncryptedQueues"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:aws:events:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:rule/${var.bus_name}/*"]
    }
  }
  # CloudWatch alarms publish to the encrypted alarm topic as themselves (SNS "Enable compatibility between
  # event sources from AWS services and encrypted topics"): only this account's alarms.
  statement {
    sid       = "CloudWatchAlarmsPublishToTheEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_kms_key" "platform" {
  description         = "payments platform: tables, queues, logs, Lambda environments"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key_policy.json
}

resource "aws_kms_alias" "platform" {
  name          = "alias/payments-platform"
  target_key_id = aws_kms_key.platform.key_id
}

resource "aws_cloudwatch_event_bus" "this" {
  name = var.bus_name
}

resource "aws_cloudwatch_event_archive" "this" {
  name             = "${var.bus_name}-archive"
  event_source_arn = aws_cloudwatch_event_bus.this.arn
  retention_days   = 30
}

resource "aws_s3_bucket" "artifacts" {
  bucket_prefix = "payments-artifacts-"
  # checkov:skip=CKV_AWS_144:Artifacts are rebuilt from source; cross-region replication is not needed.
  # checkov:skip=CKV_AWS_18:Access logging of the artifact bucket is covered by CloudTrail data events.
  # checkov:skip=CKV2_AWS_62:Nothing consumes events of this bucket.
  # checkov:skip=CKV2_AWS_61:Versions are the deploy history; none expire.
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Deploys read and write artifacts over TLS only; S3 otherwise also accepts plain HTTP.
data "aws_iam_policy_document" "artifacts_tls_only" {
  statement {
    sid       = "DenyPlainHttp"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  policy = data.aws_iam_policy_document.artifacts_tls_only.json
  # S3 aborts concurrent changes to one bucket's access settings (OperationAborted).
  depends_on = [aws_s3_bucket_public_access_block.artifacts]
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.platform.arn
    }
  }
}

module "firehose" {
  source                 = "../modules/firehose_dynatrace"
  dynatrace_endpoint_url = var.dynatrace_logs_endpoint_url
  dynatrace_access_key   = data.aws_ssm_parameter.dynatrace_firehose_key.value
  kms_key_arn            = aws_kms_key.platform.arn
}

locals {
  api_routes = jsondecode(file("${path.module}/../../../contracts/api_routes.json")).routes
  # Functions with a URL of their own (Stripe's webhook): on the dashboard beside the API, not behind it.
  function_urls = jsondecode(file("${path.module}/../../../contracts/function_urls.json")).function_urls
}

module "api" {
  source                    = "../modules/rest_api"
  routes                    = local.api_routes
  cross_account_callers     = var.cross_account_callers
  kms_key_arn               = aws_kms_key.platform.arn
  firehose_arn              = module.firehose.firehose_arn
  logs_to_firehose_role_arn = module.firehose.logs_to_firehose_role_arn
  depends_on                = [aws_api_gateway_account.this] # execution logging needs the account's role first
}

moved {
  from = aws_cloudwatch_log_group.api_access
  to   = module.api.aws_cloudwatch_log_group.access
}

# API Gateway writes execution logs through one role per account and region (an account-wide setting: another
# stack of the account that sets it would take it over).
data "aws_iam_policy_document" "api_gateway_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "api_gateway_logs" {
  name               = "payments-api-gateway-logs"
  assume_role_policy = data.aws_iam_policy_document.api_gateway_assume.json
}

data "aws_iam_policy_document" "api_gateway_logs" {
  statement {
    sid       = "ExecutionAndAccessLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"]
    resources = ["arn:aws:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:*"]
  }
  # Listing log groups is authorized on no resource (IAM: DescribeLogGroups takes "*").
  statement {
    sid       = "FindLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "api_gateway_logs" {
  name   = "payments-api-gateway-logs"
  role   = aws_iam_role.api_gateway_logs.id
  policy = data.aws_iam_policy_document.api_gateway_logs.json
}

resource "aws_api_gateway_account" "this" {
  cloudwatch_role_arn = aws_iam_role.api_gateway_logs.arn
  depends_on          = [aws_iam_role_policy.api_gateway_logs]
}

# AWS metrics to Dynatrace (the cloud.aws.* tiles): its own Firehose to Dynatrace's metric streams ingest.
data "aws_ssm_parameter" "dynatrace_metric_stream_key" {
  name            = var.dynatrace_metric_stream_key_parameter
  with_decryption = true
}

module "metric_stream" {
  source               = "../modules/metric_stream"
  dynatrace_api_url    = var.dynatrace_api_url
  dynatrace_access_key = data.aws_ssm_parameter.dynatrace_metric_stream_key.value
  kms_key_arn          = aws_kms_key.platform.arn
}

output "region" {
  value = var.region
}

output "bus_name" {
  value = aws_cloudwatch_event_bus.this.name
}

output "bus_arn" {
  value = aws_cloudwatch_event_bus.this.arn
}

output "kms_key_arn" {
  value = aws_kms_key.platform.arn
}

output "artifacts_bucket" {
  value = aws_s3_bucket.artifacts.bucket
}

output "firehose_arn" {
  value = module.firehose.firehose_arn
}

output "logs_to_firehose_role_arn" {
  value = module.firehose.logs_to_firehose_role_arn
}

output "api_id" {
  value = module.api.id
}

output "api_execution_arn" {
  value = module.api.execution_arn
}

output "api_stage" {
  value = module.api.stage_name
}

output "api_endpoint" {
  description = "The stage's invoke URL: https://<api id>.execute-api.<region>.amazonaws.com/prod"
  value       = module.api.invoke_url
}

output "metric_stream_name" {
  value = module.metric_stream.metric_stream_name
}

# Names follow the service roots' conventions, so the dashboard needs no service state.
module "dashboard" {
  source         = "../modules/dashboards"
  region         = var.region
  stage          = module.api.stage_name
  event_bus_name = aws_cloudwatch_event_bus.this.name
  function_names = ["initializer-api", "initializer-relay", "initializer-outcome", "finalizer", "finalizer-relay", "ledger", "ledger-totals", "ledger-api", "wallet", "wallet-api", "notifier-api", "notifier-record", "notifier-deliver"]
  table_names    = ["initializer-events", "ShowMeTheMoney", "finalizer-events", "BreakingTheBank", "ledger-events", "LedgerAccounts", "wallet-events", "WalletBalances", "webhook-endpoints", "merchant-events", "webhook-deliveries"]
  rule_names     = ["finalizer", "initializer-outcome", "ledger", "wallet", "notifier"]
  dlq_names      = ["finalizer-dlq", "initializer-outcome-dlq", "ledger-dlq", "wallet-dlq", "notifier-dlq", "notifier-deliveries-dlq"]
  # The API's functions and the functions with their own URL, from the contracts the API and the URLs are built from.
  api_function_names = distinct([for r in local.api_routes : r.function])
  function_urls      = [for function, url in local.function_urls : { function = function, qualifier = url.qualifier }]
}
