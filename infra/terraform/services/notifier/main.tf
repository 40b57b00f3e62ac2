# The notifier: merchants' webhook endpoints and events (notifier-api), the merchant-visible events recorded from
# the bus (notifier-record, behind its queue notifier-inbox), and their signed deliveries (notifier-deliver, behind
# notifier-deliveries: retried with backoff for ~3 days, then parked in notifier-deliveries-dlq, alarmed).
# Neither queue is on the payment flow's path: a slow or dead endpoint delays no payment.

locals {
  # One source for the retry schedule: the deliverer reads the waits, the queue parks after the last attempt.
  retry_schedule = jsondecode(file("${path.module}/../../../../services/notifier/src/notifier/delivery/retry_schedule.json"))
  # The deliveries queue's settings beside the consumers' in contracts/consumers.json.
  deliveries = jsondecode(file(local.consumers_file)).notifier_deliveries
  environment = {
    API_PRINCIPALS_TABLE     = local.platform.principals_table_name
    WEBHOOK_ENDPOINTS_TABLE  = module.endpoints.name
    MERCHANT_EVENTS_TABLE    = module.merchant_events.name
    WEBHOOK_DELIVERIES_TABLE = module.deliveries_log.name
    DELIVERIES_QUEUE_URL     = module.deliveries_queue.queue_url
    # Never WEBHOOK_TARGETS_ALLOW_LOOPBACK: loopback receivers are the local run's alone (tests/infra checks).
  }
  functions = {
    # Endpoints (registered under a counted limit, secrets rotated compare-and-set) and events (read, redelivered).
    "notifier-api" = {
      handler = "notifier.entrypoints.api.handler"
      tables  = [module.endpoints.name, module.merchant_events.name, module.deliveries_log.name, local.platform.principals_table_name]
      statements = [
        { sid = "ReadApiPrincipals", actions = ["dynamodb:GetItem"], resources = [local.platform.principals_table_arn] },
        # GET /events/{id} shows how each endpoint's delivery went (the deliverer's log).
        { sid = "ReadDeliveryLog", actions = ["dynamodb:Query"], resources = [module.deliveries_log.arn] },
        # A registration or a deletion writes the endpoint and its merchant's count in one transaction.
        { sid = "KeepEndpoints", actions = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], resources = [module.endpoints.arn] },
        { sid = "ReadMerchantEvents", actions = ["dynamodb:GetItem", "dynamodb:Query"], resources = [module.merchant_events.arn] },
        { sid = "QueueRedeliveries", actions = ["sqs:SendMessage"], resources = [module.deliveries_queue.queue_arn] },
        local.deliveries_key_statement,
      ]
    }
    # Each merchant-visible event recorded once, then a delivery queued per subscribed endpoint.
    "notifier-record" = {
      handler = "notifier.entrypoints.record.handler"
      tables  = [module.endpoints.name, module.merchant_events.name]
      statements = [
        { sid = "RecordMerchantEvents", actions = ["dynamodb:PutItem"], resources = [module.merchant_events.arn] },
        { sid = "ReadEndpoints", actions = ["dynamodb:Query"], resources = [module.endpoints.arn] },
        { sid = "QueueDeliveries", actions = ["sqs:SendMessage"], resources = [module.deliveries_queue.queue_arn] },
        local.deliveries_key_statement,
      ]
    }
    # One signed POST per delivery message; its attempts and each endpoint's health in webhook-deliveries; a
    # failure re-scheduled with ChangeMessageVisibility(Batch) (the event source mapping's grants: the module's).
    "notifier-deliver" = {
      handler = "notifier.entrypoints.deliver.handler"
      tables  = [module.endpoints.name, module.merchant_events.name, module.deliveries_log.name]
      statements = [
        { sid = "ReadEventsAndEndpoints", actions = ["dynamodb:GetItem"], resources = [module.endpoints.arn, module.merchant_events.arn] },
        { sid = "LogDeliveries", actions = ["dynamodb:GetItem", "dynamodb:UpdateItem"], resources = [module.deliveries_log.arn] },
        { sid = "RescheduleDeliveries", actions = ["sqs:ChangeMessageVisibility"], resources = [module.deliveries_queue.queue_arn] },
      ]
    }
  }
  # Sending to a queue encrypted with the platform key: SQS makes the data key with the sender's permission.
  deliveries_key_statement = {
    sid       = "DeliveriesKeyThroughSqs"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [local.platform.kms_key_arn]
    conditions = [
      { test = "StringEquals", variable = "kms:ViaService", values = ["sqs.${var.region}.amazonaws.com"] },
      { test = "StringEquals", variable = "kms:EncryptionContext:aws:sqs:arn", values = [module.deliveries_queue.queue_arn] },
    ]
  }
}

