mock_provider "aws" {
  source = "../../testing/aws" # the data sources' values, shared by the modules' tests
}

variables {
  name        = "svc-fn"
  handler     = "svc.entrypoints.consume.handler"
  s3_bucket   = "artifacts"
  s3_key      = "svc.zip"
  kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/k"
}

run "defaults_without_dynatrace" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.runtime == "python3.12" && aws_lambda_function.this.memory_size == 192 && aws_lambda_function.this.timeout == 30
    error_message = "python3.12, 192 MB, 30 s by default"
  }
  assert {
    condition     = length(aws_lambda_function.this.layers) == 0 && !contains(keys(aws_lambda_function.this.environment[0].variables), "AWS_LAMBDA_EXEC_WRAPPER")
    error_message = "Dynatrace off: no layer, no wrapper"
  }
  assert {
    condition     = length(aws_cloudwatch_log_subscription_filter.to_firehose) == 0
    error_message = "no Firehose given: no subscription filter"
  }
  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_format == "JSON" && aws_lambda_function.this.logging_config[0].system_log_level == "WARN" && aws_lambda_function.this.logging_config[0].application_log_level == "INFO"
    error_message = "JSON logs; Lambda's START and REPORT lines (INFO) filtered out, our INFO lines kept"
  }
  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_group == "/aws/lambda/svc-fn"
    error_message = "logs go to the module's own log group (retention, KMS, the Firehose subscription)"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.any["errors"].metric_name == "Errors" && aws_cloudwatch_metric_alarm.any["throttles"].metric_name == "Throttles"
    error_message = "alarms on errors and throttles"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.p99_duration.threshold == 24000 && aws_cloudwatch_metric_alarm.p99_duration.extended_statistic == "p99"
    error_message = "p99 duration alarm at 80 % of the timeout"
  }
}

run "dynatrace_layer_env_and_log_shipping" {
  command = plan

  variables {
    firehose_arn              = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/logs"
    logs_to_firehose_role_arn = "arn:aws:iam::123456789012:role/logs"
    dynatrace = {
      enabled               = true
      layer_arn             = "arn:aws:lambda:eu-west-1:725887861453:layer:Dynatrace_OneAgent_python:1"
      tenant                = "abc"
      cluster_id            = "42"
      connection_base_url   = "https://abc.live.dynatrace.com"
      connection_auth_token = "dt0c01.secret"
    }
  }

  assert {
    condition     = aws_lambda_function.this.layers[0] == "arn:aws:lambda:eu-west-1:725887861453:layer:Dynatrace_OneAgent_python:1"
    error_message = "the OneAgent layer is attached"
  }
  assert {
    condition = alltrue([for k, v in {
      AWS_LAMBDA_EXEC_WRAPPER = "/opt/dynatrace", DT_TENANT = "abc", DT_CLUSTER_ID = "42",
      DT_CONNECTION_BASE_URL  = "https://abc.live.dynatrace.com", DT_OPEN_TELEMETRY_ENABLE_INTEGRATION = "true",
    } : aws_lambda_function.this.environment[0].variables[k] == v])
    error_message = "the Dynatrace environment is set"
  }
  assert {
    condition     = aws_lambda_function.this.kms_key_arn == "arn:aws:kms:eu-west-1:123456789012:key/k"
    error_message = "the environment (tokens) is encrypted with the platform key"
  }
  assert {
    condition     = aws_cloudwatch_log_subscription_filter.to_firehose[0].destination_arn == "arn:aws:firehose:eu-west-1:123456789012:deliverystream/logs"
    error_message = "logs are shipped to the Firehose"
  }
}

run "published_versions_behind_an_alias_and_snapstart_on_request" {
  command = plan

  variables {
    snap_start = true
  }

  assert {
    condition     = aws_lambda_function.this.publish && aws_lambda_alias.live.name == "live"
    error_message = "every change publishes a version; triggers use the alias"
  }
  assert {
    condition     = aws_lambda_function.this.snap_start[0].apply_on == "PublishedVersions"
    error_message = "SnapStart snapshots published versions"
  }
}

run "no_snapstart_by_default" {
  command = plan

  assert {
    condition     = length(aws_lambda_function.this.snap_start) == 0
    error_message = "SnapStart is off unless asked for"
  }
}

run "platform_lines_back_for_an_investigation" {
  command = plan

  variables {
    system_log_level = "INFO"
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].system_log_level == "INFO"
    error_message = "the platform's level is a setting"
  }
}

run "refuses_an_unknown_system_log_level" {
  command = plan

  variables {
    system_log_level = "ERROR" # application levels only: Lambda's platform lines have DEBUG, INFO, WARN
  }

  expect_failures = [var.system_log_level]
}

run "refuses_an_application_log_level_that_would_drop_the_metrics" {
  command = plan

  variables {
    application_log_level = "WARN" # EMF lines have no level: Lambda counts them INFO and would drop them
  }

  expect_failures = [var.application_log_level]
}
