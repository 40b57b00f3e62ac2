mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

run "rule_from_the_shared_pattern_with_retries_and_dlq" {
  command = plan

  variables {
    name               = "ledger"
    event_bus_name     = "payments"
    event_pattern_file = "../../../../contracts/event_patterns/payment_status_updated.json"
    function_arn       = "arn:aws:lambda:eu-west-1:123456789012:function:ledger"
    function_name      = "ledger"
    kms_key_arn        = "arn:aws:kms:eu-west-1:123456789012:key/k"
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this.event_pattern)["detail-type"] == ["PaymentStatusUpdated"]
    error_message = "the rule uses the shared pattern file"
  }
  assert {
    condition     = aws_cloudwatch_event_target.this.retry_policy[0].maximum_retry_attempts == 8 && aws_cloudwatch_event_target.this.retry_policy[0].maximum_event_age_in_seconds == 3600
    error_message = "bounded retries"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_depth.threshold == 0 && aws_cloudwatch_metric_alarm.dlq_depth.metric_name == "ApproximateNumberOfMessagesVisible"
    error_message = "any dead letter raises the alarm"
  }
}
