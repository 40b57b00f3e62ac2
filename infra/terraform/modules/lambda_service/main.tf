locals {
  # No DT_LOG_COLLECTION_AUTH_TOKEN: logs reach Dynatrace through one path, the log group's Firehose (which also
  # carries what the OneAgent never sees: Lambda's own lines at system_log_level, API Gateway's logs). With both,
  # every line would be ingested twice. The trace link survives: each line carries [!dt dt.trace_id=…,dt.span_id=…].
  dynatrace_env = {
    AWS_LAMBDA_EXEC_WRAPPER              = "/opt/dynatrace"
    DT_TENANT                            = var.dynatrace.tenant
    DT_CLUSTER_ID                        = var.dynatrace.cluster_id
    DT_CONNECTION_BASE_URL               = var.dynatrace.connection_base_url
    DT_CONNECTION_AUTH_TOKEN             = var.dynatrace.connection_auth_token
    DT_OPEN_TELEMETRY_ENABLE_INTEGRATION = "true"
  }
  environment = merge(
    { POWERTOOLS_SERVICE_NAME = var.name, POWERTOOLS_METRICS_NAMESPACE = "Payments" },
    # The zips ship no pydantic plugin (their tests check): pydantic then skips scanning every distribution's
    # entry points for one when it builds its first model, a part of each cold start.
    { PYDANTIC_DISABLE_PLUGINS = "__all__" },
    var.environment,
    nonsensitive(var.dynatrace.enabled) ? local.dynatrace_env : {},
  )
  layers          = nonsensitive(var.dynatrace.enabled) ? [nonsensitive(var.dynatrace.layer_arn)] : []
  log_group_name  = "/aws/lambda/${var.name}"
  log_group_arn   = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:${local.log_group_name}"
  function_arn    = "arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:function:${var.name}"
  p99_duration_ms = var.timeout * 1000 * 0.8
}

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-role"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:*"]
  }
  # Lambda decrypts the environment under the context naming the function: this grant opens nothing else
  # that the key protects (tables, queues, secrets, log backups).
  statement {
    sid       = "DecryptOwnEnvironment"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:lambda:FunctionArn"
      values   = [local.function_arn]
    }
  }
  dynamic "statement" {
    for_each = var.policy_statements
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources
      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-least-privilege"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# Logs → Firehose → Dynatrace (the seed's log shipping).
resource "aws_cloudwatch_log_subscription_filter" "to_firehose" {
  count           = var.firehose_arn == null ? 0 : 1
  name            = "${var.name}-to-dynatrace"
  log_group_name  = aws_cloudwatch_log_group.this.name
  filter_pattern  = ""
  destination_arn = var.firehose_arn
  role_arn        = var.logs_to_firehose_role_arn
}

resource "aws_lambda_function" "this" {
  function_name                  = var.name
  role                           = aws_iam_role.this.arn
  handler                        = var.handler
  runtime                        = "python3.12"
  architectures                  = ["x86_64"]
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency
  filename                       = var.zip_path
  source_code_hash               = var.zip_path == null ? null : filebase64sha256(var.zip_path)
  s3_bucket                      = var.zip_path == null ? var.s3_bucket : null
  s3_key                         = var.zip_path == null ? var.s3_key : null
  layers                         = local.layers
  kms_key_arn                    = var.kms_key_arn
  tags                           = var.tags
  # Every change publishes a version; triggers reach the function through the alias below, so a SnapStart
  # snapshot (taken of published versions only) serves every invocation, and a deploy switches atomically.
  publish = true

  dynamic "snap_start" {
    for_each = var.snap_start ? [1] : []
    content {
      apply_on = "PublishedVersions"
    }
  }

  environment {
    variables = local.environment
  }

  # JSON: what log-level filtering needs. Our lines are JSON already (Powertools) and pass unchanged.
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = var.application_log_level
    system_log_level      = var.system_log_level
  }

  # checkov:skip=CKV_AWS_117:Serverless design: no VPC resources are reached, and a VPC adds cold-start latency.
  # checkov:skip=CKV_AWS_116:Event-source failures go to the subscriptions' SQS DLQs (module event_subscription).
  # checkov:skip=CKV_AWS_50:Tracing is OpenTelemetry through the Dynatrace OneAgent layer, not X-Ray.
  # checkov:skip=CKV_AWS_272:Code signing needs a signing profile the platform does not run yet.

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  description      = "What every trigger invokes: the latest published version"
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}

# Any error or throttle in two of five minutes.
resource "aws_cloudwatch_metric_alarm" "any" {
  for_each            = { errors = "Errors", throttles = "Throttles" }
  alarm_name          = "${var.name}-${each.key}"
  namespace           = "AWS/Lambda"
  metric_name         = each.value
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 2
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "p99_duration" {
  alarm_name          = "${var.name}-p99-duration"
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  threshold           = local.p99_duration_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
}
