mock_provider "aws" {}

run "table_with_relay" {
  command = plan

  variables {
    name                = "svc-events"
    kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/k"
    relay_function_name = "svc-relay"
    relay_role_name     = "svc-relay-role"
  }

  assert {
    condition     = aws_dynamodb_table.this.hash_key == "stream_id" && aws_dynamodb_table.this.range_key == "version" && aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST"
    error_message = "stream_id/version keys, on demand"
  }
  assert {
    condition     = aws_dynamodb_table.this.stream_view_type == "NEW_IMAGE" && aws_dynamodb_table.this.point_in_time_recovery[0].enabled
    error_message = "NEW_IMAGE stream and point-in-time recovery"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.relay[0].bisect_batch_on_function_error && contains(aws_lambda_event_source_mapping.relay[0].function_response_types, "ReportBatchItemFailures")
    error_message = "relay mapping bisects and reports partial batch failures"
  }
  assert {
    condition     = aws_iam_role_policy.relay[0].role == "svc-relay-role"
    error_message = "the fed function's role may read the stream and send given-up batches to the failure queue"
  }
}

run "a_relay_needs_its_role" {
  command = plan

  variables {
    name                = "svc-events"
    kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/k"
    relay_function_name = "svc-relay"
  }

  expect_failures = [aws_iam_role_policy.relay]
}

run "table_without_relay" {
  command = plan

  variables {
    name        = "svc-events"
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/k"
  }

  assert {
    condition     = length(aws_lambda_event_source_mapping.relay) == 0 && length(aws_sqs_queue.relay_failures) == 0
    error_message = "no relay: no mapping, no failure queue"
  }
}

run "on_demand_by_default_with_no_scaling" {
  command = plan

  variables {
    name        = "svc-events"
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/k"
  }

  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST" && length(module.capacity.targets) == 0
    error_message = "no capacity setting: on demand, no scaling targets or policies"
  }
}

run "provisioned_scales_between_the_bounds" {
  command = plan

  variables {
    name        = "svc-events"
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/k"
    capacity    = { billing_mode = "PROVISIONED", read_min = 5, read_max = 300, write_min = 50, write_max = 12000, target_utilization = 70 }
  }

  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PROVISIONED" && aws_dynamodb_table.this.write_capacity == 50 && aws_dynamodb_table.this.read_capacity == 5
    error_message = "provisioned, starting at the minimums"
  }
  assert {
    condition = (
      module.capacity.targets["table:write"].dimension == "dynamodb:table:WriteCapacityUnits"
      && module.capacity.targets["table:write"].min == 50 && module.capacity.targets["table:write"].max == 12000
      && module.capacity.targets["table:read"].min == 5 && module.capacity.targets["table:read"].max == 300
      && length(module.capacity.targets) == 2
    )
    error_message = "one read and one write target on the table, with the given bounds"
  }
  assert {
    condition = (
      module.capacity.policies["table:write"].metric == "DynamoDBWriteCapacityUtilization"
      && module.capacity.policies["table:write"].target_value == 70
      && module.capacity.policies["table:read"].metric == "DynamoDBReadCapacityUtilization"
    )
    error_message = "target tracking on write and read utilization at the target"
  }
}
