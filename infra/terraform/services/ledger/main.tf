locals {
  # The fee rule's one configuration, read by the wallet's root too (payments_shared.fees): they cannot disagree.
  fees = jsondecode(file("${path.module}/../../../../contracts/fees.json"))
  environment = {
    EVENT_STORE_TABLE    = module.event_store.table_name
    ACCOUNTS_TABLE       = module.accounts.name
    API_PRINCIPALS_TABLE = local.platform.principals_table_name
    FEE_BASIS_POINTS     = tostring(local.fees.basis_points)
    FEE_FIXED_MINOR      = jsonencode(local.fees.fixed_minor)
  }
  functions = {
    # Posts each business event (capture, refund, reversal) to its own journal stream at version 0 (no item
    # shared with other postings); a refused condition means the entry is already posted, so nothing is read back.
    "ledger" = {
      handler    = "ledger.entrypoints.post.handler"
      tables     = [module.event_store.table_name]
      statements = [{ sid = "PostJournalEntries", actions = ["dynamodb:PutItem"], resources = [module.event_store.table_arn] }]
    }
    # Keeps the account totals, fed by the journal's stream (module.event_store grants reading it): a batch's
    # increments (one ADD per account row) commit with each entry's marker in the journal table, so an entry is
    # added once; the same PutItem and UpdateItem actions inside one TransactWriteItems as before.
    "ledger-totals" = {
      handler = "ledger.entrypoints.totals.handler"
      tables  = [module.event_store.table_name, module.accounts.name]
      statements = [
        { sid = "ClaimEntries", actions = ["dynamodb:PutItem"], resources = [module.event_store.table_arn] },
        { sid = "AddToTotals", actions = ["dynamodb:UpdateItem"], resources = [module.accounts.arn] },
      ]
    }
    "ledger-api" = {
      handler = "ledger.entrypoints.api.handler"
      tables  = [module.accounts.name, local.platform.principals_table_name]
      statements = [{ sid = "ReadAccounts", actions = ["dynamodb:Scan"], resources = [module.accounts.arn] },
      { sid = "ReadApiPrincipals", actions = ["dynamodb:GetItem"], resources = [local.platform.principals_table_arn] }]
    }
  }
}

# The ledger publishes nothing: its stream feeds the account-totals projection instead of a relay.
module "event_store" {
  source                   = "../../modules/event_store"
  capacity                 = var.table_capacity
  alarm_actions            = [local.platform.alarm_topic_arn]
  name                     = "ledger-events"
  kms_key_arn              = local.platform.kms_key_arn
  relay_function_name      = module.service.functions["ledger-totals"].function_name
  relay_function_alias_arn = module.service.functions["ledger-totals"].alias_arn
  relay_role_name          = module.service.functions["ledger-totals"].role_name
}

module "accounts" {
  source        = "../../modules/read_model_table"
  capacity      = var.table_capacity
  alarm_actions = [local.platform.alarm_topic_arn]
  name          = "LedgerAccounts"
  hash_key      = "account"
  range_key     = "currency"
  kms_key_arn   = local.platform.kms_key_arn
}

module "subscription" {
  source         = "../../modules/event_subscription"
  name           = "ledger"
  consumers_file = local.consumers_file
  function       = module.service.functions["ledger"]
  platform       = local.platform
}

# The wallet's payouts (PayoutPaid) reach the same function behind their own queue (contracts/consumers.json).
module "payout_subscription" {
  source         = "../../modules/event_subscription"
  name           = "ledger-payouts"
  consumers_file = local.consumers_file
  function       = module.service.functions["ledger"]
  platform       = local.platform
}

module "api" {
  source             = "../../modules/api_permissions"
  api_execution_arn  = local.platform.api_execution_arn
  stage_name         = local.platform.api_stage
  function_name      = module.service.functions["ledger-api"].function_name
  function_qualifier = module.service.functions["ledger-api"].alias_name
  routes             = local.api_routes["ledger-api"]
}

output "function_names" {
  value = [for f in module.service.functions : f.function_name]
}

output "tables" {
  value = [module.event_store.table_name, module.accounts.name]
}
