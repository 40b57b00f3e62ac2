# Who may call the API, and as whom. API Gateway authenticates every route with IAM (SigV4); the
# services then map the authenticated principal to a merchant (or an operator) through the ApiPrincipals
# table, which onboarding keeps — here: one role per merchant, assumed by the merchant's back end, and one
# operators' role. A merchant's role may invoke the merchant routes only; the operators' role the books.
variable "merchants" {
  description = "Onboarded merchants: merchant id → the IAM role ARN of the merchant's back end, allowed to assume the merchant's API role."
  type        = map(string)
  default     = {}
  validation {
    # Each id becomes the role name payments-merchant-<id>: IAM role names are at most 64 characters.
    condition     = alltrue([for id in keys(var.merchants) : can(regex("^[A-Za-z0-9_-]{1,46}$", id))])
    error_message = "Merchant ids are 1 to 46 letters, digits, '_' or '-' (the role name payments-merchant-<id> is limited to 64 characters)."
  }
  validation {
    # One role of one account (any partition): "*", an account root or a bare account id in the trust policy
    # would let anyone, or every principal of that account, act as the merchant.
    condition     = alltrue([for arn in values(var.merchants) : can(regex("^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$", arn))])
    error_message = "Each merchant's principal must be an IAM role ARN, arn:aws:iam::<12-digit account>:role/<path/name>: not \"*\", an account (root or bare id), a user or an empty string."
  }
}

variable "operator_principals" {
  description = "IAM role ARNs allowed to assume the operators' API role (the company's books and support reads)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for arn in var.operator_principals : can(regex("^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$", arn))])
    error_message = "Each operator principal must be an IAM role ARN, arn:aws:iam::<12-digit account>:role/<path/name>: not \"*\", an account (root or bare id), a user or an empty string."
  }
}

locals {
  # execute-api ARNs: <api execution arn>/<stage>/<METHOD>/<path>
  # Webhooks (notifier-api): a merchant keeps its own endpoints and reads its own events; an operator may act
  # for any merchant by naming it (support: re-send what a merchant missed).
  webhook_routes = [
    "POST/webhook_endpoints", "GET/webhook_endpoints", "GET/webhook_endpoints/*", "DELETE/webhook_endpoints/*",
    "POST/webhook_endpoints/*/rotate_secret", "GET/events", "GET/events/*", "POST/events/*/redeliver",
  ]
  merchant_routes = concat(["POST/payments", "GET/payments/*", "GET/wallets/*"], local.webhook_routes)
  operator_routes = concat(["GET/ledger/trial-balance", "GET/payments/*", "GET/wallets/*"], local.webhook_routes)
  assumed_role    = "arn:aws:sts::${data.aws_caller_identity.current.account_id}:assumed-role"
}

resource "aws_dynamodb_table" "principals" {
  name         = "ApiPrincipals"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "principal_arn"
  attribute {
    name = "principal_arn"
    type = "S"
  }
  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.platform.arn
  }
}

data "aws_iam_policy_document" "merchant_api" {
  statement {
    sid       = "MerchantRoutesOnly"
    actions   = ["execute-api:Invoke"]
    resources = [for route in local.merchant_routes : "${module.api.execution_arn}/*/${route}"]
  }
}

data "aws_iam_policy_document" "operator_api" {
  statement {
    sid       = "OperatorRoutes"
    actions   = ["execute-api:Invoke"]
    resources = [for route in local.operator_routes : "${module.api.execution_arn}/*/${route}"]
  }
}

resource "aws_iam_policy" "merchant_api" {
  name        = "payments-api-merchant"
  description = "Invoke the payments API's merchant routes (attached to each merchant's API role)"
  policy      = data.aws_iam_policy_document.merchant_api.json
}

resource "aws_iam_policy" "operator_api" {
  name        = "payments-api-operator"
  description = "Invoke the payments API's operator routes: the books, and reads for support"
  policy      = data.aws_iam_policy_document.operator_api.json
}

data "aws_iam_policy_document" "assume" {
  for_each = merge(var.merchants, length(var.operator_principals) > 0 ? { "operator" = "" } : {})
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = each.key == "operator" ? var.operator_principals : [each.value]
    }
  }
}

resource "aws_iam_role" "merchant" {
  for_each           = var.merchants
  name               = "payments-merchant-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume[each.key].json
}

resource "aws_iam_role_policy_attachment" "merchant" {
  for_each   = var.merchants
  role       = aws_iam_role.merchant[each.key].name
  policy_arn = aws_iam_policy.merchant_api.arn
}

resource "aws_iam_role" "operator" {
  count              = length(var.operator_principals) > 0 ? 1 : 0
  name               = "payments-operator"
  assume_role_policy = data.aws_iam_policy_document.assume["operator"].json
}

resource "aws_iam_role_policy_attachment" "operator" {
  count      = length(var.operator_principals) > 0 ? 1 : 0
  role       = aws_iam_role.operator[0].name
  policy_arn = aws_iam_policy.operator_api.arn
}

# The mapping the services read: any session of a merchant's role acts for that merchant, and only it.
resource "aws_dynamodb_table_item" "merchant" {
  for_each   = var.merchants
  table_name = aws_dynamodb_table.principals.name
  hash_key   = aws_dynamodb_table.principals.hash_key
  item = jsonencode({
    principal_arn = { S = "${local.assumed_role}/${aws_iam_role.merchant[each.key].name}" }
    role          = { S = "merchant" }
    merchant_id   = { S = each.key }
  })
}

resource "aws_dynamodb_table_item" "operator" {
  count      = length(var.operator_principals) > 0 ? 1 : 0
  table_name = aws_dynamodb_table.principals.name
  hash_key   = aws_dynamodb_table.principals.hash_key
  item = jsonencode({
    principal_arn = { S = "${local.assumed_role}/${aws_iam_role.operator[0].name}" }
    role          = { S = "operator" }
  })
}

output "principals_table_name" {
  value = aws_dynamodb_table.principals.name
}

output "principals_table_arn" {
  value = aws_dynamodb_table.principals.arn
}

output "merchant_api_policy_arn" {
  value = aws_iam_policy.merchant_api.arn
}

output "operator_api_policy_arn" {
  value = aws_iam_policy.operator_api.arn
}
