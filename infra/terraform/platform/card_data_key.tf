# The key that seals card details (payments_shared.sealed_cards): the initializer encrypts them for an
# order, the finalizer decrypts them for the PSP call, and no one else can do either. It sits in the platform because two service
# roots use it; the roles are named by the service roots' convention (<function>-role), so the policy
# needs no service state. Conditions on aws:PrincipalArn hold for roles that do not exist yet.
variable "card_sealer_role_name" {
  description = "The role allowed to generate card data keys (the initializer's API function)."
  type        = string
  default     = "initializer-api-role"
}

variable "card_opener_role_name" {
  description = "The role allowed to unwrap card data keys (the finalizer, for the PSP call)."
  type        = string
  default     = "finalizer-role"
}

locals {
  # Who may open and who may seal card data, and only for card data of a named order (the order id is
  # what CloudTrail then records for each use).
  card_data_denies = {
    OnlyTheFinalizerOpensCardData = {
      actions = ["kms:Decrypt", "kms:ReEncryptFrom", "kms:CreateGrant"]
      test    = "ArnNotEquals", variable = "aws:PrincipalArn", value = local.card_opener_role
    }
    OnlyTheInitializerSealsCardData = {
      actions = ["kms:GenerateDataKey*", "kms:Encrypt", "kms:ReEncryptTo"]
      test    = "ArnNotEquals", variable = "aws:PrincipalArn", value = local.card_sealer_role
    }
    CardDataContextOnly = {
      actions = ["kms:Decrypt", "kms:Encrypt"]
      test    = "StringNotEquals", variable = "kms:EncryptionContext:purpose", value = "payments-card-data"
    }
    CardDataPerOrderOnly = {
      actions = ["kms:Decrypt", "kms:Encrypt"]
      test    = "Null", variable = "kms:EncryptionContext:payment_order_id", value = "true"
    }
  }
  account_root     = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"
  card_sealer_role = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/${var.card_sealer_role_name}"
  card_opener_role = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/${var.card_opener_role_name}"
}

data "aws_iam_policy_document" "card_data_key_policy" {
  # checkov:skip=CKV_AWS_111:A key policy's Resource "*" is this key alone.
  # checkov:skip=CKV_AWS_356:A key policy's Resource "*" is this key alone.
  # checkov:skip=CKV_AWS_109:A key policy's Resource "*" is this key alone; the account administers its key.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
  }
  # Explicit denies (local.card_data_denies): no IAM policy anywhere in the account can widen them.
  dynamic "statement" {
    for_each = local.card_data_denies
    content {
      sid       = statement.key
      effect    = "Deny"
      actions   = statement.value.actions
      resources = ["*"]
      principals {
        type        = "AWS"
        identifiers = ["*"]
      }
      condition {
        test     = statement.value.test
        variable = statement.value.variable
        values   = [statement.value.value]
      }
    }
  }
}

resource "aws_kms_key" "card_data" {
  description         = "payments: card details, encrypted by the initializer for an order, decrypted by the finalizer"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.card_data_key_policy.json
}

resource "aws_kms_alias" "card_data" {
  name          = "alias/payments-card-data"
  target_key_id = aws_kms_key.card_data.key_id
}

output "card_data_key_arn" {
  value = aws_kms_key.card_data.arn
}
