# Target tracking for a provisioned table and each of its global secondary indexes: Application Auto Scaling
# keeps consumed / provisioned capacity near target_utilization, between the bounds given. DynamoDB's auto
# scaling docs: "You can set auto scaling target utilization values between 20 and 90 percent"; it scales out
# after two consecutive minutes above the target, in after 15 consecutive data points below it
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/AutoScaling.html). With no role_arn,
# Application Auto Scaling uses its service-linked role for DynamoDB (AWSServiceRoleForApplicationAutoScaling_DynamoDBTable).

variable "table_name" {
  description = "The table's name: known at plan time, so the scaling targets can be counted before the table exists."
  type        = string
}

variable "index_names" {
  description = "The table's global secondary indexes: each gets its own targets and policies (an index scales on its own traffic)."
  type        = list(string)
  default     = []
}

locals {
  # One entry per scalable resource and dimension: "table/<name>" and "table/<name>/index/<index>", read and write.
  resources = merge(
    { "table" = { resource_id = "table/${var.table_name}", kind = "table" } },
    { for i in var.index_names : "index/${i}" => { resource_id = "table/${var.table_name}/index/${i}", kind = "index" } },
  )
  dimensions = {
    read  = { units = "ReadCapacityUnits", metric = "DynamoDBReadCapacityUtilization", min = var.capacity.read_min, max = var.capacity.read_max }
    write = { units = "WriteCapacityUnits", metric = "DynamoDBWriteCapacityUtilization", min = var.capacity.write_min, max = var.capacity.write_max }
  }
  every_target = merge([
    for key, r in local.resources : {
      for d, dim in local.dimensions : "${key}:${d}" => merge(dim, r, { dimension = "dynamodb:${r.kind}:${dim.units}" })
    }
  ]...)
  targets = { for k, t in local.every_target : k => t if local.provisioned } # on demand: nothing to scale
}

resource "aws_appautoscaling_target" "this" {
  for_each           = local.targets
  service_namespace  = "dynamodb"
  resource_id        = each.value.resource_id
  scalable_dimension = each.value.dimension
  min_capacity       = each.value.min
  max_capacity       = each.value.max
}

resource "aws_appautoscaling_policy" "this" {
  for_each           = local.targets
  name               = "${replace(each.value.resource_id, "/", "-")}-${each.value.units}-target-tracking"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.this[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.this[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.capacity.target_utilization
    predefined_metric_specification {
      predefined_metric_type = each.value.metric
    }
  }
}

output "targets" {
  description = "Scalable dimension → {resource_id, min, max} for each target (the tests read them)."
  value = { for k, t in aws_appautoscaling_target.this : k => {
    resource_id = t.resource_id, dimension = t.scalable_dimension, min = t.min_capacity, max = t.max_capacity
  } }
}

output "policies" {
  description = "Key → {metric, target_value} for each target-tracking policy (the tests read them)."
  value = { for k, p in aws_appautoscaling_policy.this : k => {
    metric       = p.target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type
    target_value = p.target_tracking_scaling_policy_configuration[0].target_value
  } }
}
