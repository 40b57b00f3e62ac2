# A service's functions, each a lambda_service wired to the platform the same way in every service root: the
# Pants-built zip, the platform key, the log stream to the Firehose, the OneAgent layer; SnapStart for the
# functions behind the API (the latency a client waits for: see docs/snapstart.md).
variable "functions" {
  description = "Function name -> its entry point, its own permissions (least privilege, as IAM authorizes each call) and the tables it reads or writes (their key is used through DynamoDB)."
  type = map(object({
    handler = string
    statements = list(object({
      sid       = string
      actions   = list(string)
      resources = list(string)
      conditions = optional(list(object({
        test     = string
        variable = string
        values   = list(string)
      })), [])
    }))
    tables = optional(list(string), [])
    # -1: none (the account's unreserved pool). A function behind an open function URL sets one: its only bound.
    reserved_concurrency = optional(number, -1)
  }))
}

variable "environment" {
  description = "The service's environment variables, the same for each of its functions."
  type        = map(string)
}

variable "zip_path" {
  description = "The service's zip (./pants package services/<name>::)."
  type        = string
}

variable "platform" {
  description = "The service_platform module's `platform` output (key, Firehose and its role)."
  type = object({
    kms_key_arn               = string
    firehose_arn              = string
    logs_to_firehose_role_arn = string
    alarm_topic_arn           = optional(string)
  })
}

variable "dynatrace" {
  description = "The service_platform module's `dynatrace` output."
  type        = any
  sensitive   = true
}

data "aws_region" "current" {}

locals {
  # DynamoDB decrypts a table's key (its stream's too) with the caller's permission, under a context naming
  # the table: each function may use the platform key through DynamoDB for its own tables only.
  table_key_statements = {
    for name, f in var.functions : name => length(f.tables) == 0 ? [] : [{
      sid       = "TablesKeyThroughDynamoDB"
      actions   = ["kms:Decrypt"]
      resources = [var.platform.kms_key_arn]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["dynamodb.${data.aws_region.current.name}.amazonaws.com"] },
        { test = "StringEquals", variable = "kms:EncryptionContext:aws:dynamodb:tableName", values = f.tables },
      ]
    }]
  }
}

module "function" {
  source                    = "../lambda_service"
  for_each                  = var.functions
  name                      = each.key
  handler                   = each.value.handler
  policy_statements         = concat(each.value.statements, local.table_key_statements[each.key])
  environment               = var.environment
  snap_start                = endswith(each.key, "-api")
  reserved_concurrency      = each.value.reserved_concurrency
  zip_path                  = var.zip_path
  kms_key_arn               = var.platform.kms_key_arn
  firehose_arn              = var.platform.firehose_arn
  logs_to_firehose_role_arn = var.platform.logs_to_firehose_role_arn
  dynatrace                 = var.dynatrace
  alarm_actions             = compact([var.platform.alarm_topic_arn])
}

output "functions" {
  description = "Function name -> the lambda_service outputs (function_name, alias_arn, invoke_arn, …)."
  value       = module.function
}
