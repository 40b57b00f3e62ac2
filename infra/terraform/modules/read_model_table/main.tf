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
# transactions; on demand unless `capacity` says otherwise, point-in-time recovery, encrypted with the platform key. Keys are strings.
resource "aws_dynamodb_table" "this" {
  # checkov:skip=CKV2_AWS_16:On demand by default (nothing to scale); PROVISIONED gets target tracking from module.capacity, a mode checkov cannot read from var.capacity.
  name           = var.name
  billing_mode   = module.capacity.billing_mode
  read_capacity  = module.capacity.read_capacity
  write_capacity = module.capacity.write_capacity
  hash_key       = var.hash_key
  range_key      = var.range_key

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
      # An index of a provisioned table needs its own starting capacity; its scaler moves it from there.
      # Terraform cannot ignore one attribute of a set block, so an apply after the scaler raised an index
      # sets it back to these minimums until the scaler raises it again (a couple of minutes): keep an
      # index's minimum at what its own traffic needs (docs/capacity.md).
      read_capacity  = module.capacity.read_capacity
      write_capacity = module.capacity.write_capacity
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  # The scaler owns the table's provisioned figures once it exists: an apply must not set them back.
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
  source      = "../table_capacity"
  capacity    = var.capacity
  table_name  = aws_dynamodb_table.this.name
  index_names = keys(var.sparse_indexes)
}

# Provisioned tables planned before the setting moved into table_capacity kept their scaling there.
moved {
  from = module.autoscaling[0]
  to   = module.capacity
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
