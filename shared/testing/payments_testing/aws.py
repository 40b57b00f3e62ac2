"""moto-backed AWS for adapter and handler tests."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from payments_testing.strict_dynamodb import MOTO_LOCK

REGION = "eu-west-1"


def fake_credentials() -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # - moto's fake credentials
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION=REGION,
    )


# moto does not route botocore's account-id based endpoints (https://<account>.streams-ddb...).
_MOTO_CONFIG = Config(account_id_endpoint_mode="disabled")


def aws_client(service: str) -> Any:
    return boto3.client(service, region_name=REGION, config=_MOTO_CONFIG)


@dataclass
class LambdaContext:
    """The attributes Powertools reads from the Lambda context object."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 192
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


class SerializedClient:
    """A boto3 client on in-process moto whose calls hold moto's lock.

    moto's in-memory backends are not thread-safe (concurrent calls can fail with "dictionary changed size
    during iteration"). With StrictTransactions installed, a transaction lets go of the lock while it is in
    flight, so transactions of different threads overlap and conflict as in DynamoDB.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = MOTO_LOCK

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return call


class CountingClient:
    """A boto3 client counting its calls by operation name (tests and benchmarks pin a use case's calls), and
    the items its transactions name by action (`items`: Put, Update, ConditionCheck…; each billed as a write)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: Counter[str] = Counter()
        self.items: Counter[str] = Counter()

    def clear(self) -> None:
        self.calls.clear()
        self.items.clear()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name.startswith("_") or name in {"get_paginator", "can_paginate"}:
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            for item in kwargs.get("TransactItems", ()) if name == "transact_write_items" else ():
                self.items.update(item.keys())
            return attribute(*args, **kwargs)

        return call
