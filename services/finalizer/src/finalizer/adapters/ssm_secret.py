"""A secret from SSM Parameter Store (SecureString), through Powertools' parameters utility and its cache."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def ssm_secret(ssm: Any, name: str, max_age_s: int) -> Callable[[], str]:
    """A getter for the decrypted value, fetched again once older than max_age_s (so a rotation lands).

    One fetch at a time: a batch's records are charged concurrently, and on a cold (or expired) cache each would
    fetch it, multiplying GetParameter calls against SSM's throughput limit at exactly the moments of scale-out.
    """
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    provider = SSMProvider(boto3_client=ssm)
    fetching = threading.Lock()

    def value() -> str:
        with fetching:  # a cache hit holds it for microseconds
            return str(provider.get(name, decrypt=True, max_age=max_age_s))

    return value
