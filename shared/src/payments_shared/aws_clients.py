"""AWS clients from botocore, with explicit timeouts and bounded retries: no AWS call may hang a Lambda.

botocore directly, not boto3: boto3's `Session.client` adds nothing to these clients (its customisations are
for S3 transfers and the resource layer, which nothing here uses), yet importing boto3 loads s3transfer,
its resource layer and their imports — a large part of a cold start. Items cross the wire in DynamoDB's
AttributeValue form through `payments_shared.attribute_values`.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config

# Lambda has 30 s by default; a stuck connection must fail fast enough for the SDK's own retries
# (standard mode: exponential backoff with jitter, throttling-aware) to fit inside it.
CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 4},
    tcp_keepalive=True,
)

# A botocore session is not thread-safe; its clients are. One session for all clients: the second client
# reuses what the first loaded (endpoint rules, partitions, retry config) instead of parsing it again.
_session_lock = threading.Lock()


@cache
def _session() -> Any:
    return botocore.session.get_session()


@cache
def client(service: str) -> Any:
    """One client per service per process (clients are thread-safe and costly to build)."""
    with _session_lock:
        return _session().create_client(service, config=CLIENT_CONFIG)


def reset() -> None:
    """Drop the clients and their session (after a SnapStart restore: pooled connections and credentials were
    the snapshot's; in tests: each starts from fresh credentials and moto's handlers)."""
    client.cache_clear()
    _session.cache_clear()


def traced_client(service: str) -> Any:
    """The shared client, with botocore instrumented first so every AWS call is a CLIENT span."""
    from payments_shared.observability.tracing import instrument_botocore

    instrument_botocore()
    return client(service)
