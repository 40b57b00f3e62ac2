variable "fee_basis_points" {
  type    = number
  default = 0
}

locals {
  functions = {
    "ledger" = {
      handler = "ledger.handler.handler"
      statements = [{
        sid       = "OwnJournalAndAccounts"
        actions   = ["dynamodb:TransactWriteItems", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "dynamodb:Query", "dynamodb:GetItem"]
        resources = [module.event_store.table_arn, module.accounts.arn]
      }]
    }
    "ledger-api" = {
      handler    = "ledger.handler.api_handler"
      statements = [{ sid = "ReadAccounts", actions = ["dynamodb:Scan"], resources = [module.accounts.arn] }]
    }
  }
}

module "function" {
  source            = "../../modules/lambda_service"
  for_each          = local.functions
  name              = each.key
  handler           = each.value.handler
  policy_statements = each.value.statements
  environment = {
    EVENT_STORE_TABLE = module.event_store.table_name
    ACCOUNTS_TABLE    = module.accounts.name
    FEE_BASIS_POINTS  = tostring(var.fee_basis_points)
  }
  zip_path                  = local.function_defaults.zip_path
  kms_key_arn               = local.function_defaults.kms_key_arn
  firehose_arn              = local.function_defaults.firehose_arn
  logs_to_firehose_role_arn = local.function_defaults.logs_to_firehose_role_arn
  dynatrace                 = module.platform.dynatrace
}

# The ledger publishes nothing: no relay on its stream.
module "event_store" {
  source      = "../../modules/event_store"
  name        = "ledger-events"
  kms_key_arn = local.platform.kms_key_arn
}

module "accounts" {
  source      = "../../modules/read_model_table"
  name        = "LedgerAccounts"
  hash_key    = "account"
  range_key   = "currency"
  kms_key_arn = local.platform.kms_key_arn
}

module "subscription" {
  source             = "../../modules/event_subscription"
  name               = "ledger"
  event_bus_name     = local.platform.bus_name
  event_pattern_file = "${local.patterns}/payment_status_updated.json"
  function_arn       = module.function["ledger"].function_arn
  function_name      = module.function["ledger"].function_name
  kms_key_arn        = local.platform.kms_key_arn
}

module "api" {
  source              = "../../modules/http_api"
  api_id              = local.platform.api_id
  api_execution_arn   = local.platform.api_execution_arn
  function_name       = module.function["ledger-api"].function_name
  function_invoke_arn = module.function["ledger-api"].invoke_arn
  routes              = ["GET /ledger/trial-balance"]
}

output "function_names" {
  value = [for f in module.function : f.function_name]
}

output "tables" {
  value = [module.event_store.table_name, module.accounts.name]
}
