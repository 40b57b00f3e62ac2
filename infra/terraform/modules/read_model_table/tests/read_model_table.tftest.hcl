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
