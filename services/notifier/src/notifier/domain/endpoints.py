"""A merchant's webhook endpoints: where its events go, which types it wants, and the secrets that sign them.

Rules modelled on Stripe's webhook endpoints: a secret is returned only at creation ("secret: The endpoint's
secret, used to generate webhook signatures. Only returned at creation." — Stripe's API reference; here also at a
rotation, which is how a new one is learnt); `enabled_events` names types or ["*"] for all. The limit of 16
endpoints per merchant and the grace of at most 7 days for a rotated secret are the issue's design (said to be
Stripe's; not confirmed in the Stripe documentation we could search).
"""

from __future__ import annotations

import re
import secrets as random_secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from notifier.domain.catalog import EVENT_TYPES

MAX_ENDPOINTS = 16
DEFAULT_GRACE_S = 24 * 3600
MAX_GRACE_S = 7 * 24 * 3600
MAX_DESCRIPTION = 500
ROTATION_KEYS_KEPT = 20  # a retry comes within minutes; twenty rotations in between is far beyond any client
ALL_EVENTS = "*"
ENDPOINT_ID = re.compile(r"we_[0-9a-f]{24}")
_ENDPOINT_NAMESPACE = uuid.UUID("a3f1c9e2-6b5d-4e78-9f21-0c4d8b7e6a15")


def endpoint_id_for(merchant_id: str, idempotency_key: str) -> str:
    """The same merchant + Idempotency-Key names the same endpoint: a retried POST finds the first one."""
    return "we_" + uuid.uuid5(_ENDPOINT_NAMESPACE, f"{merchant_id}\n{idempotency_key}").hex[:24]


def new_secret() -> str:
    return "whsec_" + random_secrets.token_urlsafe(32)  # 32 random bytes: 43 url-safe characters


@dataclass(frozen=True)
class Secret:
    secret: str
    expires_at: int | None = None  # unix s; None on the current secret

    def live(self, now: int) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True)
class WebhookEndpoint:
    merchant_id: str
    endpoint_id: str
    url: str
    enabled_events: tuple[str, ...]
    secrets: tuple[Secret, ...]
    created: int
    description: str | None = None
    status: str = "enabled"
    request_fingerprint: str = ""  # what was asked under the creating Idempotency-Key
    # The Idempotency-Keys of the latest rotations, newest last: a retry of any of them rotates nothing more.
    rotation_keys: tuple[str, ...] = ()

    @property
    def rotation_key(self) -> str | None:
        """The last rotation's key: the version a rotation is decided on (compare-and-set)."""
        return self.rotation_keys[-1] if self.rotation_keys else None

    def rotated_under(self, key: str) -> bool:
        return key in self.rotation_keys

    @property
    def current_secret(self) -> str:
        return next(s.secret for s in self.secrets if s.expires_at is None)

    def wants(self, event_type: str) -> bool:
        return self.status == "enabled" and (ALL_EVENTS in self.enabled_events or event_type in self.enabled_events)

    def live_secrets(self, now: int) -> tuple[str, ...]:
        return tuple(s.secret for s in self.secrets if s.live(now))


class InvalidEndpoint(ValueError):
    """A registration the API refuses: field names the request's field, reason says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def enabled_events(types: Sequence[str]) -> tuple[str, ...]:
    """The subscription as stored: known types, or "*" alone; duplicates dropped, order kept."""
    if not types:
        raise InvalidEndpoint("body.enabled_events", "name at least one event type, or '*' for all")
    unknown = [t for t in types if t != ALL_EVENTS and t not in EVENT_TYPES]
    if unknown:
        raise InvalidEndpoint("body.enabled_events", f"unknown event type(s) {unknown}; known: {sorted(EVENT_TYPES)}")
    if ALL_EVENTS in types and len(set(types)) > 1:
        raise InvalidEndpoint("body.enabled_events", "'*' already means every type: send it alone")
    return tuple(dict.fromkeys(types))


def new_endpoint(
    merchant_id: str,
    endpoint_id: str,
    url: str,
    types: Sequence[str],
    description: str | None,
    *,
    now: int,
    fingerprint: str,
    secret: str | None = None,
) -> WebhookEndpoint:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise InvalidEndpoint("body.description", f"at most {MAX_DESCRIPTION} characters")
    return WebhookEndpoint(
        merchant_id=merchant_id,
        endpoint_id=endpoint_id,
        url=url,
        enabled_events=enabled_events(types),
        secrets=(Secret(secret or new_secret()),),
        created=now,
        description=description,
        request_fingerprint=fingerprint,
    )


def check_grace(grace_period_s: int) -> int:
    if not 0 <= grace_period_s <= MAX_GRACE_S:
        raise InvalidEndpoint("body.grace_period_s", f"between 0 and {MAX_GRACE_S} seconds (7 days)")
    return grace_period_s


def rotated(secrets: Iterable[Secret], *, now: int, grace_period_s: int, new: str | None = None) -> tuple[Secret, ...]:
    """The secrets after a rotation: a new current one first, the old current one expiring after the grace
    period (none if 0), the ones still in an earlier grace kept until theirs ends, the expired ones dropped."""
    check_grace(grace_period_s)
    kept: list[Secret] = []
    for old in secrets:
        if old.expires_at is None:
            if grace_period_s > 0:
                kept.append(Secret(old.secret, now + grace_period_s))
        elif old.live(now):
            kept.append(old)
    return (Secret(new or new_secret()), *kept)


def rotate(
    endpoint: WebhookEndpoint, *, now: int, grace_period_s: int, key: str, new: str | None = None
) -> WebhookEndpoint:
    return replace(
        endpoint,
        secrets=rotated(endpoint.secrets, now=now, grace_period_s=grace_period_s, new=new),
        rotation_keys=(*endpoint.rotation_keys, key)[-ROTATION_KEYS_KEPT:],
    )
