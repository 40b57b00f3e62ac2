# A function's own HTTPS endpoint: a Lambda function URL on its alias, for a caller that needs none of API Gateway's
# features (contracts/function_urls.json). Auth type NONE: no SigV4, the caller signs its own way and the function
# verifies it (Stripe-Signature) before anything else. It costs nothing beyond the function's invocation.
#
# As AWS documents it (docs.aws.amazon.com/lambda/latest/dg/urls-auth.html): with NONE, "your function's
# resource-based policy is always in effect and must grant public access before your function URL can receive
# requests"; and "starting in October 2025, new function URLs will require both lambda:InvokeFunctionUrl and
# lambda:InvokeFunction permissions" — the first conditioned on lambda:FunctionUrlAuthType = NONE, the second on
# lambda:InvokedViaFunctionUrl = true (so nobody may Invoke the function directly). The only bound on what an open
# URL can make the account spend is the function's reserved concurrency (set by the root; checked below): beyond
# it the URL answers 429, and Stripe retries a non-2xx for three days.

variable "function_name" {
  type = string
}

variable "qualifier" {
  description = "The alias the URL invokes (lambda_service's alias_name): a deploy switches it atomically."
  type        = string
}

variable "reserved_concurrency" {
  description = "The function's reserved concurrency (lambda_service's reserved_concurrency): an open URL needs one."
  type        = number
  validation {
    condition     = var.reserved_concurrency > 0
    error_message = "A function URL open to anyone needs the function's reserved concurrency as its bound."
  }
}

variable "authorization_type" {
  type    = string
  default = "NONE"
  validation {
    condition     = var.authorization_type == "NONE"
    error_message = "This module opens URLs whose caller signs its own way (NONE); an IAM caller belongs on the REST API."
  }
}

variable "invoke_mode" {
  description = "BUFFERED: 6 MB request and response (Invoke). RESPONSE_STREAM is for streaming functions."
  type        = string
  default     = "BUFFERED"
  validation {
    condition     = contains(["BUFFERED", "RESPONSE_STREAM"], var.invoke_mode)
    error_message = "invoke_mode is BUFFERED or RESPONSE_STREAM."
  }
}

variable "grant_invoke_function" {
  description = "Add the lambda:InvokeFunction statement (condition lambda:InvokedViaFunctionUrl) with the AWS CLI: the pinned provider (5.x) has no argument for that condition (aws_lambda_permission's invoked_via_function_url came in 6.28). False against an emulator that does not enforce resource policies."
  type        = bool
  default     = true
}

variable "region" {
  description = "The function's Region (for the AWS CLI that adds the InvokeFunction statement)."
  type        = string
}

variable "alarm_actions" {
  type    = list(string)
  default = []
}

variable "error_rate_percent" {
  description = "The share of the URL's requests answered 5xx beyond which someone is told (a 503 asks the caller to retry; sustained, nothing settles)."
  type        = number
  default     = 1
}

locals {
  # The metrics of a URL on an alias: FunctionName and Resource = <function>:<alias> (urls-monitoring.html).
  url_dimensions = { FunctionName = var.function_name, Resource = "${var.function_name}:${var.qualifier}" }
}

resource "aws_lambda_function_url" "this" {
  # checkov:skip=CKV_AWS_258:Stripe cannot sign with AWS credentials: the function verifies Stripe-Signature over the raw body before anything else, and its reserved concurrency bounds it.
  function_name      = var.function_name
  qualifier          = var.qualifier
  authorization_type = var.authorization_type
  invoke_mode        = var.invoke_mode
  # No cors block: a server-to-server caller, never a browser.

  # The provider adds this statement itself when it creates a NONE URL (statement id FunctionURLAllowPublicAccess,
  # left alone if it exists): created first under that id, it is the one statement, and it is in the state.
  depends_on = [aws_lambda_permission.invoke_url]
}

# lambda:InvokeFunctionUrl for anyone, only through a URL of auth type NONE (AddPermission's FunctionUrlAuthType).
resource "aws_lambda_permission" "invoke_url" {
  # checkov:skip=CKV_AWS_301:Public on purpose and only through the NONE URL (FunctionUrlAuthType condition): its caller is authenticated by the function (Stripe-Signature).
  statement_id           = "FunctionURLAllowPublicAccess"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = var.function_name
  qualifier              = var.qualifier
  principal              = "*"
  function_url_auth_type = var.authorization_type
}

# lambda:InvokeFunction for anyone, only when invoked via the function URL (the October 2025 requirement). The AWS
# CLI adds it with --invoked-via-function-url; replace with an aws_lambda_permission { invoked_via_function_url =
# true } once the provider is >= 6.28.
resource "terraform_data" "invoke_function_via_url" {
  count = var.grant_invoke_function ? 1 : 0
  input = {
    function     = var.function_name
    qualifier    = var.qualifier
    region       = var.region
    statement_id = "FunctionURLAllowInvokeAction"
  }

  provisioner "local-exec" {
    command = join(" ", [
      "aws lambda remove-permission --region ${self.input.region} --function-name ${self.input.function}",
      "--qualifier ${self.input.qualifier} --statement-id ${self.input.statement_id} >/dev/null 2>&1;",
      "aws lambda add-permission --region ${self.input.region} --function-name ${self.input.function}",
      "--qualifier ${self.input.qualifier} --statement-id ${self.input.statement_id}",
      "--action lambda:InvokeFunction --principal '*' --invoked-via-function-url",
    ])
  }

  provisioner "local-exec" {
    when = destroy
    command = join(" ", [
      "aws lambda remove-permission --region ${self.input.region} --function-name ${self.input.function}",
      "--qualifier ${self.input.qualifier} --statement-id ${self.input.statement_id} || true",
    ])
  }

  depends_on = [aws_lambda_function_url.this]
}

# 5xx as a share of the URL's requests (Url5xxCount: function errors, timeouts, and the function's own 5xx).
resource "aws_cloudwatch_metric_alarm" "url_5xx_rate" {
  alarm_name          = "${var.function_name}-url-5xx-rate"
  alarm_description   = "Over ${var.error_rate_percent} % of ${var.function_name}'s function URL requests answered 5xx in 3 of 5 minutes."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_rate_percent
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  metric_query {
    id          = "rate"
    expression  = "100 * errors / MAX([requests, 1])"
    label       = "5xx %"
    return_data = true
  }
  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Url5xxCount"
      dimensions  = local.url_dimensions
      period      = 60
      stat        = "Sum"
    }
  }
  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "UrlRequestCount"
      dimensions  = local.url_dimensions
      period      = 60
      stat        = "Sum"
    }
  }
}

output "url" {
  description = "The function URL (https://<url-id>.lambda-url.<region>.on.aws/)."
  value       = aws_lambda_function_url.this.function_url
}

output "url_id" {
  value = aws_lambda_function_url.this.url_id
}

output "alarm_name" {
  value = aws_cloudwatch_metric_alarm.url_5xx_rate.alarm_name
}
