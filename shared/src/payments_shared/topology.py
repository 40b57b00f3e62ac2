"""The deployed system's names, as the Terraform creates them: the one Python copy.

The local stack provisions these and the operator tool (tools/ops) addresses them; neither learns a name
from the other. The queue settings and subscriptions are contracts/consumers.json, the API's routes
contracts/api_routes.json; Terraform reads both too.
Functions never import this: they are told their tables and bus by their environment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

BUS = "payments"
EVENT_STORES = {
    "initializer": "initializer-events",
    "finalizer": "finalizer-events",
    "ledger": "ledger-events",
    "wallet": "wallet-events",
}
# Event stores whose DynamoDB stream feeds a function: the outbox relays, and the ledger's totals projection.
STREAM_CONSUMERS = {
    "initializer": "initializer-relay",
    "finalizer": "finalizer-relay",
    "ledger": "ledger-totals",
    "wallet": "wallet-relay",
}

CONSUMERS_FILE = Path("contracts/consumers.json")
API_ROUTES_FILE = Path("contracts/api_routes.json")


@dataclass(frozen=True)
class Route:
    """A route of the API (contracts/api_routes.json), as the REST API serves it."""

    method: str
    path: str  # the resource path, e.g. /payments/{payment_order_id}
    function: str
    authorization: str  # AWS_IAM (SigV4), or NONE: the caller signs its own way and the function verifies it


def api_routes(path: Path = API_ROUTES_FILE) -> list[Route]:
    return [Route(**route) for route in json.loads(path.read_text())["routes"]]


@dataclass(frozen=True)
class QueueSettings:
    """How each consumer's queue delivers (contracts/consumers.json)."""

    batch_size: int
    maximum_batching_window_seconds: float
    maximum_concurrency: int
    max_receive_count: int
    visibility_timeout_seconds: int
    message_retention_seconds: int
    dlq_retention_seconds: int


@dataclass(frozen=True)
class Subscription:
    """An EventBridge rule (shared pattern file) → the consumer's queue (`<name>-inbox`) → its Lambda function."""

    name: str
    pattern: str  # contracts/event_patterns/<pattern>.json
    function: str

    @property
    def queue(self) -> str:
        return inbox(self.name)

    @property
    def dead_letters(self) -> str:
        return dead_letters(self.name)


def inbox(consumer: str) -> str:
    """The queue a consumer's function reads."""
    return f"{consumer}-inbox"


def dead_letters(consumer: str) -> str:
    """Where the consumer's queue parks a message after max_receive_count failed deliveries."""
    return f"{consumer}-dlq"


def consumers(path: Path = CONSUMERS_FILE) -> tuple[QueueSettings, list[Subscription]]:
    settings = json.loads(path.read_text())
    subscriptions = [Subscription(name, c["pattern"], c["function"]) for name, c in settings["consumers"].items()]
    return QueueSettings(**settings["queue"]), subscriptions
