output "function_name" {
  value = aws_lambda_function.this.function_name
}

output "function_arn" {
  value = aws_lambda_function.this.arn
}

# Triggers use the alias: the API integration, event source mappings and permissions.
output "invoke_arn" {
  value = aws_lambda_alias.live.invoke_arn
}

output "alias_name" {
  value = aws_lambda_alias.live.name
}

output "alias_arn" {
  value = aws_lambda_alias.live.arn
}

output "role_name" {
  value = aws_iam_role.this.name
}

output "log_group_name" {
  value = aws_cloudwatch_log_group.this.name
}

output "timeout" {
  value = aws_lambda_function.this.timeout
}

output "snap_start" {
  value = length(aws_lambda_function.this.snap_start) > 0
}
