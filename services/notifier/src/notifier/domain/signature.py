"""How a webhook is signed, and how a merchant verifies it (the scheme README.md documents).

Header `Payments-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`: each v1 is HMAC-SHA256, keyed by one of the
endpoint's live secrets, over `<t>.` followed by the exact body bytes. While a rotated secret is in its grace period
both secrets sign, so a receiver holding either verifies. The timestamp is signed too, so a captured request cannot be
replayed outside the tolerance.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

HEADER = "Payments-Signature"
SCHEME = "v1"
TOLERANCE_S = 300


class SignatureMismatch(ValueError):
    """The header is malformed, too old, or no v1 in it matches the secret."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secrets: Iterable[str], timestamp: int, body: bytes) -> str:
    """The header value for a delivery at `timestamp` (one v1 per live secret)."""
    parts = [f"t={timestamp}"] + [f"{SCHEME}={signature(secret, timestamp, body)}" for secret in secrets]
    if len(parts) == 1:
        raise ValueError("an endpoint always has at least one live secret")
    return ",".join(parts)


def verify(header: str, body: bytes, secret: str, *, now: int, tolerance_s: int = TOLERANCE_S) -> int:
    """The signed timestamp if `header` signs `body` with `secret` within the tolerance; SignatureMismatch otherwise."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == SCHEME:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureMismatch("no timestamp or no v1 signature in the header")
    if abs(now - timestamp) > tolerance_s:
        raise SignatureMismatch(f"timestamp {timestamp} is more than {tolerance_s} s from now ({now})")
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureMismatch("no v1 signature matches this secret")
    return timestamp
