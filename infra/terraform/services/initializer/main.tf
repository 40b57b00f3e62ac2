locals {
  orders_table = "ShowMeTheMoney"
  environment = {
    EVENT_STORE_TABLE       = module.event_store.table_name
    ORDERS_TABLE            = module.orders.name
    CARD_DATA_KEY_ID        = local.platform.card_data_key_arn
    CARD_FINGERPRINT_KEY_ID = aws_kms_alias.card_fingerprint.name
    EVENT_BUS_NAME          = local.platform.bus_name
    API_PRINCIPALS_TABLE    = local.platform.principals_table_name
    RAW_CARD_DATA           = var.raw_card_data ? "on" : "off"
  }
  # DynamoDB authorizes each item of a TransactWriteItems by the item's own action (PutItem, UpdateItem,
  # ConditionCheckItem): `dynamodb:TransactWriteItems` is not an IAM action.
  events_arn = module.event_store.table_arn
  orders_arn = module.orders.arn
  # The HTTP entry point maps the authenticated principal to its merchant (platform/api_access.tf).
  read_principals = { sid = "ReadApiPrincipals", actions = ["dynamodb:GetItem"], resources = [local.platform.principals_table_arn] }
  functions = {
    "initializer-api" = {
      handler = "initializer.entrypoints.api.handler"
      tables  = [module.event_store.table_name, module.orders.name, local.platform.principals_table_name]
      statements = [
        # An order's first events and its row in one transaction; a retried key reads the stream back. A refund
        # loads the order, appends at its next version and updates its row, in one transaction.
        { sid = "PlaceAndRefundOrders", actions = ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"], resources = [local.events_arn] },
        { sid = "WriteAndReadOrderRows", actions = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"], resources = [local.orders_arn] },
        local.read_principals,
        { sid = "SealCardData", actions = ["kms:Encrypt"], resources = [local.platform.card_data_key_arn] },
        { sid = "FingerprintCards", actions = ["kms:GenerateMac"], resources = [aws_kms_key.card_fingerprint.arn] },
      ]
    }
    "initializer-relay" = {
      handler = "initializer.entrypoints.relay.handler"
      # Reading its stream and sending given-up batches: module.event_store grants them.
      statements = [{
        sid        = "PublishOwnEvents", actions = ["events:PutEvents"], resources = [local.platform.bus_arn]
        conditions = [{ test = "StringEquals", variable = "events:source", values = ["payments.initializer"] }]
      }]
    }
    "initializer-outcome" = {
      handler = "initializer.entrypoints.outcome.handler"
      tables  = [module.event_store.table_name, module.orders.name]
      statements = [
        # Load the order's stream, append its outcome at the next version, update its row.
        { sid = "RecordOutcomes", actions = ["dynamodb:Query", "dynamodb:ConditionCheckItem", "dynamodb:PutItem"], resources = [local.events_arn] },
        { sid = "UpdateOrderRows", actions = ["dynamodb:UpdateItem"], resources = [local.orders_arn] },
      ]
    }
  }
}

module "event_store" {
  source                   = "../../modules/event_store"
  capacity                 = var.table_capacity
  alarm_actions            = [local.platform.alarm_topic_arn]
  name                     = "initializer-events"
  kms_key_arn              = local.platform.kms_key_arn
  relay_function_name      = module.service.functions["initializer-relay"].function_name
  relay_function_alias_arn = module.service.functions["initializer-relay"].alias_arn
  relay_role_name          = module.service.functions["initializer-relay"].role_name
}

module "orders" {
  source        = "../../modules/read_model_table"
  capacity      = var.table_capacity
  alarm_actions = [local.platform.alarm_topic_arn]
  name          = local.orders_table
  hash_key      = "payment_order_id"
  kms_key_arn   = local.platform.kms_key_arn
}

# The card fingerprint key is this service's own (the card data key is the platform's: the finalizer
# opens what this service seals).
data "aws_caller_identity" "current" {}

# AWS's default key policy made explicit: the account administers the key, so use is granted by IAM
# alone (only initializer-api's role has it, see local.functions).
data "aws_iam_policy_document" "card_key_policy" {
  # checkov:skip=CKV_AWS_111:A key policy's Resource "*" is this key alone.
  # checkov:skip=CKV_AWS_356:A key policy's Resource "*" is this key alone.
  # checkov:skip=CKV_AWS_109:A key policy's Resource "*" is this key alone; the account administers its key.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "card_fingerprint" {
  description              = "payments initializer: HMAC key for card fingerprints"
  customer_master_key_spec = "HMAC_256"
  key_usage                = "GENERATE_VERIFY_MAC"
  policy                   = data.aws_iam_policy_document.card_key_policy.json
}

resource "aws_kms_alias" "card_fingerprint" {
  name          = "alias/payments-card-fingerprint"
  target_key_id = aws_kms_key.card_fingerprint.key_id
}

module "outcome_subscription" {
  source         = "../../modules/event_subscription"
  name           = "initializer-outcome"
  consumers_file = local.consumers_file
  function       = module.service.functions["initializer-outcome"]
  platform       = local.platform
}

variable "final_status_bound_s" {
  description = "How long a payment may take to reach SUCCESS/FAILED: the finalizer's authentication deadline (900 s) + the sweep's period (300 s) + one run, with a margin."
  type        = number
  default     = 1800
}

# A payment that took longer than the system's bound to become final (emitted by initializer-outcome when it
# records the final status). Payments still not final are the inbox-age and DLQ alarms' (event_subscription).
resource "aws_cloudwatch_metric_alarm" "time_to_final_status" {
  alarm_name          = "payments-time-to-final-status"
  alarm_description   = "A payment reached its final status more than ${var.final_status_bound_s} s after it was accepted."
  namespace           = "Payments"
  metric_name         = "TimeToFinalStatus"
  dimensions          = { service = "initializer" }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.final_status_bound_s * 1000
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.platform.alarm_topic_arn]
}

module "api" {
  source             = "../../modules/api_permissions"
  api_execution_arn  = local.platform.api_execution_arn
  stage_name         = local.platform.api_stage
  function_name      = module.service.functions["initializer-api"].function_name
  function_qualifier = module.service.functions["initializer-api"].alias_name
  routes             = local.api_routes["initializer-api"]
}

output "function_names" {
  value = [for f in module.service.functions : f.function_name]
}

output "tables" {
  value = [module.event_store.table_name, module.orders.name]
}

variable "raw_card_data" {
  description = "Accept card numbers in POST /payments: only if the Stripe account has raw card data access (a new one has not)."
  type        = bool
  default     = false
}
