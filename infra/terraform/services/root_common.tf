# Shared by every service root (symlinked as root.tf): each root deploys one service alone against an
# applied platform (../../platform). Local state by default; for S3 state add
# `terraform { backend "s3" {} }` in backend.tf and pass -backend-config on init.
terraform {
  required_version = ">= 1.7"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.40" }
  }
}

provider "aws" {
  region                      = var.region
  skip_credentials_validation = var.local_endpoint
  skip_metadata_api_check     = var.local_endpoint
  default_tags {
    tags = { system = "payments", component = local.service }
  }
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "local_endpoint" {
  description = "True when AWS_ENDPOINT_URL points at a local emulator (tests)."
  type        = bool
  default     = false
}

variable "platform_state_path" {
  type    = string
  default = "../../platform/terraform.tfstate"
}

variable "zip_path" {
  description = "The Pants-built zip (./pants package services/<name>::); default: dist/services.<name>/lambda.zip."
  type        = string
  default     = null
}

variable "table_capacity" {
  # One setting for all of this service's tables (its event store and read models), passed through to each table
  # module; modules/table_capacity types and validates it. Default: on demand. docs/capacity.md gives the setting
  # per rate.
  description = "DynamoDB capacity for the service's tables: {billing_mode = \"PROVISIONED\", read_min, read_max, write_min, write_max, target_utilization}; default on demand."
  type        = any
  default     = {}
  nullable    = false
}

variable "dynatrace_enabled" {
  type    = bool
  default = false
}

variable "dynatrace_layer_arn" {
  type    = string
  default = "arn:aws:lambda:eu-west-1:725887861453:layer:Dynatrace_OneAgent_1_303_2_20241004-043401_with_collector_python:1"
}

variable "dynatrace_tenant" {
  type    = string
  default = ""
}

variable "dynatrace_cluster_id" {
  type    = string
  default = ""
}

variable "dynatrace_connection_base_url" {
  type    = string
  default = ""
}

variable "dynatrace_connection_token_parameter" {
  type    = string
  default = "/payments/dynatrace/connection-token"
}

module "platform" {
  source                               = "../../modules/service_platform"
  platform_state_path                  = var.platform_state_path
  dynatrace_enabled                    = var.dynatrace_enabled
  dynatrace_layer_arn                  = var.dynatrace_layer_arn
  dynatrace_tenant                     = var.dynatrace_tenant
  dynatrace_cluster_id                 = var.dynatrace_cluster_id
  dynatrace_connection_base_url        = var.dynatrace_connection_base_url
  dynatrace_connection_token_parameter = var.dynatrace_connection_token_parameter
}

locals {
  service  = basename(abspath(path.root))
  zip_path = coalesce(var.zip_path, "${path.root}/../../../../dist/services.${local.service}/lambda.zip")
  platform = module.platform.platform
  patterns = "${path.module}/../../../../contracts/event_patterns"
  # Each consumer's pattern and function, and the queue settings: shared with the local runtime.
  consumers_file = "${path.module}/../../../../contracts/consumers.json"
  # Each function's routes ("POST /payments"), from the routes file the platform builds the REST API from.
  api_routes = { for r in jsondecode(file("${path.module}/../../../../contracts/api_routes.json")).routes :
    r.function => "${r.method} ${r.path}"...
  }
}

# The service's functions (local.functions and local.environment: the root's own main.tf), wired to the platform.
module "service" {
  source      = "../../modules/service_functions"
  functions   = local.functions
  environment = local.environment
  zip_path    = local.zip_path
  platform    = local.platform
  dynatrace   = module.platform.dynatrace
}

moved {
  from = module.function
  to   = module.service.module.function
}
