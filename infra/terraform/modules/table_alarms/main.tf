# A DynamoDB table's alarms, the same for every table (event stores and read models).

variable "table_name" {
  type = string
}

variable "alarm_actions" {
  description = "Where the table's alarms notify (the platform's alarm topic)."
  type        = list(string)
  default     = []
}

# On demand tables throttle too (a hot partition, a burst beyond twice the previous peak): every throttled
# request is a retry or a failed write on the payment path.
resource "aws_cloudwatch_metric_alarm" "throttles" {
  for_each            = { read = "ReadThrottleEvents", write = "WriteThrottleEvents" }
  alarm_name          = "${var.table_name}-${each.key}-throttles"
  alarm_description   = "DynamoDB throttled ${each.key}s on ${var.table_name}."
  namespace           = "AWS/DynamoDB"
  metric_name         = each.value
  dimensions          = { TableName = var.table_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 2
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}
