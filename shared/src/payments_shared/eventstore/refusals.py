"""DynamoDB's refusals that decided nothing, outside the event store's own transactions: a read, or a single write,
throttled past botocore's retries, or a transaction cancelled for a passing reason.

Each becomes StoreUnavailable, as a refused append does: an API answers it with 503 and Retry-After
(payments_shared.lambda_entry.http), a queue's consumer lets the message come back, a use case's retry policy
tries again. Left a bare ClientError, it was a 500 at an API and a crash of a whole sweep.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError

from payments_shared.eventstore.port import RETRYABLE_ERRORS, RETRYABLE_REASONS, StoreUnavailable


def reason_codes(error: ClientError) -> list[str]:
    """A cancelled transaction's CancellationReasons codes, one per item in request order; "None" where the item
    caused nothing (DynamoDB answers a `None` code and a null message; older SDK docs spell it `NONE`; moto may leave
    it out)."""
    codes = [r.get("Code") or "None" for r in error.response.get("CancellationReasons") or []]
    return ["None" if code.lower() == "none" else code for code in codes]


def passing_reason(error: ClientError) -> str | None:
    """The passing reason DynamoDB refused a call for (the call's error code, or for a cancelled transaction the
    first passing one of its CancellationReasons), or None when no retry would change the answer."""
    code = error.response.get("Error", {}).get("Code", "")
    reasons = reason_codes(error) if code == "TransactionCanceledException" else [code]
    return next((r for r in reasons if r in RETRYABLE_REASONS or r in RETRYABLE_ERRORS), None)


@contextmanager
def refused_for_now(what: str) -> Iterator[None]:
    """Within it, a call DynamoDB refused for a passing reason raises StoreUnavailable(what, reason); any other
    refusal stays the ClientError it is."""
    try:
        yield
    except ClientError as error:
        reason = passing_reason(error)
        if reason is None:
            raise
        raise StoreUnavailable(what, reason) from error
