"""Names and shapes of the AWS resources, the same ones the Terraform creates."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from payments_shared.eventstore.dynamodb import table_definition

BUS = "payments"
REGION = "eu-west-1"
CARD_DATA_KEY_ALIAS = "alias/payments-card-data"
CARD_FINGERPRINT_KEY_ALIAS = "alias/payments-card-fingerprint"
# Put there by an operator, not by Terraform (a secret never sits in Terraform state).
PSP_API_KEY_PARAMETER = "/payments/finalizer/stripe-secret-key"
EVENT_STORES = {
    "initializer": "initializer-events",
    "finalizer": "finalizer-events",
    "ledger": "ledger-events",
    "wallet": "wallet-events",
}
# Event stores whose DynamoDB stream feeds a function: the outbox relays, and the ledger's totals projection.
STREAM_CONSUMERS = {"initializer": "initializer-relay", "finalizer": "finalizer-relay", "ledger": "ledger-totals"}


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
    _table("WalletBalances", ("merchant_id", "HASH"), ("shard", "RANGE")),
]
# The platform's principals directory: who may call the API, as which merchant (or as an operator).
PRINCIPALS = _table("ApiPrincipals", ("principal_arn", "HASH"))


def tables() -> list[dict[str, Any]]:
    return [table_definition(name) for name in EVENT_STORES.values()] + READ_MODELS + [PRINCIPALS]


CONSUMERS_FILE = Path("contracts/consumers.json")


@dataclass(frozen=True)
class QueueSettings:
    """How each consumer's queue delivers (contracts/consumers.json, which Terraform reads too)."""

    batch_size: int
    maximum_batching_window_seconds: float
    maximum_concurrency: int
    max_receive_count: int
    visibility_timeout_seconds: int
    message_retention_seconds: int
    dlq_retention_seconds: int


@dataclass(frozen=True)
class Subscription:
    """An EventBridge rule (shared pattern file) → the consumer's queue → its Lambda function."""

    name: str
    pattern: str  # contracts/event_patterns/<pattern>.json
    function: str


def _consumers(path: Path = CONSUMERS_FILE) -> tuple[QueueSettings, list[Subscription]]:
    settings = json.loads(path.read_text())
    subscriptions = [Subscription(name, c["pattern"], c["function"]) for name, c in settings["consumers"].items()]
    return QueueSettings(**settings["queue"]), subscriptions


QUEUE, SUBSCRIPTIONS = _consumers()
