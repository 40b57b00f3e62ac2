mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:ledger-queue" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/payments/ledger" }
  }
}

variables {
  name           = "ledger"
  consumers_file = "../../../../contracts/consumers.json"
  function       = { function_name = "ledger", alias_arn = "arn:aws:lambda:eu-west-1:123456789012:function:ledger:live", role_name = "ledger-role", timeout = 30 }
  platform       = { bus_name = "payments", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/k" }
}

run "rule_to_queue_to_function_with_partial_batches_and_a_dlq" {
  command = apply # the mock provider makes up the ARNs the redrive policy needs

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this.event_pattern)["detail-type"] == ["PaymentStatusUpdated", "RefundStatusUpdated", "DisputeStatusUpdated", "PspPayoutUpdated"]
    error_message = "the rule uses the pattern the consumers file names"
  }
  assert {
    condition     = aws_cloudwatch_event_target.this.retry_policy[0].maximum_retry_attempts == 8 && aws_cloudwatch_event_target.this.retry_policy[0].maximum_event_age_in_seconds == 3600
    error_message = "bounded retries of the hand-over to the queue"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.function_response_types == toset(["ReportBatchItemFailures"]) && aws_lambda_event_source_mapping.this.batch_size == 10 && aws_lambda_event_source_mapping.this.scaling_config[0].maximum_concurrency == 10
    error_message = "partial batch responses, the consumers file's batch size and maximum concurrency"
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.inbox.redrive_policy).maxReceiveCount == 5 && aws_sqs_queue.inbox.visibility_timeout_seconds == 180
    error_message = "redrive after five receives; visibility six times the timeout"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_depth.threshold == 0 && aws_cloudwatch_metric_alarm.dlq_depth.metric_name == "ApproximateNumberOfMessagesVisible"
    error_message = "any dead letter raises the alarm"
  }
}

run "a_visibility_timeout_shorter_than_six_function_timeouts_is_refused" {
  command = plan

  variables {
    function = { function_name = "ledger", alias_arn = "arn:aws:lambda:eu-west-1:123456789012:function:ledger:live", role_name = "ledger-role", timeout = 31 }
  }

  expect_failures = [aws_sqs_queue.inbox]
}

run "every_alarm_notifies_the_platforms_topic_and_waiting_events_are_alarmed" {
  command = plan

  variables {
    platform = { bus_name = "payments", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/k", alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:payments-alarms" }
  }

  assert {
    condition = alltrue([for a in [aws_cloudwatch_metric_alarm.dlq_depth, aws_cloudwatch_metric_alarm.dlq_age, aws_cloudwatch_metric_alarm.inbox_age] :
    a.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:payments-alarms"])])
    error_message = "the depth, age and waiting alarms notify the platform's topic"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.inbox_age.metric_name == "ApproximateAgeOfOldestMessage" && aws_cloudwatch_metric_alarm.inbox_age.threshold == 900 && aws_cloudwatch_metric_alarm.inbox_age.dimensions.QueueName == "ledger-inbox"
    error_message = "events waiting over the bound in the inbox are alarmed"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_age.threshold == 86400 && aws_cloudwatch_metric_alarm.dlq_age.dimensions.QueueName == "ledger-dlq"
    error_message = "a parked message unanswered for a day is alarmed again"
  }
}

run "the_buyers_hops_batch_without_a_wait_from_their_own_queue_settings" {
  command = plan

  variables {
    name     = "finalizer"
    function = { function_name = "finalizer", alias_arn = "arn:aws:lambda:eu-west-1:123456789012:function:finalizer:live", role_name = "finalizer-role", timeout = 30 }
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.maximum_batching_window_in_seconds == 0 && aws_lambda_event_source_mapping.this.batch_size == 10
    error_message = "the charge consumer's own queue block: no batching window (the buyer waits on it)"
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.inbox.redrive_policy).maxReceiveCount == 5 && aws_sqs_queue.inbox.visibility_timeout_seconds == 180
    error_message = "redrive and visibility stay the shared ones"
  }
}

run "the_status_projection_batches_without_a_wait_too" {
  command = plan

  variables {
    name     = "initializer-outcome"
    function = { function_name = "initializer-outcome", alias_arn = "arn:aws:lambda:eu-west-1:123456789012:function:initializer-outcome:live", role_name = "initializer-outcome-role", timeout = 30 }
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.maximum_batching_window_in_seconds == 0
    error_message = "GET /payments/{id} shows the outcome once this consumer ran: no batching wait"
  }
}

run "consumers_nobody_waits_on_keep_the_shared_batching_window" {
  command = plan

  assert {
    condition     = aws_lambda_event_source_mapping.this.maximum_batching_window_in_seconds == 1
    error_message = "the ledger keeps the shared 1 s window: fewer invocations, nobody waits"
  }
}
