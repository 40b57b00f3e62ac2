# Alerting that reaches people: one topic per environment, every alarm of the platform and the services
# notifies it (their roots read its ARN from the platform's state), subscriptions are variables.

variable "alarm_subscriptions" {
  description = "Who is told: SNS subscriptions to the alarm topic, e.g. [{ protocol = \"email\", endpoint = \"oncall@example.com\" }] or an HTTPS pager endpoint."
  type        = list(object({ protocol = string, endpoint = string }))
  default     = []
  validation {
    condition     = alltrue([for s in var.alarm_subscriptions : contains(["email", "email-json", "https", "sms", "lambda", "sqs"], s.protocol)])
    error_message = "A subscription's protocol is email, email-json, https, sms, lambda or sqs."
  }
}

variable "api_p99_latency_ms" {
  description = "The API's p99 latency beyond which someone is told (the SLO's POST p95 target is stricter; this is the page)."
  type        = number
  default     = 3000
}

variable "api_5xx_rate_percent" {
  description = "The share of requests answered 5xx beyond which someone is told."
  type        = number
  default     = 1
}

resource "aws_sns_topic" "alarms" {
  name              = "payments-alarms"
  kms_master_key_id = aws_kms_key.platform.arn
}

# CloudWatch publishes alarms as its service principal; only this account's alarms may.
data "aws_iam_policy_document" "alarms_topic" {
  statement {
    sid       = "ThisAccountsAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
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

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarms_topic.json
}

resource "aws_sns_topic_subscription" "alarms" {
  for_each  = { for s in var.alarm_subscriptions : "${s.protocol}:${s.endpoint}" => s }
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = each.value.protocol
  endpoint  = each.value.endpoint
}

locals {
  alarm_actions  = [aws_sns_topic.alarms.arn]
  api_dimensions = { ApiName = "payments", Stage = module.api.stage_name }
}

# 5xx as a share of requests (a count alarm pages at night for one error in ten thousand).
resource "aws_cloudwatch_metric_alarm" "api_5xx_rate" {
  alarm_name          = "payments-api-5xx-rate"
  alarm_description   = "Over ${var.api_5xx_rate_percent} % of API requests answered 5xx in 3 of 5 minutes."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.api_5xx_rate_percent
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "rate"
    expression  = "100 * errors / MAX([requests, 1])"
    label       = "5xx %"
    return_data = true
  }
  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "5XXError"
      dimensions  = local.api_dimensions
      period      = 60
      stat        = "Sum"
    }
  }
  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "Count"
      dimensions  = local.api_dimensions
      period      = 60
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "api_p99_latency" {
  alarm_name          = "payments-api-p99-latency"
  alarm_description   = "The API's p99 latency is over ${var.api_p99_latency_ms} ms for 3 of 5 minutes."
  namespace           = "AWS/ApiGateway"
  metric_name         = "Latency"
  dimensions          = local.api_dimensions
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.api_p99_latency_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# Logs or metrics that do not reach Dynatrace: what every dashboard and Dynatrace alert stands on.
resource "aws_cloudwatch_metric_alarm" "firehose_delivery" {
  for_each            = { logs = module.firehose.firehose_name, metrics = module.metric_stream.firehose_name }
  alarm_name          = "${each.value}-delivery"
  alarm_description   = "Firehose ${each.value} delivered less than all of its records to Dynatrace (failures in /aws/kinesisfirehose/${each.value}, records in its S3 backup)."
  namespace           = "AWS/Firehose"
  metric_name         = "DeliveryToHttpEndpoint.Success"
  dimensions          = { DeliveryStreamName = each.value }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 2
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

output "alarm_topic_arn" {
  value = aws_sns_topic.alarms.arn
}
