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

variable "stripe_webhook_secret_parameter" {
  description = "SSM SecureString holding the signing secret (whsec_…) of the Stripe webhook endpoint registered at the stripe_webhook_endpoint output (the finalizer-webhook function's URL). Created with a placeholder; an operator sets it."
  type        = string
  default     = "/payments/finalizer/stripe-webhook-secret"
}

# Stripe's webhook is the finalizer-webhook function's own URL (auth type NONE): anyone may call it, the function
# refuses what Stripe did not sign, and its reserved concurrency is the only bound on what it may spend. Stripe sends
# about one webhook per payment (payment_intent.succeeded) and one per 3-D Secure step; each takes ~0.1–0.2 s (one
# Query, a transaction when it settles): 200 carries 1,000 payments/s. Beyond it the URL answers 429 and Stripe
# retries: "Stripe automatically resends the undelivered events to your endpoint for up to three days"
# (docs.stripe.com/webhooks/process-undelivered-events). Stripe asks only for an HTTPS endpoint URL
# (docs.stripe.com/webhooks): nothing of API Gateway's is needed.
variable "webhook_reserved_concurrency" {
  description = "Reserved concurrency of finalizer-webhook, the function behind Stripe's open webhook URL."
  type        = number
  default     = 200
}

variable "authentication_deadline_s" {
  description = "How long a buyer has to complete 3-D Secure before the sweep cancels the payment (FAILED)."
  type        = number
  default     = 900
}

variable "capture_window_s" {
  description = "How long an authorization (a manual-capture payment) is held for its capture before the sweep cancels it (CANCELED, reason abandoned): Stripe's window for online card payments, 7 days, after which Stripe cancels the PaymentIntent itself."
  type        = number
  default     = 604800
}

variable "sweep_period_minutes" {
  description = "How often the sweep looks for abandoned authentications: a payment is final at most deadline + this period (+ one run) after its charge."
  type        = number
  default     = 5
}

# The PSP's settings: the function's environment and the charge budget's check read the same variables. The
# defaults fit a batch of 10 in the 30 s timeout with room (charge_budget: 24.5 s): 10 records at once make the
# batch as slow as its slowest record, not the sum; a 1 s connect timeout is ample in-Region to Stripe; 5 s read
# is far above Stripe's answers for a card (its p99 is around 2 s: docs/capacity.md), and 2 retries are Stripe's
# SDK default, enough for a lost connection or a 409 of a key's concurrent request.
variable "psp_connect_timeout_s" {
  description = "Stripe SDK's connect timeout per attempt."
  type        = number
  default     = 1
}

variable "psp_read_timeout_s" {
  description = "Stripe SDK's read timeout per attempt."
  type        = number
  default     = 5
}

variable "psp_max_network_retries" {
  description = "Stripe SDK's retries of a request (connection errors, 409, 5xx, or when Stripe-Should-Retry says so)."
  type        = number
  default     = 2
}

# The Stripe request budget (issue 32, docs/capacity.md): 20/s by default, under Stripe's default 25/s per endpoint
# (POST /v1/payment_intents) and a sandbox's 25/s in all. Each of the charge consumer's environments may send its
# share (budget / maximum_concurrency), so the finalizer's full concurrency never exceeds it, with no shared counter
# (no AWS call per request). Raise it after Stripe raises the account's limits (stripe_limit_per_s).
variable "stripe_request_budget_per_s" {
  description = "Stripe requests per second the finalizer may send in all (divided among its environments)."
  type        = number
  default     = 20
}

variable "stripe_limit_per_s" {
  description = "The Stripe account's limit the budget must stay under (25/s per endpoint unless Stripe raised it)."
  type        = number
  default     = 25
}

variable "charge_concurrency" {
  description = "Records of a batch the finalizer charges at once (threads); with the batch size and the PSP timeouts, the batch's worst case must fit the function's timeout (module.charge_budget refuses it at plan otherwise)."
  type        = number
  default     = 10
}

