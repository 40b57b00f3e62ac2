mock_provider "aws" {}

run "a_table_and_its_index_each_scale_reads_and_writes" {
  command = plan

  variables {
    table_name  = "BreakingTheBank"
    index_names = ["awaiting-action"]
    capacity    = { read_min = 5, read_max = 500, write_min = 10, write_max = 4000, target_utilization = 70 }
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
    capacity   = { read_min = 1, read_max = 10, write_min = 1, write_max = 10, target_utilization = 50 }
  }

  assert {
    condition     = keys(aws_appautoscaling_target.this) == ["table:read", "table:write"]
    error_message = "the table's read and write targets only"
  }
}
