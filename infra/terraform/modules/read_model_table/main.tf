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

module "alarms" {
  source        = "../table_alarms"
  table_name    = aws_dynamodb_table.this.name
  alarm_actions = var.alarm_actions
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
