"""boto3 clients with explicit timeouts and bounded retries: no AWS call may hang a Lambda."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Lambda has 30 s by default; a stuck connection must fail fast enough for the SDK's own retries
# (standard mode: exponential backoff with jitter, throttling-aware) to fit inside it.
CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 4},
    tcp_keepalive=True,
)


@cache
def client(service: str) -> Any:
    """One client per service per process (clients are thread-safe and costly to build)."""
    return boto3.session.Session().client(service, config=CLIENT_CONFIG)


def traced_client(service: str) -> Any:
    """The shared client, with botocore instrumented first so every AWS call is a CLIENT span."""
    from payments_shared.observability.tracing import instrument_botocore

    instrument_botocore()
    return client(service)
