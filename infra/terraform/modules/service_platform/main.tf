# What every service root needs from the platform: its outputs (from the platform's state) and the
# Dynatrace settings with tokens read from SSM SecureString.
variable "platform_state_path" {
  description = "Path of the platform root's local state (S3 users: swap for an s3 terraform_remote_state)."
  type        = string
}

variable "dynatrace_enabled" {
  type = bool
}

variable "dynatrace_layer_arn" {
  description = "Region-specific Dynatrace OneAgent layer ARN (python, with collector)."
  type        = string
}

variable "dynatrace_tenant" {
  type = string
}

variable "dynatrace_cluster_id" {
  type = string
}

variable "dynatrace_connection_base_url" {
  type = string
}

variable "dynatrace_connection_token_parameter" {
  type = string
}

data "terraform_remote_state" "platform" {
  backend = "local"
  config  = { path = var.platform_state_path }
}

data "aws_ssm_parameter" "connection_token" {
  count           = var.dynatrace_enabled ? 1 : 0
  name            = var.dynatrace_connection_token_parameter
  with_decryption = true
}

output "platform" {
  value = data.terraform_remote_state.platform.outputs
}

output "dynatrace" {
  sensitive = true
  value = {
    enabled               = var.dynatrace_enabled
    layer_arn             = var.dynatrace_layer_arn
    tenant                = var.dynatrace_tenant
    cluster_id            = var.dynatrace_cluster_id
    connection_base_url   = var.dynatrace_connection_base_url
    connection_auth_token = var.dynatrace_enabled ? data.aws_ssm_parameter.connection_token[0].value : ""
  }
}
