locals {
  functions = {
    "wallet" = {
      handler = "wallet.handler.handler"
      statements = [{
        sid       = "OwnEventStoreAndBalances"
        actions   = ["dynamodb:TransactWriteItems", "dynamodb:PutItem", "dynamodb:ConditionCheckItem", "dynamodb:Query", "dynamodb:GetItem"]
        resources = [module.event_store.table_arn, module.balances.arn]
      }]
    }
    "wallet-api" = {
      handler = "wallet.handler.api_handler"
      statements = [{ sid = "ReadBalances", actions = ["dynamodb:Query"], resources = [module.balances.arn] },
      { sid = "ReadApiPrincipals", actions = ["dynamodb:GetItem"], resources = [local.platform.principals_table_arn] }]
    }
  }
}

module "function" {
  source            = "../../modules/lambda_service"
  for_each          = local.functions
  name              = each.key
  handler           = each.value.handler
  policy_statements = each.value.statements
  snap_start        = endswith(each.key, "-api") # the latency a client waits for: see docs/snapstart.md
  environment = {
    EVENT_STORE_TABLE    = module.event_store.table_name
    BALANCES_TABLE       = module.balances.name
    API_PRINCIPALS_TABLE = local.platform.principals_table_name
  }
  zip_path                  = local.function_defaults.zip_path
  kms_key_arn               = local.function_defaults.kms_key_arn
  firehose_arn              = local.function_defaults.firehose_arn
  logs_to_firehose_role_arn = local.function_defaults.logs_to_firehose_role_arn
  dynatrace                 = module.platform.dynatrace
}

module "event_store" {
  source      = "../../modules/event_store"
  name        = "wallet-events"
  kms_key_arn = local.platform.kms_key_arn
}

module "balances" {
  source      = "../../modules/read_model_table"
  name        = "WalletBalances"
  hash_key    = "merchant_id"
  range_key   = "shard" # one row per wallet shard: a busy merchant's credits spread over them
  kms_key_arn = local.platform.kms_key_arn
}

module "subscription" {
  source         = "../../modules/event_subscription"
  name           = "wallet"
  consumers_file = local.consumers_file
  function       = module.function["wallet"]
  platform       = local.platform
}

module "api" {
  source              = "../../modules/http_api"
  api_id              = local.platform.api_id
  api_execution_arn   = local.platform.api_execution_arn
  function_name       = module.function["wallet-api"].function_name
  function_invoke_arn = module.function["wallet-api"].invoke_arn
  function_qualifier  = module.function["wallet-api"].alias_name
  routes              = ["GET /wallets/{merchant_id}"]
}

output "function_names" {
  value = [for f in module.function : f.function_name]
}

output "tables" {
  value = [module.event_store.table_name, module.balances.name]
}
