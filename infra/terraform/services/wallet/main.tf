locals {
  environment = {
    EVENT_STORE_TABLE    = module.event_store.table_name
    BALANCES_TABLE       = module.balances.name
    API_PRINCIPALS_TABLE = local.platform.principals_table_name
  }
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
  function       = module.service.functions["wallet"]
  platform       = local.platform
}

module "api" {
  source              = "../../modules/http_api"
  api_id              = local.platform.api_id
  api_execution_arn   = local.platform.api_execution_arn
  function_name       = module.service.functions["wallet-api"].function_name
  function_invoke_arn = module.service.functions["wallet-api"].invoke_arn
  function_qualifier  = module.service.functions["wallet-api"].alias_name
  routes              = ["GET /wallets/{merchant_id}"]
}

output "function_names" {
  value = [for f in module.service.functions : f.function_name]
}

output "tables" {
  value = [module.event_store.table_name, module.balances.name]
}
