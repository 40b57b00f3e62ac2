mock_provider "aws" {
  source = "../testing/aws" # the data sources' values, shared with the modules' tests
}

run "merchant_and_operator_roles_of_other_accounts_are_accepted" {
  command = plan

  variables {
    merchants = {
      "m-1"                                            = "arn:aws:iam::111111111111:role/backend"
      "acme_eu-2"                                      = "arn:aws-us-gov:iam::222222222222:role/integrations/payments"
      "a234567890123456789012345678901234567890123456" = "arn:aws-cn:iam::333333333333:role/backend"
    }
    operator_principals = ["arn:aws:iam::123456789012:role/support"]
  }

  assert {
    condition     = toset([for r in aws_iam_role.merchant : r.name]) == toset(["payments-merchant-m-1", "payments-merchant-acme_eu-2", "payments-merchant-a234567890123456789012345678901234567890123456"])
    error_message = "one API role per merchant"
  }
  assert {
    condition     = length(aws_iam_role.operator) == 1
    error_message = "the operators' API role"
  }
}

# Refused principals: each alone, so that each form is shown to fail the validation.
run "merchant_principal_star" {
  command = plan

  variables {
    merchants = { "m-1" = "*" }
  }

  expect_failures = [var.merchants]
}

run "merchant_principal_account_root" {
  command = plan

  variables {
    merchants = { "m-1" = "arn:aws:iam::123456789012:root" }
  }

  expect_failures = [var.merchants]
}

run "merchant_principal_bare_account_id" {
  command = plan

  variables {
    merchants = { "m-1" = "123456789012" }
  }

  expect_failures = [var.merchants]
}

run "merchant_principal_user" {
  command = plan

  variables {
    merchants = { "m-1" = "arn:aws:iam::123456789012:user/alice" }
  }

  expect_failures = [var.merchants]
}

run "merchant_principal_empty" {
  command = plan

  variables {
    merchants = { "m-1" = "" }
  }

  expect_failures = [var.merchants]
}

run "merchant_principal_role_of_an_11_digit_account" {
  command = plan

  variables {
    merchants = { "m-1" = "arn:aws:iam::12345678901:role/backend" }
  }

  expect_failures = [var.merchants]
}

run "operator_principal_star" {
  command = plan

  variables {
    operator_principals = ["*"]
  }

  expect_failures = [var.operator_principals]
}

run "operator_principal_account_root" {
  command = plan

  variables {
    operator_principals = ["arn:aws:iam::123456789012:root"]
  }

  expect_failures = [var.operator_principals]
}

run "operator_principal_bare_account_id" {
  command = plan

  variables {
    operator_principals = ["123456789012"]
  }

  expect_failures = [var.operator_principals]
}

run "operator_principal_user" {
  command = plan

  variables {
    operator_principals = ["arn:aws:iam::123456789012:user/alice"]
  }

  expect_failures = [var.operator_principals]
}

run "operator_principal_empty" {
  command = plan

  variables {
    operator_principals = [""]
  }

  expect_failures = [var.operator_principals]
}

run "merchant_id_empty" {
  command = plan

  variables {
    merchants = { "" = "arn:aws:iam::111111111111:role/backend" }
  }

  expect_failures = [var.merchants]
}

run "merchant_id_with_a_space" {
  command = plan

  variables {
    merchants = { "acme corp" = "arn:aws:iam::111111111111:role/backend" }
  }

  expect_failures = [var.merchants]
}

run "merchant_id_too_long_for_its_role_name" {
  command = plan

  variables {
    merchants = { "a2345678901234567890123456789012345678901234567" = "arn:aws:iam::111111111111:role/backend" }
  }

  expect_failures = [var.merchants]
}

run "services_use_the_platform_key_only_for_this_accounts_resources" {
  command = plan

  assert {
    condition = jsonencode({ for s in data.aws_iam_policy_document.key_policy.statement : s.sid => [s.principals, s.condition] if s.sid != "AccountAdministers" }) == jsonencode({
      CloudWatchAlarmsPublishToTheEncryptedTopic = [
        [{ type = "Service", identifiers = ["cloudwatch.amazonaws.com"] }],
        [{ test = "StringEquals", variable = "aws:SourceAccount", values = ["123456789012"] }],
      ]
      CloudWatchLogsEncryptsThisAccountsLogGroups = [
        [{ type = "Service", identifiers = ["logs.eu-west-1.amazonaws.com"] }],
        [{ test = "ArnLike", variable = "kms:EncryptionContext:aws:logs:arn", values = ["arn:aws:logs:eu-west-1:123456789012:log-group:*"] }],
      ]
      EventBridgeSendsToEncryptedQueues = [
        [{ type = "Service", identifiers = ["events.amazonaws.com"] }],
        [
          { test = "ArnLike", variable = "aws:SourceArn", values = ["arn:aws:events:eu-west-1:123456789012:rule/payments/*"] },
          { test = "StringEquals", variable = "aws:SourceAccount", values = ["123456789012"] },
        ],
      ]
    })
    error_message = "service principals use the key only under conditions naming this account's log groups, rules and alarms; SQS gets no grant of its own"
  }
  assert {
    condition = jsonencode([for s in data.aws_iam_policy_document.artifacts_tls_only.statement : [s.effect, s.actions, s.condition]]) == jsonencode([
      ["Deny", ["s3:*"], [{ test = "Bool", variable = "aws:SecureTransport", values = ["false"] }]]
    ])
    error_message = "the artifact bucket denies every request made without TLS"
  }
}

run "every_platform_alarm_notifies_the_topic_its_subscribers_read" {
  command = plan

  variables {
    alarm_subscriptions = [{ protocol = "email", endpoint = "oncall@example.com" }]
  }

  assert {
    condition     = aws_sns_topic_subscription.alarms["email:oncall@example.com"].protocol == "email"
    error_message = "subscriptions come from the variable"
  }
  assert {
    condition     = toset([for k, v in aws_cloudwatch_metric_alarm.firehose_delivery : v.metric_name]) == toset(["DeliveryToHttpEndpoint.Success"]) && length(aws_cloudwatch_metric_alarm.firehose_delivery) == 2
    error_message = "both Firehoses' delivery to Dynatrace is alarmed"
  }
  assert {
    condition     = [for q in aws_cloudwatch_metric_alarm.api_5xx_rate.metric_query : q.expression if q.return_data == true] == ["100 * errors / MAX([requests, 1])"]
    error_message = "5xx alarmed as a share of requests"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.api_p99_latency.extended_statistic == "p99" && jsonencode(aws_cloudwatch_metric_alarm.api_p99_latency.dimensions) == jsonencode({ ApiName = "payments", Stage = "prod" })
    error_message = "p99 latency of the REST API's prod stage"
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.key_policy.statement : [for p in s.principals : p.identifiers] if s.sid == "CloudWatchAlarmsPublishToTheEncryptedTopic"]) == [toset(["cloudwatch.amazonaws.com"])]
    error_message = "alarms may publish to the encrypted topic"
  }
}

run "an_unknown_subscription_protocol_is_refused" {
  command = plan
  variables {
    alarm_subscriptions = [{ protocol = "carrier-pigeon", endpoint = "roof" }]
  }
  expect_failures = [var.alarm_subscriptions]
}
