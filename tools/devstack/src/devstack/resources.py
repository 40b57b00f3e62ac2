"""Names and shapes of the AWS resources, the same ones the Terraform creates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from payments_shared.eventstore.dynamodb import table_definition

BUS = "payments"
REGION = "eu-west-1"
CARD_DATA_KEY_ALIAS = "alias/payments-card-data"
CARD_FINGERPRINT_KEY_ALIAS = "alias/payments-card-fingerprint"
EVENT_STORES = {
    "initializer": "initializer-events",
    "finalizer": "finalizer-events",
    "ledger": "ledger-events",
    "wallet": "wallet-events",
}
# Event stores whose DynamoDB stream feeds an outbox relay (the others publish nothing).
RELAYED = {"initializer": "initializer-relay", "finalizer": "finalizer-relay"}


def _table(name: str, *keys: tuple[str, str]) -> dict[str, Any]:
    return {
        "TableName": name,
        "KeySchema": [{"AttributeName": k, "KeyType": t} for k, t in keys],
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
        "BillingMode": "PAY_PER_REQUEST",
    }


READ_MODELS = [
    _table("ShowMeTheMoney", ("payment_order_id", "HASH")),
    _table("BreakingTheBank", ("payment_order_id", "HASH")),
    _table("LedgerAccounts", ("account", "HASH"), ("currency", "RANGE")),
    _table("WalletBalances", ("merchant_id", "HASH")),
]


def tables() -> list[dict[str, Any]]:
    return [table_definition(name) for name in EVENT_STORES.values()] + READ_MODELS


@dataclass(frozen=True)
class Subscription:
    """An EventBridge rule (shared pattern file) → an SQS-buffered Lambda target with retries and a DLQ."""

    name: str
    pattern: str  # contracts/event_patterns/<pattern>.json
    function: str


SUBSCRIPTIONS = [
    Subscription("finalizer", "payment_initiated", "finalizer"),
    Subscription("initializer-outcome", "payment_status_updated", "initializer-outcome"),
    Subscription("ledger", "payment_status_updated", "ledger"),
    Subscription("wallet", "payment_succeeded", "wallet"),
]
MAX_DELIVERY_ATTEMPTS = 3  # EventBridge retries, then the DLQ
