"""A secret from SSM Parameter Store (SecureString), through Powertools' parameters utility and its cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def ssm_secret(ssm: Any, name: str, max_age_s: int) -> Callable[[], str]:
    """A getter for the decrypted value, fetched again once older than max_age_s (so a rotation lands)."""
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    provider = SSMProvider(boto3_client=ssm)

    def value() -> str:
        return str(provider.get(name, decrypt=True, max_age=max_age_s))

    return value
