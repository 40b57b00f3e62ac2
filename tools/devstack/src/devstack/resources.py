"""Names and shapes of the AWS resources, the same ones the Terraform creates."""

from __future__ import annotations

from typing import Any

from payments_shared.eventstore.dynamodb import table_definition
from payments_shared.topology import BUS, EVENT_STORES, STREAM_CONSUMERS, QueueSettings, Subscription, consumers

__all__ = ["BUS", "EVENT_STORES", "QUEUE", "STREAM_CONSUMERS", "SUBSCRIPTIONS", "QueueSettings", "Subscription"]

REGION = "eu-west-1"
CARD_DATA_KEY_ALIAS = "alias/payments-card-data"
CARD_FINGERPRINT_KEY_ALIAS = "alias/payments-card-fingerprint"
# Put there by an operator, not by Terraform (a secret never sits in Terraform state).
PSP_API_KEY_PARAMETER = "/payments/finalizer/stripe-secret-key"
STRIPE_WEBHOOK_SECRET_PARAMETER = "/payments/finalizer/stripe-webhook-secret"  # noqa: S105 - a name


def _table(name: str, *keys: tuple[str, str]) -> dict[str, Any]:
    return {
        "TableName": name,
        "KeySchema": [{"AttributeName": k, "KeyType": t} for k, t in keys],
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
        "BillingMode": "PAY_PER_REQUEST",
    }


def _with_sparse_index(table: dict[str, Any], name: str, *keys: tuple[str, str]) -> dict[str, Any]:
    return {
        **table,
        "AttributeDefinitions": table["AttributeDefinitions"]
        + [{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeySchema": [{"AttributeName": k, "KeyType": t} for k, t in keys],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    }


READ_MODELS = [
    _table("ShowMeTheMoney", ("payment_order_id", "HASH")),
    # The finalizer's sweep reads its sparse index of payments awaiting 3-D Secure (finalizer.rows).
    _with_sparse_index(
        _table("BreakingTheBank", ("payment_order_id", "HASH")),
        "awaiting-action",
        ("awaiting", "HASH"),
        ("action_required_at", "RANGE"),
    ),
    _table("LedgerAccounts", ("account", "HASH"), ("currency", "RANGE")),
    _table("WalletBalances", ("merchant_id", "HASH"), ("shard", "RANGE")),
]
# The platform's principals directory: who may call the API, as which merchant (or as an operator).
PRINCIPALS = _table("ApiPrincipals", ("principal_arn", "HASH"))


def tables() -> list[dict[str, Any]]:
    return [table_definition(name) for name in EVENT_STORES.values()] + READ_MODELS + [PRINCIPALS]


QUEUE, SUBSCRIPTIONS = consumers()
