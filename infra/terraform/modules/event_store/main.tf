variable "name" {
  description = "Table name, e.g. initializer-events."
  type        = string
}

variable "kms_key_arn" {
  type = string
}

variable "relay_function_name" {
  # A name, not an ARN: it is known at plan time, so the count below can depend on it.
  description = "The function fed by the table's stream: the outbox relay, or a projection (null: none)."
  type        = string
  default     = null
}

variable "relay_role_name" {
  description = "The fed function's execution role: Lambda reads the stream and sends given-up batches with it."
  type        = string
  default     = null
}

variable "relay_function_alias_arn" {
  description = "The alias the stream's event source mapping invokes (lambda_service's alias_arn); null: the function itself."
  type        = string
  default     = null
}

variable "tags" {
  type    = map(string)
  default = {}
}

# Partition key stream_id, sort key version: one conditional TransactWriteItems per append.
resource "aws_dynamodb_table" "this" {
  # checkov:skip=CKV2_AWS_16:On demand by default (nothing to scale); PROVISIONED gets target tracking from module.capacity, a mode checkov cannot read from var.capacity.
  name             = var.name
  billing_mode     = module.capacity.billing_mode
  read_capacity    = module.capacity.read_capacity
  write_capacity   = module.capacity.write_capacity
  hash_key         = "stream_id"
  range_key        = "version"
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"
  tags             = var.tags

  attribute {
    name = "stream_id"
    type = "S"
  }

  attribute {
    name = "version"
    type = "N"
  }

  # Dedupe markers expire after a week (EventBridge stops retrying after a day).
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  # The scaler owns the provisioned figures once the table exists: an apply must not set them back.
  lifecycle {
    ignore_changes = [read_capacity, write_capacity]
  }
}

variable "capacity" {
  # Passed through untouched (type any): modules/table_capacity types and validates it, for every table alike.
  description = "billing_mode PAY_PER_REQUEST (default) or PROVISIONED with read_min/read_max, write_min/write_max and target_utilization: see modules/table_capacity."
  type        = any
  default     = {}
  nullable    = false
}

module "capacity" {
  source     = "../table_capacity"
  capacity   = var.capacity
  table_name = aws_dynamodb_table.this.name
}

# Provisioned tables planned before the setting moved into table_capacity kept their scaling there.
moved {
  from = module.autoscaling[0]
  to   = module.capacity
}

resource "aws_sqs_queue" "relay_failures" {
  count                     = var.relay_function_name == null ? 0 : 1
  name                      = "${var.name}-relay-failures"
  message_retention_seconds = 1209600
  kms_master_key_id         = var.kms_key_arn
  tags                      = var.tags
}

# The relay publishes to EventBridge; a batch that keeps failing is bisected down to the failing record,
# which is retried (never skipped) until it ages out to the on-failure queue.
resource "aws_lambda_event_source_mapping" "relay" {
  count                              = var.relay_function_name == null ? 0 : 1
  event_source_arn                   = aws_dynamodb_table.this.stream_arn
  function_name                      = coalesce(var.relay_function_alias_arn, var.relay_function_name)
  starting_position                  = "TRIM_HORIZON"
  batch_size                         = 100
  maximum_batching_window_in_seconds = 1
  bisect_batch_on_function_error     = true
  maximum_retry_attempts             = -1
  maximum_record_age_in_seconds      = 86400
  function_response_types            = ["ReportBatchItemFailures"]

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.relay_failures[0].arn
    }
  }

  depends_on = [aws_iam_role_policy.relay]
}

data "aws_region" "current" {}

# What Lambda does with the fed function's role: it reads the stream (DynamoDB decrypts the records with
# the table's key under the caller's permission) and sends a batch it gives up on to the on-failure queue
# (SQS makes and reads the message's data key with the sender's permission).
data "aws_iam_policy_document" "relay" {
  count = var.relay_function_name == null ? 0 : 1
  statement {
    sid       = "ReadOwnStream"
    actions   = ["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"]
    resources = [aws_dynamodb_table.this.stream_arn]
  }
  statement {
    # In Lambda's documented permissions for a stream event source; the action takes no resource.
    sid       = "ListStreams"
    actions   = ["dynamodb:ListStreams"]
    resources = ["*"]
  }
  statement {
    sid       = "StreamKeyThroughDynamoDB"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["dynamodb.${data.aws_region.current.name}.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:dynamodb:tableName"
      values   = [aws_dynamodb_table.this.name]
    }
  }
  statement {
    sid       = "SendGivenUpBatches"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.relay_failures[0].arn]
  }
  statement {
    sid       = "FailureQueueKeyThroughSqs"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sqs.${data.aws_region.current.name}.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:sqs:arn"
      values   = [aws_sqs_queue.relay_failures[0].arn]
    }
  }
}

resource "aws_iam_role_policy" "relay" {
  count  = var.relay_function_name == null ? 0 : 1
  name   = "${var.name}-stream"
  role   = var.relay_role_name
  policy = data.aws_iam_policy_document.relay[0].json

  lifecycle {
    precondition {
      condition     = var.relay_role_name != null
      error_message = "A table whose stream feeds a function needs that function's role (relay_role_name)."
    }
  }
}

variable "alarm_actions" {
  description = "Where the table's alarms notify (the platform's alarm topic)."
  type        = list(string)
  default     = []
}

module "alarms" {
  source        = "../table_alarms"
  table_name    = aws_dynamodb_table.this.name
  alarm_actions = var.alarm_actions
}

output "table_name" {
  value = aws_dynamodb_table.this.name
}

output "table_arn" {
  value = aws_dynamodb_table.this.arn
}

output "stream_arn" {
  value = aws_dynamodb_table.this.stream_arn
}

output "relay_failures_queue_arn" {
  value = var.relay_function_name == null ? null : aws_sqs_queue.relay_failures[0].arn
}
