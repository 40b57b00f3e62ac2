"""boto3 clients for the operator's target: an AWS profile and region, or a local endpoint (the local stack)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

# Every call bounded: a hung endpoint fails the command instead of hanging the operator's terminal.
CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=20, retries={"mode": "standard", "max_attempts": 4})


@dataclass(frozen=True)
class Target:
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None

    def client(self, service: str) -> Any:
        session = boto3.session.Session(profile_name=self.profile, region_name=self.region)
        return session.client(service, endpoint_url=self.endpoint_url, config=CLIENT_CONFIG)
