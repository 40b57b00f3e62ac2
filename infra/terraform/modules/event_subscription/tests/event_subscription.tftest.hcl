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
    condition     = jsondecode(aws_cloudwatch_event_rule.this[0].event_pattern)["detail-type"] == ["PaymentStatusUpdated", "RefundStatusUpdated", "DisputeStatusUpdated", "PspPayoutUpdated"]
    error_message = "the rule uses the pattern the consumers file names"
  }
  assert {
    condition     = aws_cloudwatch_event_target.this[0].retry_policy[0].maximum_retry_attempts == 8 && aws_cloudwatch_event_target.this[0].retry_policy[0].maximum_event_age_in_seconds == 3600
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

  expect_failures = [aws_lambda_event_source_mapping.this]
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

run "a_queue_its_producers_send_to_has_no_rule_and_its_own_settings" {
  command = apply

  variables {
    name       = "notifier-deliveries"
    from_bus   = false
    queue_name = "notifier-deliveries"
    queue_settings = {
      batch_size                      = 10
      maximum_batching_window_seconds = 1
      maximum_concurrency             = 4
      max_receive_count               = 17
      visibility_timeout_seconds      = 180
      message_retention_seconds       = 345600
      dlq_retention_seconds           = 1209600
    }
    max_wait_seconds = 342000
    function         = { function_name = "notifier-deliver", alias_arn = "arn:aws:lambda:eu-west-1:123456789012:function:notifier-deliver:live", role_name = "notifier-deliver-role", timeout = 30 }
    platform         = { bus_name = "payments", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/k", alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:payments-alarms" }
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.this) == 0 && length(aws_cloudwatch_event_target.this) == 0 && length(aws_sqs_queue_policy.inbox) == 0 && length(aws_sqs_queue_policy.dlq) == 0 && output.rule_arn == null
    error_message = "no rule, target or queue policy admitting EventBridge"
  }
  assert {
    condition     = aws_sqs_queue.inbox.name == "notifier-deliveries" && aws_sqs_queue.dlq.name == "notifier-deliveries-dlq"
    error_message = "the queue and its DLQ keep their names"
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.inbox.redrive_policy).maxReceiveCount == 17 && aws_sqs_queue.inbox.visibility_timeout_seconds == 180 && aws_sqs_queue.inbox.message_retention_seconds == 345600 && aws_sqs_queue.dlq.message_retention_seconds == 1209600
    error_message = "the given settings, not the consumers file's shared queue"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.function_response_types == toset(["ReportBatchItemFailures"]) && aws_lambda_event_source_mapping.this.batch_size == 10 && aws_lambda_event_source_mapping.this.maximum_batching_window_in_seconds == 1 && aws_lambda_event_source_mapping.this.scaling_config[0].maximum_concurrency == 4
    error_message = "partial batch responses, batching and maximum concurrency as given"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_depth.alarm_name == "notifier-deliveries-dlq-depth" && aws_cloudwatch_metric_alarm.inbox_age.alarm_name == "notifier-deliveries-age" && aws_cloudwatch_metric_alarm.inbox_age.threshold == 342000
    error_message = "the parked and waiting alarms under the names they had"
  }
}

run "the_flow_consumers_keep_their_names" {
  command = plan

  assert {
    condition     = aws_sqs_queue.inbox.name == "ledger-inbox" && aws_sqs_queue.dlq.name == "ledger-dlq" && aws_cloudwatch_event_target.this[0].target_id == "ledger-inbox"
    error_message = "a consumer's queue, DLQ and target id as before"
  }
  assert {
    condition     = [for a in [aws_cloudwatch_metric_alarm.dlq_depth, aws_cloudwatch_metric_alarm.dlq_age, aws_cloudwatch_metric_alarm.inbox_age] : a.alarm_name] == ["ledger-dlq-depth", "ledger-dlq-age", "ledger-inbox-age"]
    error_message = "a consumer's alarms as before"
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

# Refusals at plan, on a fixture consumers file (tests/fixtures): what Lambda or the one-source rule would refuse.
run "a_shared_only_setting_set_per_consumer_is_refused" {
  command = plan

  variables {
    name           = "shared-only-key"
    consumers_file = "tests/fixtures/consumers.json"
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}

run "a_batch_over_ten_without_a_window_is_refused" {
  command = plan

  variables {
    name           = "big-batch-no-window"
    consumers_file = "tests/fixtures/consumers.json"
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}

run "a_batch_over_ten_with_the_shared_window_is_planned" {
  command = plan

  variables {
    name           = "big-batch-window"
    consumers_file = "tests/fixtures/consumers.json"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.batch_size == 50 && aws_lambda_event_source_mapping.this.maximum_batching_window_in_seconds == 1
    error_message = "its own batch size with the shared window"
  }
}