resource "aws_ssm_parameter" "stripe_webhook_secret" {
  name        = var.stripe_webhook_secret_parameter
  description = "Signing secret of the Stripe webhook endpoint (set by an operator)"
  type        = "SecureString"
  key_id      = local.platform.kms_key_arn
  value       = "set-by-an-operator"
  lifecycle {
    ignore_changes = [value]
  }
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
  # The charge consumer's queue: the shared settings with its own over them (contracts/consumers.json).
  consumers_settings = jsondecode(file(local.consumers_file))
  queue_settings     = merge(local.consumers_settings.queue, lookup(local.consumers_settings.consumers["finalizer"], "queue", {}))
  # Each environment's share of the Stripe request budget (module.charge_budget checks the budget itself).
  stripe_requests_per_s = var.stripe_request_budget_per_s / local.queue_settings.maximum_concurrency
  # How long a request waits for a token before it is not sent (its record redelivered): in the batch's worst case.
  stripe_request_wait_s = 1
  environment = {
    EVENT_STORE_TABLE               = module.event_store.table_name
    RESULTS_TABLE                   = module.results.name
    EVENT_BUS_NAME                  = local.platform.bus_name
    PSP_API_BASE                    = var.psp_api_base
    PSP_API_KEY_PARAMETER           = aws_ssm_parameter.psp_api_key.name
    PSP_API_KEY_MAX_AGE_S           = "300"
    PSP_CONNECT_TIMEOUT_S           = tostring(var.psp_connect_timeout_s)
    PSP_READ_TIMEOUT_S              = tostring(var.psp_read_timeout_s)
    PSP_MAX_NETWORK_RETRIES         = tostring(var.psp_max_network_retries)
    FINALIZER_CHARGE_CONCURRENCY    = tostring(var.charge_concurrency)
    STRIPE_REQUESTS_PER_S           = tostring(local.stripe_requests_per_s)
    STRIPE_REQUEST_BURST            = tostring(var.charge_concurrency) # a batch's records start together
    STRIPE_REQUEST_WAIT_S           = tostring(local.stripe_request_wait_s)
    STRIPE_WEBHOOK_SECRET_PARAMETER = aws_ssm_parameter.stripe_webhook_secret.name
    AUTHENTICATION_DEADLINE_S       = tostring(var.authentication_deadline_s)
    CAPTURE_WINDOW_S                = tostring(var.capture_window_s)
  }
  # Load a payment's stream, append at its next version (3-D Secure: the outcome after PaymentActionRequired,
  # checked against the version read), claim a webhook's event id: items of one transaction.
  settle_payments = { sid = "SettlePayments", actions = ["dynamodb:Query", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"], resources = [module.event_store.table_arn] }
  write_results   = { sid = "WriteResultRows", actions = ["dynamodb:PutItem"], resources = [module.results.arn] }
  # Reading an SSM SecureString: the parameter, and the platform key SSM decrypts it with under a context naming
  # that parameter.
  read_secret = { for name, arn in {
    PspApiKey     = aws_ssm_parameter.psp_api_key.arn
    WebhookSecret = aws_ssm_parameter.stripe_webhook_secret.arn
    } : name => [
    { sid = "Read${name}", actions = ["ssm:GetParameter"], resources = [arn] },
    {
      sid = "${name}ThroughSsm", actions = ["kms:Decrypt"], resources = [local.platform.kms_key_arn]
      conditions = [
        { test = "StringEquals", variable = "kms:ViaService", values = ["ssm.${var.region}.amazonaws.com"] },
        { test = "StringEquals", variable = "kms:EncryptionContext:PARAMETER_ARN", values = [arn] },
      ]
    },
  ] }
  functions = {
    "finalizer" = {
      handler = "finalizer.entrypoints.charge.handler"
      tables  = [module.event_store.table_name, module.results.name]
      statements = concat([
        # The outcome event and its result row in one transaction (each item authorized as a PutItem);
        # a lost race reads the stream back for the stored decision; a redelivery settles a 3-D Secure one.
        local.settle_payments,
        local.write_results,
        # The card data key's policy admits this role alone.
        { sid = "OpenCardData", actions = ["kms:Decrypt"], resources = [local.platform.card_data_key_arn] },
      ], local.read_secret.PspApiKey)
    }
    # RefundRequested (its queue): the payment's stream read for the PaymentIntent, the refund asked of Stripe,
    # its answer appended to the refund's own stream (a lost race reads that stream back). No results row.
    "finalizer-refund" = {
      handler = "finalizer.entrypoints.refund.handler"
      tables  = [module.event_store.table_name]
      statements = concat([
        { sid = "RecordRefunds", actions = ["dynamodb:Query", "dynamodb:PutItem"], resources = [module.event_store.table_arn] },
      ], local.read_secret.PspApiKey)
    }
    # CaptureRequested and CancelRequested (their queue): an authorized payment's stream read, the capture or the
    # cancel asked of Stripe, SUCCESS or CANCELED appended after PaymentAuthorized (checked against the version
    # read) with its result row, which leaves the sweep's index.
    "finalizer-capture" = {
      handler = "finalizer.entrypoints.capture.handler"
      tables  = [module.event_store.table_name, module.results.name]
      statements = concat([
        local.settle_payments,
        local.write_results,
      ], local.read_secret.PspApiKey)
    }
    # Stripe's signed webhooks (POST /webhooks/stripe on the function's own URL, auth type NONE: the signature is
    # checked with the endpoint's secret) settle payments awaiting 3-D Secure from the re-read PaymentIntent, record the reversal of a
    # refund that failed after it was taken (the re-read Refund, appended to its stream: settle_payments' grants),
    # and record disputes on their own streams (the re-read Dispute and its PaymentIntent, the payment's stream
    # read: the same grants).
    "finalizer-webhook" = {
      handler = "finalizer.entrypoints.stripe_webhook.handler"
      tables  = [module.event_store.table_name, module.results.name]
      statements = concat(
        [local.settle_payments, local.write_results], local.read_secret.PspApiKey, local.read_secret.WebhookSecret
      )
      reserved_concurrency = var.webhook_reserved_concurrency
    }
    # Every few minutes: authentications abandoned past the deadline cancelled at Stripe, their payments FAILED;
    # authorizations held past the capture window cancelled, their payments CANCELED (the same index).
    "finalizer-sweep" = {
      handler = "finalizer.entrypoints.sweep.handler"
      tables  = [module.event_store.table_name, module.results.name]
      statements = concat([
        { sid = "FindAbandonedAuthentications", actions = ["dynamodb:Query"], resources = [module.results.index_arns["awaiting-action"]] },
        local.settle_payments,
        local.write_results,
      ], local.read_secret.PspApiKey)
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

# A batch's worst case (its records charged charge_concurrency at once, each Stripe request at its timeouts on every
# attempt, plus the store) must fit the charge function's timeout: refused at plan otherwise.
module "charge_budget" {
  source                  = "../../modules/charge_budget"
  batch_size              = local.queue_settings.batch_size
  charge_concurrency      = var.charge_concurrency
  psp_connect_timeout_s   = var.psp_connect_timeout_s
  psp_read_timeout_s      = var.psp_read_timeout_s
  psp_max_network_retries = var.psp_max_network_retries
  request_wait_s          = local.stripe_request_wait_s
  # The charge consumer's environments at most (its event source mapping's maximum_concurrency).
  stripe_environments         = local.queue_settings.maximum_concurrency
  stripe_request_budget_per_s = var.stripe_request_budget_per_s
  stripe_limit_per_s          = var.stripe_limit_per_s
  function_timeout_s          = module.service.functions["finalizer"].timeout
}

module "event_store" {
  source                   = "../../modules/event_store"
  capacity                 = var.table_capacity
  alarm_actions            = [local.platform.alarm_topic_arn]
  name                     = "finalizer-events"
  kms_key_arn              = local.platform.kms_key_arn
  relay_function_name      = module.service.functions["finalizer-relay"].function_name
  relay_function_alias_arn = module.service.functions["finalizer-relay"].alias_arn
  relay_role_name          = module.service.functions["finalizer-relay"].role_name
}

module "results" {
  source        = "../../modules/read_model_table"
  capacity      = var.table_capacity
  alarm_actions = [local.platform.alarm_topic_arn]
  name          = "BreakingTheBank"
  hash_key      = "payment_order_id"
  kms_key_arn   = local.platform.kms_key_arn
  # Only rows of payments awaiting 3-D Secure carry these keys (finalizer.rows): the sweep's work list.
  sparse_indexes = { "awaiting-action" = { hash_key = "awaiting", range_key = "action_required_at" } }
}

# Stripe's webhook endpoint: the finalizer-webhook function's own URL on its alias (contracts/function_urls.json),
# not a REST API route — it needs none of API Gateway's features and costs nothing beyond the invocation.
locals {
  webhook_url = jsondecode(file("${path.module}/../../../../contracts/function_urls.json")).function_urls["finalizer-webhook"]
}

module "webhook_url" {
  source                = "../../modules/function_url"
  function_name         = module.service.functions["finalizer-webhook"].function_name
  qualifier             = module.service.functions["finalizer-webhook"].alias_name
  reserved_concurrency  = var.webhook_reserved_concurrency
  authorization_type    = local.webhook_url.auth_type
  invoke_mode           = local.webhook_url.invoke_mode
  region                = var.region
  grant_invoke_function = !var.local_endpoint # moto enforces no resource policy and has no CLI to call
  alarm_actions         = [local.platform.alarm_topic_arn]
}

check "the_webhook_url_invokes_the_contracts_alias" {
  assert {
    condition     = module.service.functions["finalizer-webhook"].alias_name == local.webhook_url.qualifier
    error_message = "contracts/function_urls.json names the alias the URL invokes: the function's alias"
  }
}

# The sweep's schedule (the default bus carries scheduled rules). Its failures raise the function's Errors alarm.
resource "aws_cloudwatch_event_rule" "sweep" {
  name                = "finalizer-sweep"
  description         = "Cancel 3-D Secure authentications abandoned past the deadline"
  schedule_expression = "rate(${var.sweep_period_minutes} minutes)"
}

resource "aws_cloudwatch_event_target" "sweep" {
  rule = aws_cloudwatch_event_rule.sweep.name
  arn  = module.service.functions["finalizer-sweep"].alias_arn
}

resource "aws_lambda_permission" "sweep" {
  statement_id  = "SweepSchedule"
  action        = "lambda:InvokeFunction"
  function_name = module.service.functions["finalizer-sweep"].function_name
  qualifier     = module.service.functions["finalizer-sweep"].alias_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.sweep.arn
}

# A sweep that stops running leaves abandoned payments non-final: alarm on a missing run as on a failing one.
resource "aws_cloudwatch_metric_alarm" "sweep_not_running" {
  alarm_name          = "finalizer-sweep-not-running"
  alarm_description   = "The 3-D Secure sweep has not run for three periods: payments awaiting authentication may never be final."
  namespace           = "AWS/Lambda"
  metric_name         = "Invocations"
  dimensions          = { FunctionName = module.service.functions["finalizer-sweep"].function_name }
  statistic           = "Sum"
  period              = var.sweep_period_minutes * 60
  evaluation_periods  = 3
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = [local.platform.alarm_topic_arn]
}

module "subscription" {
  source         = "../../modules/event_subscription"
  name           = "finalizer"
  consumers_file = local.consumers_file
  function       = module.service.functions["finalizer"]
  platform       = local.platform
}

# RefundRequested events, behind their own queue and DLQ (a refund parked never holds back a charge).
module "refund_subscription" {
  source         = "../../modules/event_subscription"
  name           = "finalizer-refunds"
  consumers_file = local.consumers_file
  function       = module.service.functions["finalizer-refund"]
  platform       = local.platform
}

# CaptureRequested and CancelRequested, behind their own queue and DLQ (a capture parked never holds back a charge
# or a refund).
module "capture_subscription" {
  source         = "../../modules/event_subscription"
  name           = "finalizer-captures"
  consumers_file = local.consumers_file
  function       = module.service.functions["finalizer-capture"]
  platform       = local.platform
}

output "function_names" {
  value = [for f in module.service.functions : f.function_name]
}

output "tables" {
  value = [module.event_store.table_name, module.results.name]
}

output "stripe_webhook_endpoint" {
  description = "What an operator registers at Stripe as the webhook endpoint (the function URL and the contract's path); its signing secret goes to stripe_webhook_secret_parameter."
  value       = "${trimsuffix(module.webhook_url.url, "/")}${local.webhook_url.path}"
}
