# A consumer behind its own queue: EventBridge rule → SQS queue → Lambda event source mapping.
# EventBridge never invokes the function directly: an asynchronous invocation is dropped after Lambda's two
# retries, while a queue keeps the event until the function reports it done or redrive parks it in the DLQ.

variable "name" {
  description = "The consumer's name in the consumers file (also the rule and queue name)."
  type        = string
}

variable "consumers_file" {
  description = "contracts/consumers.json: each consumer's pattern and function, and the queue settings."
  type        = string
}

variable "function" {
  description = "The consumer function (a lambda_service module's outputs); its role gets what the mapping needs."
  type        = object({ function_name = string, alias_arn = string, role_name = string, timeout = number })
}

variable "platform" {
  description = "The bus the rule listens on, the key that encrypts the queues, the topic alarms notify."
  type        = object({ bus_name = string, kms_key_arn = string, alarm_topic_arn = optional(string) })
}

variable "maximum_event_age_seconds" {
  description = "EventBridge's retries of the hand-over to the queue (not of the function's work)."
  type        = number
  default     = 3600
}

variable "maximum_retry_attempts" {
  type    = number
  default = 8
}

variable "alarm_actions" {
  description = "Where alarms notify besides the platform's alarm topic."
  type        = list(string)
  default     = []
}

variable "max_wait_seconds" {
  description = "How long an event may wait in the inbox before someone is told (the bound on a payment's time to its final status, per hop)."
  type        = number
  default     = 900
}

variable "tags" {
  type    = map(string)
  default = {}
}

locals {
  alarm_actions = concat(compact([var.platform.alarm_topic_arn]), var.alarm_actions)
  settings      = jsondecode(file(var.consumers_file))
  consumer      = local.settings.consumers[var.name]
  # The shared queue block with the consumer's own batching and scaling over it (the buyer's hops batch with no
  # wait). Only these may differ per consumer: redrive, visibility and retention are one setting for all.
  own_queue   = lookup(local.consumer, "queue", {})
  overridable = ["batch_size", "maximum_batching_window_seconds", "maximum_concurrency"]
  queue       = merge(local.settings.queue, local.own_queue)
}

resource "aws_cloudwatch_event_rule" "this" {
  name           = var.name
  event_bus_name = var.platform.bus_name
  event_pattern  = file("${dirname(var.consumers_file)}/event_patterns/${local.consumer.pattern}.json")
  tags           = var.tags
}

resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name}-dlq"
  message_retention_seconds = local.queue.dlq_retention_seconds
  kms_master_key_id         = var.platform.kms_key_arn
  tags                      = var.tags
}

resource "aws_sqs_queue" "inbox" {
  name                       = "${var.name}-inbox"
  visibility_timeout_seconds = local.queue.visibility_timeout_seconds
  message_retention_seconds  = local.queue.message_retention_seconds
  kms_master_key_id          = var.platform.kms_key_arn
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = local.queue.max_receive_count
  })
  tags = var.tags

  lifecycle {
    precondition {
      # AWS's guidance for SQS event sources: a batch still running must not become visible again.
      condition     = local.queue.visibility_timeout_seconds >= 6 * var.function.timeout
      error_message = "The queue's visibility timeout must be at least six times the function timeout."
    }
  }
}

# Only this rule may send to the inbox; only this rule (hand-over failures) may send to the DLQ directly.
data "aws_iam_policy_document" "from_rule" {
  for_each = { inbox = aws_sqs_queue.inbox.arn, dlq = aws_sqs_queue.dlq.arn }
  statement {
    sid       = "FromRule${title(each.key)}"
    actions   = ["sqs:SendMessage"]
    resources = [each.value]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.this.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "inbox" {
  queue_url = aws_sqs_queue.inbox.id
  policy    = data.aws_iam_policy_document.from_rule["inbox"].json
}

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  policy    = data.aws_iam_policy_document.from_rule["dlq"].json
}

resource "aws_cloudwatch_event_target" "this" {
  rule           = aws_cloudwatch_event_rule.this.name
  event_bus_name = var.platform.bus_name
  target_id      = "${var.name}-inbox"
  arn            = aws_sqs_queue.inbox.arn

  retry_policy {
    maximum_event_age_in_seconds = var.maximum_event_age_seconds
    maximum_retry_attempts       = var.maximum_retry_attempts
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}

data "aws_region" "current" {}

# Lambda polls the inbox with the function's role (the three actions its documentation lists for an SQS
# event source); SQS decrypts each message's data key with the receiver's permission.
data "aws_iam_policy_document" "consume" {
  statement {
    sid       = "ConsumeOwnInbox"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.inbox.arn]
  }
  statement {
    sid       = "InboxKeyThroughSqs"
    actions   = ["kms:Decrypt"]
    resources = [var.platform.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sqs.${data.aws_region.current.name}.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:sqs:arn"
      values   = [aws_sqs_queue.inbox.arn]
    }
  }
}

resource "aws_iam_role_policy" "consume" {
  name   = "${var.name}-consume-inbox"
  role   = var.function.role_name
  policy = data.aws_iam_policy_document.consume.json
}

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn                   = aws_sqs_queue.inbox.arn
  function_name                      = var.function.alias_arn
  batch_size                         = local.queue.batch_size
  maximum_batching_window_in_seconds = local.queue.maximum_batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = local.queue.maximum_concurrency
  }

  depends_on = [aws_iam_role_policy.consume]

  lifecycle {
    precondition {
      condition     = length(setsubtract(keys(local.own_queue), local.overridable)) == 0
      error_message = "A consumer's own queue settings may set only ${join(", ", local.overridable)}."
    }
    precondition {
      # Lambda's CreateEventSourceMapping: "When you set BatchSize to a value greater than 10, you must set
      # MaximumBatchingWindowInSeconds to at least 1."
      condition     = local.queue.batch_size <= 10 || local.queue.maximum_batching_window_seconds >= 1
      error_message = "A batch size over 10 needs a batching window of at least 1 s."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  alarm_name          = "${var.name}-dlq-depth"
  alarm_description   = "Messages the ${var.name} consumer gave up on: see README's runbook."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

# A parked message nobody has handled for a day: the depth alarm above fired and went unanswered.
resource "aws_cloudwatch_metric_alarm" "dlq_age" {
  alarm_name          = "${var.name}-dlq-age"
  alarm_description   = "A message has waited over a day in the ${var.name} DLQ: a payment's effect is still missing."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 86400
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

# Events waiting longer than the bound: payments not final (finalizer, initializer-outcome) or books behind.
resource "aws_cloudwatch_metric_alarm" "inbox_age" {
  alarm_name          = "${var.name}-inbox-age"
  alarm_description   = "Events have waited over ${var.max_wait_seconds} s for the ${var.name} consumer."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.inbox.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.max_wait_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

output "rule_arn" {
  value = aws_cloudwatch_event_rule.this.arn
}

output "queue_arn" {
  value = aws_sqs_queue.inbox.arn
}

output "dlq_arn" {
  value = aws_sqs_queue.dlq.arn
}

output "dlq_name" {
  value = aws_sqs_queue.dlq.name
}
