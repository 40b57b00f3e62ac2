variable "name" {
  type    = string
  default = "payments-logs-to-dynatrace"
}

variable "dynatrace_endpoint_url" {
  description = "Dynatrace log ingest endpoint for Firehose (https://<tenant>.live.dynatrace.com/api/v2/logs/ingest/aws_firehose)."
  type        = string
}

variable "dynatrace_access_key" {
  description = "Dynatrace API token (logs.ingest); the root reads it from SSM SecureString."
  type        = string
  sensitive   = true
}

variable "kms_key_arn" {
  type = string
}

variable "writer" {
  description = "Who puts records: \"logs\" (CloudWatch Logs subscription filters) or \"metric_stream\" (a CloudWatch metric stream)."
  type        = string
  default     = "logs"
  validation {
    condition     = contains(["logs", "metric_stream"], var.writer)
    error_message = "writer is logs or metric_stream."
  }
}

variable "buffering_size" {
  description = "MiB Firehose buffers before a delivery (the seed: 1 for logs; Dynatrace's metric streams guide: 3)."
  type        = number
  default     = 1
}

variable "common_attributes" {
  description = "Attributes sent with every request (Dynatrace's metric streams ingest reads dt-url from them)."
  type        = map(string)
  default     = {}
}

variable "log_retention_days" {
  description = "Retention of the stream's own delivery errors (CloudWatch Logs)."
  type        = number
  default     = 365
}

variable "tags" {
  type    = map(string)
  default = {}
}

data "aws_caller_identity" "current" {}

locals {
  # Who may put records, and from which of this account's resources (confused deputy).
  writers = {
    logs          = { service = "logs.amazonaws.com", source_arn = "arn:aws:logs:*:${data.aws_caller_identity.current.account_id}:*" }
    metric_stream = { service = "streams.metrics.cloudwatch.amazonaws.com", source_arn = "arn:aws:cloudwatch:*:${data.aws_caller_identity.current.account_id}:metric-stream/*" }
  }
}

