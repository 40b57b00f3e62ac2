"""Names and shapes of the AWS resources, the same ones the Terraform creates."""

from __future__ import annotations

import json
from typing import Any

from notifier.delivery import schedule
from payments_shared.eventstore.dynamodb import table_definition
from payments_shared.topology import (
    BUS,
    CONSUMERS_FILE,
    EVENT_STORES,
    STREAM_CONSUMERS,
    QueueSettings,
    Subscription,
    consumers,
    dead_letters,
)

__all__ = [
    "BUS",
    "CHARGE_MAPPING",
    "EVENT_STORES",
    "QUEUE",
    "STREAM_CONSUMERS",
    "SUBSCRIPTIONS",
    "QueueSettings",
    "Subscription",
]

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
# The notifier's (infra/terraform/services/notifier): endpoints, merchant events (sorted by their time-ordered
# ids) and the deliverer's log (each delivery's attempts, and one health row per endpoint).
NOTIFIER_TABLES = [
    _table("webhook-endpoints", ("merchant_id", "HASH"), ("endpoint_id", "RANGE")),
    _table("merchant-events", ("merchant_id", "HASH"), ("event_id", "RANGE")),
    _table("webhook-deliveries", ("merchant_id", "HASH"), ("event_id#endpoint_id", "RANGE")),
]
# The platform's principals directory: who may call the API, as which merchant (or as an operator).
PRINCIPALS = _table("ApiPrincipals", ("principal_arn", "HASH"))


def tables() -> list[dict[str, Any]]:
    return [table_definition(name) for name in EVENT_STORES.values()] + READ_MODELS + NOTIFIER_TABLES + [PRINCIPALS]


QUEUE, SUBSCRIPTIONS = consumers()
# The charge consumer's event source mapping (its own queue block over the shared one): batch size, concurrency.
CHARGE_MAPPING = next(s.settings for s in SUBSCRIPTIONS if s.function == "finalizer")


def _deliveries() -> tuple[str, str, QueueSettings]:
    """notifier-deliveries (contracts/consumers.json's "notifier_deliveries", no EventBridge rule: the notifier
    sends to it) and its function; the redrive parks after the retry schedule's last attempt, as Terraform sets."""
    block = json.loads(CONSUMERS_FILE.read_text())["notifier_deliveries"]
    settings = QueueSettings(
        batch_size=block["batch_size"],
        maximum_batching_window_seconds=block["maximum_batching_window_seconds"],
        maximum_concurrency=block["maximum_concurrency"],
        max_receive_count=schedule.load().max_receive_count,
        visibility_timeout_seconds=block["visibility_timeout_seconds"],
        message_retention_seconds=block["message_retention_seconds"],
        dlq_retention_seconds=block["dlq_retention_seconds"],
    )
    return block["queue"], block["function"], settings


DELIVERIES_QUEUE, DELIVERIES_FUNCTION, DELIVERIES = _deliveries()
DELIVERIES_DLQ = dead_letters(DELIVERIES_QUEUE)  # notifier-deliveries-dlq, as the Terraform names it
