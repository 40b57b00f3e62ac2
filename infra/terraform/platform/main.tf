# The shared platform: event bus (+ archive), KMS key, artifact bucket, Firehose to Dynatrace, HTTP API.
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

resource "aws_apigatewayv2_api" "this" {
  name          = "payments"
  protocol_type = "HTTP"
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/payments-access"
  retention_in_days = 365 # a year of audit trail (PCI DSS 10.7)
  kms_key_id        = aws_kms_key.platform.arn
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      ip                 = "$context.identity.sourceIp"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      latency            = "$context.responseLatency"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
    })
  }

  default_route_settings {
    throttling_burst_limit = 200
    throttling_rate_limit  = 100
  }
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
  value = aws_apigatewayv2_api.this.id
}

output "api_execution_arn" {
  value = aws_apigatewayv2_api.this.execution_arn
}

output "api_endpoint" {
  value = aws_apigatewayv2_api.this.api_endpoint
}

# Names follow the service roots' conventions, so the dashboard needs no service state.
module "dashboard" {
  source         = "../modules/dashboards"
  region         = var.region
  api_id         = aws_apigatewayv2_api.this.id
  event_bus_name = aws_cloudwatch_event_bus.this.name
  function_names = ["initializer-api", "initializer-relay", "initializer-outcome", "finalizer", "finalizer-relay", "ledger", "ledger-totals", "ledger-api", "wallet", "wallet-api"]
  table_names    = ["initializer-events", "ShowMeTheMoney", "finalizer-events", "BreakingTheBank", "ledger-events", "LedgerAccounts", "wallet-events", "WalletBalances"]
  rule_names     = ["finalizer", "initializer-outcome", "ledger", "wallet"]
  dlq_names      = ["finalizer-dlq", "initializer-outcome-dlq", "ledger-dlq", "wallet-dlq"]
}
