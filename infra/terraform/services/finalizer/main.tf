variable "psp_url" {
  description = "Base URL of the PSP's API."
  type        = string
  default     = "https://psp.example.com"
}

locals {
  environment = {
    EVENT_STORE_TABLE     = module.event_store.table_name
    RESULTS_TABLE         = module.results.name
    EVENT_BUS_NAME        = local.platform.bus_name
    PSP_URL               = var.psp_url
    PSP_CONNECT_TIMEOUT_S = "1.0"
    PSP_READ_TIMEOUT_S    = "3.0"
    PSP_MAX_ATTEMPTS      = "3"
  }
  functions = {
    "finalizer" = {
      handler = "finalizer.handler.handler"
      statements = [{
        sid       = "OwnEventStoreAndResults"
        actions   = ["dynamodb:TransactWriteItems", "dynamodb:PutItem", "dynamodb:ConditionCheckItem", "dynamodb:Query", "dynamodb:GetItem"]
        resources = [module.event_store.table_arn, module.results.arn]
      }]
    }
    "finalizer-relay" = {
      handler = "finalizer.handler.relay_handler"
      statements = [
        { sid = "ReadOwnStream", actions = ["dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream", "dynamodb:ListStreams"], resources = [module.event_store.stream_arn] },
      { sid = "Publish", actions = ["events:PutEvents"], resources = [local.platform.bus_arn] }]
    }
  }
}

module "function" {
  source                    = "../../modules/lambda_service"
  for_each                  = local.functions
  name                      = each.key
  handler                   = each.value.handler
  policy_statements         = each.value.statements
  environment               = local.environment
  zip_path                  = local.function_defaults.zip_path
  kms_key_arn               = local.function_defaults.kms_key_arn
  firehose_arn              = local.function_defaults.firehose_arn
  logs_to_firehose_role_arn = local.function_defaults.logs_to_firehose_role_arn
  dynatrace                 = module.platform.dynatrace
}

module "event_store" {
  source              = "../../modules/event_store"
  name                = "finalizer-events"
  kms_key_arn         = local.platform.kms_key_arn
  relay_function_name = module.function["finalizer-relay"].function_name
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
  function       = module.function["finalizer"]
  platform       = local.platform
}

output "function_names" {
  value = [for f in module.function : f.function_name]
}

output "tables" {
  value = [module.event_store.table_name, module.results.name]
}
