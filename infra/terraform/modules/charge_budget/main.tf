# A batch's worst case against the function's timeout, refused at plan (issue 32). The finalizer charges up to
# `charge_concurrency` records of a batch at once; each Stripe request may take the SDK's connect and read
# timeouts on every attempt (1 + max_network_retries), with the SDK's backoff between attempts. A batch that
# outlasts the timeout is killed and redelivered whole: charged again (idempotently) and late.

variable "batch_size" {
  description = "Records per batch: the charge consumer's batch size in contracts/consumers.json (its own queue block over the shared one; read by the root, one source)."
  type        = number
}

variable "charge_concurrency" {
  description = "Records of a batch charged at once (FINALIZER_CHARGE_CONCURRENCY)."
  type        = number
  validation {
    condition     = var.charge_concurrency >= 1 && floor(var.charge_concurrency) == var.charge_concurrency
    error_message = "charge_concurrency must be a whole number of at least 1."
  }
}

variable "psp_connect_timeout_s" {
  description = "Stripe SDK's connect timeout (PSP_CONNECT_TIMEOUT_S)."
  type        = number
}

variable "psp_read_timeout_s" {
  description = "Stripe SDK's read timeout (PSP_READ_TIMEOUT_S)."
  type        = number
}

variable "psp_max_network_retries" {
  description = "Stripe SDK's max_network_retries (PSP_MAX_NETWORK_RETRIES)."
  type        = number
}

variable "psp_requests_per_record" {
  description = "Stripe requests one record makes in the case budgeted: 1 (the create with confirm). A processing intent's re-read or an old key's search adds one; such a rare record at its worst is redelivered, and answered by its idempotency key."
  type        = number
  default     = 1
}

variable "store_allowance_s" {
  description = "Time budgeted for a record's event store read and transaction: DynamoDB answers in milliseconds; 5 s covers a throttled write retried by botocore a few times (its own worst case, 4 attempts of 2 + 5 s, is not budgeted: such a record is redelivered, and the stream's version condition records it once)."
  type        = number
  default     = 5
}

variable "request_wait_s" {
  description = "How long a Stripe request may wait for a token of the environment's request budget before it is not sent (STRIPE_REQUEST_WAIT_S): budgeted on every attempt."
  type        = number
  default     = 1
}

variable "stripe_request_budget_per_s" {
  description = "Stripe requests per second the finalizer may send in all, across its environments."
  type        = number
}

variable "stripe_limit_per_s" {
  description = "The account's limit it must stay under (docs.stripe.com/rate-limits: 25 requests/s per endpoint unless Stripe raised it, 25/s in all in a sandbox, 100/s in live mode)."
  type        = number
  default     = 25
}

variable "stripe_environments" {
  description = "The most execution environments that may call Stripe at once (the charge consumer's maximum_concurrency from contracts/consumers.json): the budget is divided among them."
  type        = number
}

variable "function_timeout_s" {
  description = "The finalizer function's timeout (the lambda_service module's output: one source)."
  type        = number
}

locals {
  # Stripe's SDK (stripe-python 16, _http_client.py _sleep_time_seconds) sleeps min(0.5 × 2^(n-1), 5) s before
  # retry n, jittered down to half of it but never below 0.5 s: its upper bound is budgeted.
  backoff_s = sum(concat([0], [for n in range(1, var.psp_max_network_retries + 1) : max(0.5, min(0.5 * pow(2, n - 1), 5))]))
  request_s = (var.request_wait_s + var.psp_connect_timeout_s + var.psp_read_timeout_s) * (1 + var.psp_max_network_retries) + local.backoff_s
  waves     = ceil(var.batch_size / var.charge_concurrency)
  worst_s   = local.waves * (var.psp_requests_per_record * local.request_s + var.store_allowance_s)
  # Each environment's share (STRIPE_REQUESTS_PER_S): the sum stays within the budget however many run at once.
  per_environment_per_s = var.stripe_request_budget_per_s / var.stripe_environments
}

resource "terraform_data" "budget_under_stripes_limit" {
  input = local.per_environment_per_s
  lifecycle {
    precondition {
      condition     = var.stripe_request_budget_per_s > 0 && var.stripe_request_budget_per_s < var.stripe_limit_per_s
      error_message = "The Stripe request budget (${var.stripe_request_budget_per_s}/s) must be above 0 and below the account's limit (${var.stripe_limit_per_s}/s): at or above it the finalizer's full concurrency drives Stripe into sustained 429s. Ask Stripe for more first, then raise both."
    }
  }
}

resource "terraform_data" "worst_batch_fits_the_timeout" {
  input = local.worst_s
  lifecycle {
    precondition {
      condition     = local.worst_s <= var.function_timeout_s
      error_message = "A batch's worst case, ceil(${var.batch_size} records / ${var.charge_concurrency} at once) × (${var.psp_requests_per_record} × ((${var.request_wait_s} s budget wait + ${var.psp_connect_timeout_s} s connect + ${var.psp_read_timeout_s} s read) × ${1 + var.psp_max_network_retries} attempts + ${local.backoff_s} s backoff) + ${var.store_allowance_s} s store) = ${local.worst_s} s, exceeds the function's ${var.function_timeout_s} s timeout: raise charge_concurrency, or lower the batch size, the PSP timeouts or retries."
    }
  }
}

output "requests_per_s_per_environment" {
  description = "Each environment's share of the Stripe request budget (STRIPE_REQUESTS_PER_S)."
  value       = local.per_environment_per_s
}

output "worst_batch_s" {
  description = "A batch's worst case in seconds (what the precondition compares with the timeout)."
  value       = local.worst_s
}
