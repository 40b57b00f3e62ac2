variable "name" {
  type = string
}

variable "hash_key" {
  type = string
}

variable "range_key" {
  type    = string
  default = null
}

variable "kms_key_arn" {
  type = string
}

variable "sparse_indexes" {
  description = "Global secondary indexes on attributes only some rows carry (string keys, keys projected): name → {hash_key, range_key}."
  type        = map(object({ hash_key = string, range_key = string }))
  default     = {}
}

# A read model (the seed's ShowMeTheMoney, BreakingTheBank, …): written only inside event-store
# transactions; on demand, point-in-time recovery, encrypted with the platform key. Keys are strings.
resource "aws_dynamodb_table" "this" {
  name         = var.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = var.hash_key
  range_key    = var.range_key

  dynamic "attribute" {
    for_each = toset(concat(compact([var.hash_key, var.range_key]), flatten([for i in values(var.sparse_indexes) : [i.hash_key, i.range_key]])))
    content {
      name = attribute.value
      type = "S"
    }
  }

  dynamic "global_secondary_index" {
    for_each = var.sparse_indexes
    content {
      name            = global_secondary_index.key
      hash_key        = global_secondary_index.value.hash_key
      range_key       = global_secondary_index.value.range_key
      projection_type = "KEYS_ONLY"
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
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
  alarm_name          = "${aws_dynamodb_table.this.name}-${each.key}-throttles"
  alarm_description   = "DynamoDB throttled ${each.key}s on ${aws_dynamodb_table.this.name}."
  namespace           = "AWS/DynamoDB"
  metric_name         = each.value
  dimensions          = { TableName = aws_dynamodb_table.this.name }
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

output "name" {
  value = aws_dynamodb_table.this.name
}

output "arn" {
  value = aws_dynamodb_table.this.arn
}

output "index_arns" {
  value = { for name in keys(var.sparse_indexes) : name => "${aws_dynamodb_table.this.arn}/index/${name}" }
}
