"""The deployed system's names, as the Terraform creates them: the one Python copy.

The local stack provisions these and the operator tool (tools/ops) addresses them; neither learns a name
from the other. The queue settings and subscriptions are contracts/consumers.json, the API's routes
contracts/api_routes.json, the functions with a URL of their own contracts/function_urls.json; Terraform reads
them too.
Functions never import this: they are told their tables and bus by their environment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
FUNCTION_URLS_FILE = Path("contracts/function_urls.json")


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
class FunctionUrl:
    """A function's own HTTPS endpoint (contracts/function_urls.json): a Lambda function URL on an alias, for a
    caller that needs none of API Gateway's features. It sends every path and method to the function, which
    answers only `method path` (404, 405 otherwise)."""

    function: str
    qualifier: str  # the alias the URL invokes
    auth_type: str  # NONE: no SigV4, the caller signs its own way and the function verifies it
    invoke_mode: str  # BUFFERED: 6 MB request and response
    method: str
    path: str
    caller: str


def function_urls(path: Path = FUNCTION_URLS_FILE) -> dict[str, FunctionUrl]:
    """Each function with a URL of its own, by function name."""
    urls = json.loads(path.read_text())["function_urls"]
    return {function: FunctionUrl(function, **url) for function, url in urls.items()}


@dataclass(frozen=True)
class QueueSettings:
    """How a consumer's queue delivers (contracts/consumers.json: "queue", with the consumer's own "queue" over it)."""

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
    settings: QueueSettings  # the shared "queue" block with this consumer's own "queue" over it

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


# What a consumer may set for itself: how its event source mapping batches and scales out. Redrive, visibility and
# retention stay one setting for all (the operator tool and the DLQ runbook read them once).
OVERRIDABLE = frozenset({"batch_size", "maximum_batching_window_seconds", "maximum_concurrency"})
# "When you set BatchSize to a value greater than 10, you must set MaximumBatchingWindowInSeconds to at least 1"
# (Lambda's CreateEventSourceMapping, for SQS event sources).
BATCH_WITHOUT_WINDOW_MAX = 10


def queue_settings(shared: dict[str, Any], own: dict[str, Any], consumer: str) -> QueueSettings:
    """The shared queue block with a consumer's own settings over it; ValueError naming what is not allowed."""
    if unknown := sorted(set(own) - OVERRIDABLE):
        raise ValueError(f"consumer {consumer}: queue settings {unknown} are shared, not per consumer")
    settings = QueueSettings(**{**shared, **own})
    if settings.batch_size > BATCH_WITHOUT_WINDOW_MAX and settings.maximum_batching_window_seconds < 1:
        raise ValueError(f"consumer {consumer}: a batch_size over 10 needs maximum_batching_window_seconds >= 1")
    return settings


def consumers(path: Path = CONSUMERS_FILE) -> tuple[QueueSettings, list[Subscription]]:
    """(the shared queue settings, every subscription with its own settings)."""
    settings = json.loads(path.read_text())
    shared = settings["queue"]
    subscriptions = [
        Subscription(name, c["pattern"], c["function"], queue_settings(shared, c.get("queue", {}), name))
        for name, c in settings["consumers"].items()
    ]
    return QueueSettings(**shared), subscriptions
