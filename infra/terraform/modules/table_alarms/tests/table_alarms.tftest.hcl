mock_provider "aws" {}

run "read_and_write_throttles_notify_the_topic" {
  command = plan

  variables {
    table_name    = "ledger-events"
    alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:payments-alarms"]
  }

  assert {
    condition     = { for k, a in aws_cloudwatch_metric_alarm.throttles : k => [a.alarm_name, a.metric_name, a.dimensions.TableName] } == { read = ["ledger-events-read-throttles", "ReadThrottleEvents", "ledger-events"], write = ["ledger-events-write-throttles", "WriteThrottleEvents", "ledger-events"] }
    error_message = "one alarm for read and one for write throttles, named after the table"
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.throttles : a.alarm_actions == toset(var.alarm_actions) && a.threshold == 0])
    error_message = "any throttled request notifies the topic"
  }
}