# The stream's own delivery errors (Dynatrace refusing a token, an endpoint down, the backup failing): without
# them a failing delivery leaves no trace but the S3 backup. This group is never subscribed to the stream itself.
resource "aws_cloudwatch_log_group" "delivery_errors" {
  name              = "/aws/kinesisfirehose/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_stream" "destination" {
  name           = "DestinationDelivery"
  log_group_name = aws_cloudwatch_log_group.delivery_errors.name
}

resource "aws_cloudwatch_log_stream" "backup" {
  name           = "BackupDelivery"
  log_group_name = aws_cloudwatch_log_group.delivery_errors.name
}

# Failed deliveries only (the seed's "Failed data only" backup).
resource "aws_s3_bucket" "backup" {
  bucket_prefix = "${var.name}-failed-"
  force_destroy = false
  tags          = var.tags
  # checkov:skip=CKV_AWS_144:Cross-region replication of undeliverable logs is not worth its cost.
  # checkov:skip=CKV_AWS_18:Access logging of a backup bucket written only by Firehose adds noise, not audit.
  # checkov:skip=CKV2_AWS_62:Nothing consumes events of this bucket.
}

resource "aws_s3_bucket_public_access_block" "backup" {
  bucket                  = aws_s3_bucket.backup.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Firehose writes over TLS; plain HTTP is refused to everyone else too.
data "aws_iam_policy_document" "backup_tls_only" {
  statement {
    sid       = "DenyPlainHttp"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.backup.arn, "${aws_s3_bucket.backup.arn}/*"]
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

resource "aws_s3_bucket_policy" "backup" {
  bucket = aws_s3_bucket.backup.id
  policy = data.aws_iam_policy_document.backup_tls_only.json
  # S3 aborts concurrent changes to one bucket's access settings (OperationAborted).
  depends_on = [aws_s3_bucket_public_access_block.backup]
}

resource "aws_s3_bucket_versioning" "backup" {
  bucket = aws_s3_bucket.backup.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "backup" {
  bucket = aws_s3_bucket.backup.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "backup" {
  bucket = aws_s3_bucket.backup.id
  rule {
    id     = "expire-failed-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = 30
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# Firehose passes the stream owner's account id as the external id when it assumes the role ("Controlling
# access with Amazon Data Firehose"): another account's stream cannot borrow this role (confused deputy).
data "aws_iam_policy_document" "firehose_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "firehose" {
  name               = "${var.name}-firehose"
  assume_role_policy = data.aws_iam_policy_document.firehose_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "firehose" {
  statement {
    sid       = "BackupBucket"
    actions   = ["s3:PutObject", "s3:GetBucketLocation", "s3:AbortMultipartUpload", "s3:ListBucket"]
    resources = [aws_s3_bucket.backup.arn, "${aws_s3_bucket.backup.arn}/*"]
  }
  statement {
    sid       = "BackupEncryption"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "DeliveryErrors"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.delivery_errors.arn}:log-stream:*"]
  }
}

resource "aws_iam_role_policy" "firehose" {
  name   = "${var.name}-firehose"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose.json
}

resource "aws_kinesis_firehose_delivery_stream" "this" {
  name        = var.name
  destination = "http_endpoint"
  tags        = var.tags

  server_side_encryption {
    enabled  = true
    key_type = "CUSTOMER_MANAGED_CMK"
    key_arn  = var.kms_key_arn
  }

  http_endpoint_configuration {
    name               = "Dynatrace"
    url                = var.dynatrace_endpoint_url
    access_key         = var.dynatrace_access_key
    role_arn           = aws_iam_role.firehose.arn
    retry_duration     = 900
    buffering_size     = var.buffering_size
    buffering_interval = 60
    s3_backup_mode     = "FailedDataOnly"

    request_configuration {
      content_encoding = "GZIP"
      dynamic "common_attributes" {
        for_each = var.common_attributes
        content {
          name  = common_attributes.key
          value = common_attributes.value
        }
      }
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.delivery_errors.name
      log_stream_name = aws_cloudwatch_log_stream.destination.name
    }

    s3_configuration {
      role_arn           = aws_iam_role.firehose.arn
      bucket_arn         = aws_s3_bucket.backup.arn
      prefix             = "firehose-backup/"
      buffering_size     = 10
      buffering_interval = 400
      compression_format = "GZIP"
      kms_key_arn        = var.kms_key_arn

      cloudwatch_logging_options {
        enabled         = true
        log_group_name  = aws_cloudwatch_log_group.delivery_errors.name
        log_stream_name = aws_cloudwatch_log_stream.backup.name
      }
    }
  }
}

# The writer → Firehose: the role every subscription filter uses, or the metric stream's.
data "aws_iam_policy_document" "logs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [local.writers[var.writer].service]
    }
    condition {
      test     = "StringLike"
      variable = "aws:SourceArn"
      values   = [local.writers[var.writer].source_arn]
    }
  }
}

resource "aws_iam_role" "logs_to_firehose" {
  name               = "${var.name}-logs-to-firehose"
  assume_role_policy = data.aws_iam_policy_document.logs_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "logs_to_firehose" {
  statement {
    sid       = "PutIntoTheStream"
    actions   = ["firehose:PutRecord", "firehose:PutRecordBatch"]
    resources = [aws_kinesis_firehose_delivery_stream.this.arn]
  }
}

resource "aws_iam_role_policy" "logs_to_firehose" {
  name   = "${var.name}-logs-to-firehose"
  role   = aws_iam_role.logs_to_firehose.id
  policy = data.aws_iam_policy_document.logs_to_firehose.json
}

output "firehose_arn" {
  value = aws_kinesis_firehose_delivery_stream.this.arn
}

output "firehose_name" {
  value = aws_kinesis_firehose_delivery_stream.this.name
}

output "logs_to_firehose_role_arn" {
  description = "The role the writer assumes to put records (subscription filters, or the metric stream)."
  value       = aws_iam_role.logs_to_firehose.arn
}

output "delivery_errors_log_group" {
  value = aws_cloudwatch_log_group.delivery_errors.name
}

output "backup_bucket" {
  value = aws_s3_bucket.backup.bucket
}
