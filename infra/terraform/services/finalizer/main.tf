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
      handler = "finalizer.entrypoints.charge.handler"
      tables  = [module.event_store.table_name, module.results.name]
      statements = [
        # The outcome event and its result row in one transaction (each item authorized as a PutItem);
        # a lost race reads the stream back for the stored decision.
        { sid = "RecordOutcomes", actions = ["dynamodb:PutItem", "dynamodb:Query"], resources = [module.event_store.table_arn] },
        { sid = "WriteResultRows", actions = ["dynamodb:PutItem"], resources = [module.results.arn] },
        # The card data key's policy admits this role alone.
        { sid = "OpenCardData", actions = ["kms:Decrypt"], resources = [local.platform.card_data_key_arn] },
        { sid = "ReadPspApiKey", actions = ["ssm:GetParameter"], resources = [aws_ssm_parameter.psp_api_key.arn] },
        # SSM decrypts the SecureString with the platform key under a context naming the parameter.
        {
          sid = "PspApiKeyThroughSsm", actions = ["kms:Decrypt"], resources = [local.platform.kms_key_arn]
          conditions = [
            { test = "StringEquals", variable = "kms:ViaService", values = ["ssm.${var.region}.amazonaws.com"] },
            { test = "StringEquals", variable = "kms:EncryptionContext:PARAMETER_ARN", values = [aws_ssm_parameter.psp_api_key.arn] },
          ]
        },
      ]
    }
    "finalizer-relay" = {
      handler = "finalizer.entrypoints.relay.handler"
      # Reading its stream and sending given-up batches: module.event_store grants them.
      statements = [{
        sid        = "PublishOwnEvents", actions = ["events:PutEvents"], resources = [local.platform.bus_arn]
        conditions = [{ test = "StringEquals", variable = "events:source", values = ["payments.finalizer"] }]
      }]
    }
  }
}

module "event_store" {
  source                   = "../../modules/event_store"
  name                     = "finalizer-events"
  kms_key_arn              = local.platform.kms_key_arn
  relay_function_name      = module.service.functions["finalizer-relay"].function_name
  relay_function_alias_arn = module.service.functions["finalizer-relay"].alias_arn
  relay_role_name          = module.service.functions["finalizer-relay"].role_name
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
