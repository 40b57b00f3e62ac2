mock_provider "aws" {}

run "a_table_and_its_index_each_scale_reads_and_writes" {
  command = plan

  variables {
    table_name  = "BreakingTheBank"
    index_names = ["awaiting-action"]
    capacity    = { billing_mode = "PROVISIONED", read_min = 5, read_max = 500, write_min = 10, write_max = 4000, target_utilization = 70 }
  }

  assert {
    condition     = length(aws_appautoscaling_target.this) == 4 && length(aws_appautoscaling_policy.this) == 4
    error_message = "table and index, read and write: four targets, four policies"
  }
  assert {
    condition = (
      aws_appautoscaling_target.this["table:write"].scalable_dimension == "dynamodb:table:WriteCapacityUnits"
      && aws_appautoscaling_target.this["table:write"].resource_id == "table/BreakingTheBank"
      && aws_appautoscaling_target.this["table:write"].min_capacity == 10
      && aws_appautoscaling_target.this["table:write"].max_capacity == 4000
    )
    error_message = "the table's write target: its own dimension and the write bounds"
  }
  assert {
    condition = (
      aws_appautoscaling_target.this["index/awaiting-action:read"].scalable_dimension == "dynamodb:index:ReadCapacityUnits"
      && aws_appautoscaling_target.this["index/awaiting-action:read"].resource_id == "table/BreakingTheBank/index/awaiting-action"
      && aws_appautoscaling_target.this["index/awaiting-action:read"].min_capacity == 5
    )
    error_message = "the index's read target: the index dimension, the read bounds"
  }
  assert {
    condition = alltrue([for k, p in aws_appautoscaling_policy.this :
      p.policy_type == "TargetTrackingScaling" && p.target_tracking_scaling_policy_configuration[0].target_value == 70
    ])
    error_message = "every policy tracks the target utilization"
  }
  assert {
    condition = (
      aws_appautoscaling_policy.this["table:read"].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "DynamoDBReadCapacityUtilization"
      && aws_appautoscaling_policy.this["index/awaiting-action:write"].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "DynamoDBWriteCapacityUtilization"
    )
    error_message = "reads track read utilization, writes write utilization"
  }
}

run "a_table_without_indexes_has_two_targets" {
  command = plan

  variables {
    table_name = "svc-events"
    capacity   = { billing_mode = "PROVISIONED", read_min = 1, read_max = 10, write_min = 1, write_max = 10, target_utilization = 50 }
  }

  assert {
    condition     = keys(aws_appautoscaling_target.this) == ["table:read", "table:write"]
    error_message = "the table's read and write targets only"
  }
}

run "on_demand_by_default_with_nothing_to_scale" {
  command = plan

  variables {
    table_name  = "svc-events"
    index_names = ["awaiting-action"]
  }

  assert {
    condition     = output.billing_mode == "PAY_PER_REQUEST" && output.read_capacity == null && output.write_capacity == null
    error_message = "no setting: on demand, no provisioned figures"
  }
  assert {
    condition     = length(aws_appautoscaling_target.this) == 0 && length(aws_appautoscaling_policy.this) == 0
    error_message = "on demand: no scaling targets or policies"
  }
}

run "provisioned_starts_at_the_minimums" {
  command = plan

  variables {
    table_name = "svc-events"
    capacity   = { billing_mode = "PROVISIONED", read_min = 5, read_max = 300, write_min = 50, write_max = 12000 }
  }

  assert {
    condition     = output.billing_mode == "PROVISIONED" && output.read_capacity == 5 && output.write_capacity == 50
    error_message = "a provisioned table starts at its minimums"
  }
  assert {
    condition     = aws_appautoscaling_policy.this["table:write"].target_tracking_scaling_policy_configuration[0].target_value == 70
    error_message = "the target utilization defaults to 70 %"
  }
}

run "a_minimum_above_its_maximum_is_refused" {
  command = plan

  variables {
    table_name = "svc-events"
    capacity   = { billing_mode = "PROVISIONED", read_min = 5, read_max = 300, write_min = 500, write_max = 100 }
  }

  expect_failures = [var.capacity]
}

run "a_target_outside_what_auto_scaling_accepts_is_refused" {
  command = plan

  variables {
    table_name = "svc-events"
    capacity   = { billing_mode = "PROVISIONED", read_min = 5, read_max = 300, write_min = 5, write_max = 100, target_utilization = 95 }
  }

  expect_failures = [var.capacity]
}

run "provisioned_without_bounds_is_refused" {
  command = plan

  variables {
    table_name = "svc-events"
    capacity   = { billing_mode = "PROVISIONED" }
  }

  expect_failures = [var.capacity]
}

run "an_unknown_mode_is_refused" {
  command = plan

  variables {
    table_name = "svc-events"
    capacity   = { billing_mode = "ON_DEMAND" }
  }

  expect_failures = [var.capacity]
}

run "a_fractional_capacity_is_refused" {
  command = plan

  variables {
    table_name = "svc-events"
    capacity   = { billing_mode = "PROVISIONED", read_min = 0.5, read_max = 10, write_min = 1, write_max = 10 }
  }

  expect_failures = [var.capacity]
}

run "a_target_below_twenty_percent_is_refused" {
  command = plan

  variables {
    table_name = "svc-events"
    capacity   = { billing_mode = "PROVISIONED", read_min = 1, read_max = 10, write_min = 1, write_max = 10, target_utilization = 10 }
  }

  expect_failures = [var.capacity]
}
