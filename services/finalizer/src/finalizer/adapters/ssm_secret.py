"""A secret from SSM Parameter Store (SecureString), read with the container's client and kept for a max age.

Not Powertools' parameters utility, which did this before: its package imports boto3 at the top (for the
providers that build their own clients; ours is given one), so the charge consumer's cold start paid for
importing boto3 and s3transfer that neither it nor its first charge ever used, and the zip shipped them
(docs/benchmarks.md, cold init). What the utility gave us, one cached value with a max age, is the few lines below.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from time import monotonic
from typing import Any


def ssm_secret(ssm: Any, name: str, max_age_s: int) -> Callable[[], str]:
    """A getter for the decrypted value, fetched again once older than max_age_s (so a rotation lands).

    One fetch at a time: a batch's records are charged concurrently, and on a cold (or expired) cache each would
    fetch it, multiplying GetParameter calls against SSM's throughput limit at exactly the moments of scale-out.
    """
    fetching = threading.Lock()
    kept: str | None = None
    fetched_at = 0.0

    def value() -> str:
        nonlocal kept, fetched_at
        with fetching:  # a cache hit holds it for microseconds
            if kept is None or monotonic() - fetched_at >= max_age_s:
                kept = str(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
                fetched_at = monotonic()
            return kept

    return value
