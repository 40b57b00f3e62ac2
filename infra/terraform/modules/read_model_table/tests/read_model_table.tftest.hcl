mock_provider "aws" {}

run "keys_pitr_and_encryption" {
  command = plan

  variables {
    name        = "LedgerAccounts"
    hash_key    = "account"
    range_key   = "currency"
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/k"
  }

  assert {
    condition     = aws_dynamodb_table.this.range_key == "currency" && length(aws_dynamodb_table.this.attribute) == 2
    error_message = "both keys declared"
  }
  assert {
    condition     = aws_dynamodb_table.this.point_in_time_recovery[0].enabled && aws_dynamodb_table.this.server_side_encryption[0].enabled
    error_message = "PITR and KMS encryption"
  }
}

run "a_sparse_index_projects_keys_only" {
  command = plan

  variables {
    name        = "BreakingTheBank"
    hash_key    = "payment_order_id"
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/k"
    sparse_indexes = {
      "awaiting-action" = { hash_key = "awaiting", range_key = "action_required_at" }
    }
  }

  assert {
    condition     = length(aws_dynamodb_table.this.attribute) == 3 && length(aws_dynamodb_table.this.global_secondary_index) == 1
    error_message = "the table's key and both index keys declared, one index"
  }
  assert {
    condition     = one(aws_dynamodb_table.this.global_secondary_index).projection_type == "KEYS_ONLY"
    error_message = "the sweep reads order ids only: keys projected"
  }
}

run "on_demand_by_default_with_no_scaling" {
  command = plan

  variables {
    name        = "BreakingTheBank"
    hash_key    = "payment_order_id"
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/k"
    sparse_indexes = {
      "awaiting-action" = { hash_key = "awaiting", range_key = "action_required_at" }
    }
  }

  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST" && length(module.capacity.targets) == 0
    error_message = "no capacity setting: on demand, no scaling targets or policies"
  }
}

run "provisioned_scales_the_table_and_each_index" {
  command = plan

  variables {
    name        = "BreakingTheBank"
    hash_key    = "payment_order_id"
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/k"
    sparse_indexes = {
      "awaiting-action" = { hash_key = "awaiting", range_key = "action_required_at" }
    }
    capacity = { billing_mode = "PROVISIONED", read_min = 10, read_max = 400, write_min = 20, write_max = 3000, target_utilization = 60 }
  }

  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PROVISIONED" && aws_dynamodb_table.this.write_capacity == 20
    error_message = "provisioned, starting at the minimums"
  }
  assert {
    condition     = one(aws_dynamodb_table.this.global_secondary_index).write_capacity == 20 && one(aws_dynamodb_table.this.global_secondary_index).read_capacity == 10
    error_message = "the index starts at the minimums too"
  }
  assert {
    condition = (
      length(module.capacity.targets) == 4
      && module.capacity.targets["index/awaiting-action:write"].resource_id == "table/BreakingTheBank/index/awaiting-action"
      && module.capacity.targets["index/awaiting-action:write"].dimension == "dynamodb:index:WriteCapacityUnits"
      && module.capacity.targets["index/awaiting-action:write"].max == 3000
      && module.capacity.targets["table:read"].max == 400
    )
    error_message = "read and write targets on the table and on its index, with the given bounds"
  }
  assert {
    condition = (
      module.capacity.policies["index/awaiting-action:write"].metric == "DynamoDBWriteCapacityUtilization"
      && module.capacity.policies["table:read"].metric == "DynamoDBReadCapacityUtilization"
      && alltrue([for p in values(module.capacity.policies) : p.target_value == 60])
      && length(module.capacity.policies) == 4
    )
    error_message = "a target-tracking policy per target, at the given utilization"
  }
}
