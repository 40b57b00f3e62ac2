variable "name" {
  description = "Function name."
  type        = string
}

variable "handler" {
  description = "Entry point inside the zip, e.g. initializer.entrypoints.api.handler."
  type        = string
}

variable "zip_path" {
  description = "Local path of the Pants-built zip. Leave null to deploy from s3_bucket/s3_key."
  type        = string
  default     = null
}

variable "s3_bucket" {
  description = "Artifact bucket holding the zip (used when zip_path is null)."
  type        = string
  default     = null
}

variable "s3_key" {
  description = "Key of the zip in the artifact bucket."
  type        = string
  default     = null
}

variable "memory_size" {
  type    = number
  default = 192
}

variable "timeout" {
  type    = number
  default = 30
}

variable "application_log_level" {
  # Never above INFO: the metrics' EMF lines carry no "level", which Lambda takes as INFO ("If the level value field
  # is invalid or missing, Lambda will assign the log output the level INFO"): at WARN every metric would be dropped.
  description = "Lowest level of the function's own log lines Lambda sends to the log group (Powertools reads it as AWS_LAMBDA_LOG_LEVEL): TRACE, DEBUG or INFO."
  type        = string
  default     = "INFO"
  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO"], var.application_log_level)
    error_message = "application_log_level: one of TRACE, DEBUG, INFO (above INFO, Lambda would drop the EMF metric lines, which carry no level)."
  }
}

variable "system_log_level" {
  # WARN: Lambda's own START and REPORT lines (INFO) stay out of the log group, a fifth of a payment's log bytes;
  # what they told is in Lambda's metrics (Duration, Errors - timeouts included - Throttles), which the alarms and
  # the metric stream carry. DEBUG or INFO brings them back for an investigation.
  description = "Lowest level of Lambda's platform log lines (START, REPORT, ...) sent to the log group: DEBUG, INFO or WARN."
  type        = string
  default     = "WARN"
  validation {
    condition     = contains(["DEBUG", "INFO", "WARN"], var.system_log_level)
    error_message = "system_log_level: one of DEBUG, INFO, WARN."
  }
}

variable "snap_start" {
  description = "Start new execution environments from a snapshot of an initialized one (SnapStart; see docs/snapstart.md)."
  type        = bool
  default     = false
}

variable "reserved_concurrency" {
  description = "Reserved concurrency; -1 for none."
  type        = number
  default     = -1
}

variable "environment" {
  description = "Application environment variables."
  type        = map(string)
  default     = {}
}

variable "policy_statements" {
  description = "The function's own permissions: least privilege, one statement per resource family."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []
}

variable "kms_key_arn" {
  description = "Platform KMS key: encrypts the environment (Dynatrace tokens) and the log group."
  type        = string
}

variable "log_retention_days" {
  description = "A payments system keeps a year of audit trail (PCI DSS 10.7)."
  type        = number
  default     = 365
}

variable "firehose_arn" {
  description = "Firehose delivery stream the log group is subscribed to (null: no subscription)."
  type        = string
  default     = null
}

variable "logs_to_firehose_role_arn" {
  description = "Role CloudWatch Logs assumes to put records into the Firehose."
  type        = string
  default     = null
}

variable "dynatrace" {
  description = "Dynatrace OneAgent layer (region-specific ARN) and its settings; tokens come from SSM, never from code."
  type = object({
    enabled               = bool
    layer_arn             = string
    tenant                = string
    cluster_id            = string
    connection_base_url   = string
    connection_auth_token = string
  })
  sensitive = true
  default = {
    enabled               = false
    layer_arn             = ""
    tenant                = ""
    cluster_id            = ""
    connection_base_url   = ""
    connection_auth_token = ""
  }
}

variable "alarm_actions" {
  description = "SNS topics notified by the alarms."
  type        = list(string)
  default     = []
}

variable "tags" {
  type    = map(string)
  default = {}
}
