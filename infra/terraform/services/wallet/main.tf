variable "settlement_delay_s" {
  description = "Seconds a capture's net stays pending before a payout may move it: T+2, Stripe's standard settlement."
  type        = number
  default     = 172800
}

locals {
  # The fee rule's one configuration, read by the ledger's root too (payments_shared.fees): they cannot disagree.
  fees = jsondecode(file("${path.module}/../../../../contracts/fees.json"))
  environment = {
    EVENT_STORE_TABLE    = module.event_store.table_name
    BALANCES_TABLE       = module.balances.name
    API_PRINCIPALS_TABLE = local.platform.principals_table_name
    EVENT_BUS_NAME       = local.platform.bus_name
    FEE_BASIS_POINTS     = tostring(local.fees.basis_points)
    FEE_FIXED_MINOR      = jsonencode(local.fees.fixed_minor)
    # A capture's net stays pending this long before a payout may move it (wallet.domain.settlement): two
    # days, Stripe's T+2 settlement for most countries.
    SETTLEMENT_DELAY_S = tostring(var.settlement_delay_s)
  }
  functions = {
    # A credit loads its wallet shard (snapshot, then the version after it; a Query only if newer events
    # exist) and appends at the next version with the dedupe marker, snapshot and the shard's balance row.
    "wallet" = {
      handler = "wallet.entrypoints.credit.handler"
      tables  = [module.event_store.table_name, module.balances.name]
      statements = [
        { sid = "CreditWallets", actions = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem", "dynamodb:PutItem"], resources = [module.event_store.table_arn] },
        { sid = "WriteBalanceRows", actions = ["dynamodb:PutItem"], resources = [module.balances.arn] },
      ]
    }
    "wallet-api" = {
      handler = "wallet.entrypoints.api.handler"
      tables  = [module.event_store.table_name, module.balances.name, local.platform.principals_table_name]
      statements = [{ sid = "ReadBalances", actions = ["dynamodb:Query"], resources = [module.balances.arn] },
        { sid = "ReadApiPrincipals", actions = ["dynamodb:GetItem"], resources = [local.platform.principals_table_arn] },
        # A payout loads its payouts stream (snapshot, then events after it) and appends at the next version
        # with its once-claim, snapshot and the payouts row (POST /payouts).
        { sid = "PayOut", actions = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem", "dynamodb:PutItem"], resources = [module.event_store.table_arn] },
      { sid = "WritePayoutRows", actions = ["dynamodb:PutItem"], resources = [module.balances.arn] }]
    }
    # The wallet's outbox relay: its payouts (PayoutPaid) to the bus, for the ledger. Shard moves stay private.
    "wallet-relay" = {
      handler = "wallet.entrypoints.relay.handler"
      # Reading its stream and sending given-up batches: module.event_store grants them.
      statements = [{
        sid        = "PublishOwnEvents", actions = ["events:PutEvents"], resources = [local.platform.bus_arn]
        conditions = [{ test = "StringEquals", variable = "events:source", values = ["payments.wallet"] }]
      }]
    }
  }
}

module "event_store" {
  source                   = "../../modules/event_store"
  capacity                 = var.table_capacity
  alarm_actions            = [local.platform.alarm_topic_arn]
  name                     = "wallet-events"
  kms_key_arn              = local.platform.kms_key_arn
  relay_function_name      = module.service.functions["wallet-relay"].function_name
  relay_function_alias_arn = module.service.functions["wallet-relay"].alias_arn
  relay_role_name          = module.service.functions["wallet-relay"].role_name
}

module "balances" {
  source        = "../../modules/read_model_table"
  capacity      = var.table_capacity
  alarm_actions = [local.platform.alarm_topic_arn]
  name          = "WalletBalances"
  hash_key      = "merchant_id"
  range_key     = "shard" # one row per wallet shard: a busy merchant's credits spread over them
  kms_key_arn   = local.platform.kms_key_arn
}

module "subscription" {
  source         = "../../modules/event_subscription"
  name           = "wallet"
  consumers_file = local.consumers_file
  function       = module.service.functions["wallet"]
  platform       = local.platform
}

module "api" {
  source             = "../../modules/api_permissions"
  api_execution_arn  = local.platform.api_execution_arn
  stage_name         = local.platform.api_stage
  function_name      = module.service.functions["wallet-api"].function_name
  function_qualifier = module.service.functions["wallet-api"].alias_name
  routes             = local.api_routes["wallet-api"]
}

output "function_names" {
  value = [for f in module.service.functions : f.function_name]
}

output "tables" {
  value = [module.event_store.table_name, module.balances.name]
}
