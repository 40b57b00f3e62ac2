# A service's functions, each a lambda_service wired to the platform the same way in every service root: the
# Pants-built zip, the platform key, the log stream to the Firehose, the OneAgent layer; SnapStart for the
# functions behind the API (the latency a client waits for: see docs/snapstart.md).
variable "functions" {
  description = "Function name -> its entry point and its own permissions (least privilege)."
  type = map(object({
    handler = string
    statements = list(object({
      sid       = string
      actions   = list(string)
      resources = list(string)
    }))
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
  })
}

variable "dynatrace" {
  description = "The service_platform module's `dynatrace` output."
  type        = any
  sensitive   = true
}

module "function" {
  source                    = "../lambda_service"
  for_each                  = var.functions
  name                      = each.key
  handler                   = each.value.handler
  policy_statements         = each.value.statements
  environment               = var.environment
  snap_start                = endswith(each.key, "-api")
  zip_path                  = var.zip_path
  kms_key_arn               = var.platform.kms_key_arn
  firehose_arn              = var.platform.firehose_arn
  logs_to_firehose_role_arn = var.platform.logs_to_firehose_role_arn
  dynatrace                 = var.dynatrace
}

output "functions" {
  description = "Function name -> the lambda_service outputs (function_name, alias_arn, invoke_arn, …)."
  value       = module.function
}
