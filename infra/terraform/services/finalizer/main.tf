variable "psp_api_base" {
  description = "Base URL of Stripe's API (a Stripe-compatible endpoint in tests)."
  type        = string
  default     = "https://api.stripe.com"
}

variable "psp_api_key_parameter" {
  description = "SSM SecureString holding Stripe's secret key. Terraform creates it with a placeholder; an operator sets the value (aws ssm put-parameter --overwrite), so the key never sits in Terraform state."
  type        = string
  default     = "/payments/finalizer/stripe-secret-key"
}

resource "aws_ssm_parameter" "psp_api_key" {
  name        = var.psp_api_key_parameter
  description = "Stripe secret key of the finalizer (set by an operator)"
  type        = "SecureString"
  key_id      = local.platform.kms_key_arn
  value       = "set-by-an-operator"
  lifecycle {
    ignore_changes = [value]
  }
}

locals {
  environment = {
    EVENT_STORE_TABLE       = module.event_store.table_name
    RESULTS_TABLE           = module.results.name
    EVENT_BUS_NAME          = local.platform.bus_name
    PSP_API_BASE            = var.psp_api_base
    PSP_API_KEY_PARAMETER   = aws_ssm_parameter.psp_api_key.name
    PSP_API_KEY_MAX_AGE_S   = "300"
    PSP_CONNECT_TIMEOUT_S   = "1.0"
    PSP_READ_TIMEOUT_S      = "5.0"
    PSP_MAX_NETWORK_RETRIES = "2"
  }
  functions = {
    "finalizer" = {
      handler = "finalizer.handler.handler"
      statements = [
        {
          sid       = "OwnEventStoreAndResults"
          actions   = ["dynamodb:TransactWriteItems", "dynamodb:PutItem", "dynamodb:ConditionCheckItem", "dynamodb:Query", "dynamodb:GetItem"]
          resources = [module.event_store.table_arn, module.results.arn]
        },
        # The card data key's policy admits this role alone; the secret is decrypted with the platform key.
        { sid = "OpenCardData", actions = ["kms:Decrypt"], resources = [local.platform.card_data_key_arn] },
        { sid = "ReadPspApiKey", actions = ["ssm:GetParameter"], resources = [aws_ssm_parameter.psp_api_key.arn] },
      ]
    }
    "finalizer-relay" = {
      handler = "finalizer.handler.relay_handler"
      statements = [
        { sid = "ReadOwnStream", actions = ["dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream", "dynamodb:ListStreams"], resources = [module.event_store.stream_arn] },
      { sid = "Publish", actions = ["events:PutEvents"], resources = [local.platform.bus_arn] }]
    }
  }
}

module "event_store" {
  source                   = "../../modules/event_store"
  name                     = "finalizer-events"
  kms_key_arn              = local.platform.kms_key_arn
  relay_function_name      = module.service.functions["finalizer-relay"].function_name
  relay_function_alias_arn = module.service.functions["finalizer-relay"].alias_arn
}

module "results" {
  source      = "../../modules/read_model_table"
  name        = "BreakingTheBank"
  hash_key    = "payment_order_id"
  kms_key_arn = local.platform.kms_key_arn
}

module "subscription" {
  source         = "../../modules/event_subscription"
  name           = "finalizer"
  consumers_file = local.consumers_file
  function       = module.service.functions["finalizer"]
  platform       = local.platform
}

output "function_names" {
  value = [for f in module.service.functions : f.function_name]
}

output "tables" {
  value = [module.event_store.table_name, module.results.name]
}
