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