# pk merchant_id, sk endpoint_id ("we_…"; one "#count" row per merchant holds its endpoint count).
module "endpoints" {
  source        = "../../modules/read_model_table"
  capacity      = var.table_capacity
  alarm_actions = [local.platform.alarm_topic_arn]
  name          = "webhook-endpoints"
  hash_key      = "merchant_id"
  range_key     = "endpoint_id"
  kms_key_arn   = local.platform.kms_key_arn
}

# pk merchant_id, sk event_id ("evt_<ms>_<hex>": sorts by time, so GET /events is a Query, newest first).
module "merchant_events" {
  source        = "../../modules/read_model_table"
  capacity      = var.table_capacity
  alarm_actions = [local.platform.alarm_topic_arn]
  name          = "merchant-events"
  hash_key      = "merchant_id"
  range_key     = "event_id"
  kms_key_arn   = local.platform.kms_key_arn
}

# The deliverer's: pk merchant_id, sk "event_id#endpoint_id" (each delivery's attempts) or "health#<endpoint>".
module "deliveries_log" {
  source        = "../../modules/read_model_table"
  capacity      = var.table_capacity
  alarm_actions = [local.platform.alarm_topic_arn]
  name          = "webhook-deliveries"
  hash_key      = "merchant_id"
  range_key     = "event_id#endpoint_id"
  kms_key_arn   = local.platform.kms_key_arn
}

module "subscription" {
  source         = "../../modules/event_subscription"
  name           = "notifier"
  consumers_file = local.consumers_file
  function       = module.service.functions["notifier-record"]
  platform       = local.platform
}

# Deliveries: no EventBridge rule (notifier-record and notifier-api send them). A failed attempt is made visible
# again after its backoff; after the schedule's last attempt the redrive parks the message in
# notifier-deliveries-dlq (alarmed: an endpoint failed every attempt for ~3 days). GET /events lets its merchant
# catch up, and POST /events/{id}/redeliver (or `payments-ops dlq redrive`) sends them again.
module "deliveries_queue" {
  source         = "../../modules/event_subscription"
  name           = "notifier-deliveries"
  from_bus       = false
  queue_name     = local.deliveries.queue
  consumers_file = local.consumers_file
  queue_settings = {
    batch_size                      = local.deliveries.batch_size
    maximum_batching_window_seconds = local.deliveries.maximum_batching_window_seconds
    maximum_concurrency             = local.deliveries.maximum_concurrency
    max_receive_count               = local.retry_schedule.max_receive_count
    visibility_timeout_seconds      = local.deliveries.visibility_timeout_seconds
    message_retention_seconds       = local.deliveries.message_retention_seconds
    dlq_retention_seconds           = local.deliveries.dlq_retention_seconds
  }
  # Deliveries waiting far beyond their schedule's step: the deliverer is failing or throttled, not the endpoints.
  max_wait_seconds = local.deliveries.message_retention_seconds - 3600
  function         = module.service.functions["notifier-deliver"]
  platform         = local.platform
}

# The hand-written queue, DLQ, grant, mapping and alarms before the module took them: the same objects.
moved {
  from = aws_sqs_queue.deliveries
  to   = module.deliveries_queue.aws_sqs_queue.inbox
}

moved {
  from = aws_sqs_queue.deliveries_dlq
  to   = module.deliveries_queue.aws_sqs_queue.dlq
}

moved {
  from = aws_iam_role_policy.consume_deliveries
  to   = module.deliveries_queue.aws_iam_role_policy.consume
}

moved {
  from = aws_lambda_event_source_mapping.deliveries
  to   = module.deliveries_queue.aws_lambda_event_source_mapping.this
}

moved {
  from = aws_cloudwatch_metric_alarm.parked
  to   = module.deliveries_queue.aws_cloudwatch_metric_alarm.dlq_depth
}

moved {
  from = aws_cloudwatch_metric_alarm.deliveries_age
  to   = module.deliveries_queue.aws_cloudwatch_metric_alarm.inbox_age
}

module "api" {
  source             = "../../modules/api_permissions"
  api_execution_arn  = local.platform.api_execution_arn
  stage_name         = local.platform.api_stage
  function_name      = module.service.functions["notifier-api"].function_name
  function_qualifier = module.service.functions["notifier-api"].alias_name
  routes             = local.api_routes["notifier-api"]
}

output "function_names" {
  value = [for f in module.service.functions : f.function_name]
}

output "tables" {
  value = [module.endpoints.name, module.merchant_events.name, module.deliveries_log.name]
}

output "deliveries_queue_url" {
  value = module.deliveries_queue.queue_url

  precondition {
    # A message must live through every wait of the schedule before the redrive parks it.
    condition     = local.deliveries.message_retention_seconds > sum(concat([0], local.retry_schedule.delays_s)) + 3600
    error_message = "The deliveries' retention must outlast the retry schedule."
  }
  precondition {
    condition     = local.retry_schedule.max_receive_count == length(local.retry_schedule.delays_s) + 1
    error_message = "maxReceiveCount is the schedule's attempts: one more than its waits."
  }
}
