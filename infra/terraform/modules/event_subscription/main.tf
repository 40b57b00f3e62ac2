# A consumer behind its own queue: EventBridge rule → SQS queue → Lambda event source mapping.
# EventBridge never invokes the function directly: an asynchronous invocation is dropped after Lambda's two
# retries, while a queue keeps the event until the function reports it done or redrive parks it in the DLQ.
# With from_bus = false the queue is fed by its producers' SendMessage alone (the notifier's deliveries): no
# rule, target or queue policy admitting events.amazonaws.com; the same DLQ, alarms and mapping.

variable "name" {
  description = "The consumer's name in the consumers file (also the rule and queue name)."
  type        = string
}

variable "consumers_file" {
  description = "contracts/consumers.json: each consumer's pattern and function, and the queue settings."
  type        = string
}

variable "from_bus" {
  description = "False: no EventBridge rule feeds the queue (its producers send to it); name need not be a consumer in the file."
  type        = bool
  default     = true
}

variable "queue_name" {
  description = "The queue's name (its DLQ: <queue_name>-dlq); default <name>-inbox and <name>-dlq."
  type        = string
  default     = null
}

variable "queue_settings" {
  description = "The queue's settings when not the consumers file's shared \"queue\" (e.g. a redrive count from a retry schedule)."
  type = object({
    batch_size                      = number
    maximum_batching_window_seconds = number
    maximum_concurrency             = number
    max_receive_count               = number
    visibility_timeout_seconds      = number
    message_retention_seconds       = number
    dlq_retention_seconds           = number
  })
  default = null
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
  description = "How long a message may wait in the queue before someone is told (for the payment flow's consumers: the bound on a payment's time to its final status, per hop)."
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
  consumer      = var.from_bus ? local.settings.consumers[var.name] : null
  # The shared queue block with the consumer's own batching and scaling over it (the buyer's hops batch with no
  # wait), or the settings a queue not fed by the bus is given. Only these may differ per consumer: redrive,
  # visibility and retention are one setting for all. merge, not coalesce: null adds nothing.
  own_queue   = var.from_bus ? lookup(local.consumer, "queue", {}) : {}
  overridable = ["batch_size", "maximum_batching_window_seconds", "maximum_concurrency"]
  queue       = merge(local.settings.queue, local.own_queue, var.queue_settings)
  # Names as they were before the queue name was a variable: alarms read "<queue>-age", "<dlq>-depth".
  queue_name = coalesce(var.queue_name, "${var.name}-inbox")
  dlq_name   = var.queue_name == null ? "${var.name}-dlq" : "${var.queue_name}-dlq"
}

resource "aws_cloudwatch_event_rule" "this" {
  count          = var.from_bus ? 1 : 0
  name           = var.name
  event_bus_name = var.platform.bus_name
  event_pattern  = file("${dirname(var.consumers_file)}/event_patterns/${local.consumer.pattern}.json")
  tags           = var.tags
}

resource "aws_sqs_queue" "dlq" {
  name                      = local.dlq_name
  message_retention_seconds = local.queue.dlq_retention_seconds
  kms_master_key_id         = var.platform.kms_key_arn
  tags                      = var.tags
}

resource "aws_sqs_queue" "inbox" {
  name                       = local.queue_name
  visibility_timeout_seconds = local.queue.visibility_timeout_seconds
  message_retention_seconds  = local.queue.message_retention_seconds
  kms_master_key_id          = var.platform.kms_key_arn
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = local.queue.max_receive_count
  })
  tags = var.tags
}

# Only this rule may send to the inbox; only this rule (hand-over failures) may send to the DLQ directly.
data "aws_iam_policy_document" "from_rule" {
  for_each = var.from_bus ? { inbox = aws_sqs_queue.inbox.arn, dlq = aws_sqs_queue.dlq.arn } : {}
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
      values   = [aws_cloudwatch_event_rule.this[0].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "inbox" {
  count     = var.from_bus ? 1 : 0
  queue_url = aws_sqs_queue.inbox.id
  policy    = data.aws_iam_policy_document.from_rule["inbox"].json
}

resource "aws_sqs_queue_policy" "dlq" {
  count     = var.from_bus ? 1 : 0
  queue_url = aws_sqs_queue.dlq.id
  policy    = data.aws_iam_policy_document.from_rule["dlq"].json
}

resource "aws_cloudwatch_event_target" "this" {
  count          = var.from_bus ? 1 : 0
  rule           = aws_cloudwatch_event_rule.this[0].name
  event_bus_name = var.platform.bus_name
  target_id      = local.queue_name
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
      # AWS's guidance for SQS event sources: a batch still running must not become visible again. (Checked
      # here, not on the queue: a function whose environment names its own queue's URL would be a cycle.)
      condition     = local.queue.visibility_timeout_seconds >= 6 * var.function.timeout
      error_message = "The queue's visibility timeout must be at least six times the function timeout."
    }
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
  alarm_name          = "${local.dlq_name}-depth"
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
  alarm_name          = "${local.dlq_name}-age"
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
  alarm_name          = "${local.queue_name}-age"
  alarm_description   = "Messages have waited over ${var.max_wait_seconds} s for the ${var.name} consumer."
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
  description = "null when from_bus = false."
  value       = one(aws_cloudwatch_event_rule.this[*].arn)
}

output "queue_arn" {
  value = aws_sqs_queue.inbox.arn
}

output "queue_url" {
  value = aws_sqs_queue.inbox.url
}

output "queue_name" {
  value = aws_sqs_queue.inbox.name
}

output "dlq_arn" {
  value = aws_sqs_queue.dlq.arn
}

output "dlq_name" {
  value = aws_sqs_queue.dlq.name
}

# The rule, its target and the queue policies were single resources before from_bus: the same objects.
moved {
  from = aws_cloudwatch_event_rule.this
  to   = aws_cloudwatch_event_rule.this[0]
}

moved {
  from = aws_cloudwatch_event_target.this
  to   = aws_cloudwatch_event_target.this[0]
}

moved {
  from = aws_sqs_queue_policy.inbox
  to   = aws_sqs_queue_policy.inbox[0]
}

moved {
  from = aws_sqs_queue_policy.dlq
  to   = aws_sqs_queue_policy.dlq[0]
}
