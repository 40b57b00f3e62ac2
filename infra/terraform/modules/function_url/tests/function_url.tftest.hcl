mock_provider "aws" {}

variables {
  function_name         = "finalizer-webhook"
  qualifier             = "live"
  reserved_concurrency  = 200
  region                = "eu-west-1"
  grant_invoke_function = false
  alarm_actions         = ["arn:aws:sns:eu-west-1:123456789012:payments-alarms"]
}

run "an_open_url_on_the_alias_without_cors" {
  command = plan

  assert {
    condition     = aws_lambda_function_url.this.qualifier == "live" && aws_lambda_function_url.this.authorization_type == "NONE"
    error_message = "the URL invokes the alias (a deploy switches it), auth type NONE"
  }
  assert {
    condition     = aws_lambda_function_url.this.invoke_mode == "BUFFERED" && length(aws_lambda_function_url.this.cors) == 0
    error_message = "buffered (6 MB), no CORS: a server-to-server caller"
  }
}

run "anyone_may_invoke_the_url_only_through_auth_type_none" {
  command = plan

  assert {
    condition = (aws_lambda_permission.invoke_url.action == "lambda:InvokeFunctionUrl" && aws_lambda_permission.invoke_url.principal == "*"
      && aws_lambda_permission.invoke_url.function_url_auth_type == "NONE" && aws_lambda_permission.invoke_url.qualifier == "live"
    && aws_lambda_permission.invoke_url.statement_id == "FunctionURLAllowPublicAccess")
    error_message = "lambda:InvokeFunctionUrl for *, conditioned on FunctionUrlAuthType NONE, on the alias, under the id the provider would add it with"
  }
  assert {
    condition     = length(terraform_data.invoke_function_via_url) == 0
    error_message = "no CLI call against an emulator"
  }
}

run "the_invoke_function_statement_is_conditioned_on_the_url" {
  command = plan
  variables {
    grant_invoke_function = true
  }

  assert {
    condition     = length(terraform_data.invoke_function_via_url) == 1 && terraform_data.invoke_function_via_url[0].input.statement_id == "FunctionURLAllowInvokeAction"
    error_message = "lambda:InvokeFunction is added (October 2025 requirement)"
  }
}

run "the_5xx_rate_alarm_reads_the_urls_metrics_of_the_alias" {
  command = plan

  assert {
    condition = toset([for q in aws_cloudwatch_metric_alarm.url_5xx_rate.metric_query : one(q.metric).metric_name if length(q.metric) > 0]) == toset(["Url5xxCount", "UrlRequestCount"]) && alltrue([
      for q in aws_cloudwatch_metric_alarm.url_5xx_rate.metric_query : one(q.metric).dimensions["FunctionName"] == "finalizer-webhook" && one(q.metric).dimensions["Resource"] == "finalizer-webhook:live" if length(q.metric) > 0
    ])
    error_message = "Url5xxCount over UrlRequestCount, selected by FunctionName and Resource <function>:<alias>"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.url_5xx_rate.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:payments-alarms"])
    error_message = "the alarm notifies the environment's topic"
  }
}

run "an_open_url_needs_reserved_concurrency" {
  command = plan
  variables {
    reserved_concurrency = -1
  }
  expect_failures = [var.reserved_concurrency]
}

run "only_auth_type_none" {
  command = plan
  variables {
    authorization_type = "AWS_IAM"
  }
  expect_failures = [var.authorization_type]
}
