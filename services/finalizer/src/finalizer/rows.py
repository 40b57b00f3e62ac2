"""The BreakingTheBank row of a finalized payment, derived from its outcome event alone.

One definition for the row the results adapters write with the event and for the row an operator rebuilds
from the event store (`payments-ops rebuild payment-results`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KEY = "payment_order_id"
# A sparse index of the payments awaiting the buyer's authentication, oldest first: only their rows carry its
# keys, so a final result (a whole new row) leaves it. The sweep reads it for the ones past the deadline.
AWAITING_INDEX = "awaiting-action"
AWAITING = "awaiting"  # the index's partition key: one value (a few payments per second at most await)
AWAITING_SINCE = "action_required_at"
# Authorizations awaiting capture share the index under their own partition value: the capture window's sweep
# reads those held since before the window's start. A capture's or a cancel's result row leaves it.
AUTHORIZED = "authorized"


def result_key(payment_order_id: str) -> dict[str, str]:
    return {KEY: str(payment_order_id)}


def result_row(outcome: Mapping[str, Any], version: int, timestamp: str) -> dict[str, Any]:
    """outcome: the data of PaymentSucceeded or PaymentFailed, the payment stream's event at `version`."""
    return {
        KEY: str(outcome["payment_order_id"]),
        "merchant_id": str(outcome["merchant_id"]),
        "amount": outcome["amount"],
        "currency": outcome["currency"],
        "payment_status": outcome["status"],
        "error_message": outcome["error_message"],
        "decline_code": outcome.get("decline_code"),
        "psp_reference": outcome.get("psp_reference"),
        "timestamp": timestamp,
        "version": version,
    }


def authorized_row(authorized: Mapping[str, Any], version: int, timestamp: str) -> dict[str, Any]:
    """authorized: the data of PaymentAuthorized, the payment stream's event at `version`."""
    return {
        KEY: str(authorized["payment_order_id"]),
        "merchant_id": str(authorized["merchant_id"]),
        "amount": authorized["amount"],
        "currency": authorized["currency"],
        "payment_status": authorized["status"],
        "psp_reference": authorized["psp_reference"],
        "timestamp": timestamp,
        "version": version,
        AWAITING: AUTHORIZED,
        AWAITING_SINCE: timestamp,
    }


def action_row(action: Mapping[str, Any], version: int, timestamp: str) -> dict[str, Any]:
    """action: the data of PaymentActionRequired, the payment stream's event at `version`. No client secret:
    the table is an operator's view."""
    return {
        KEY: str(action["payment_order_id"]),
        "merchant_id": str(action["merchant_id"]),
        "amount": action["amount"],
        "currency": action["currency"],
        "payment_status": action["status"],
        "psp_reference": action["psp_reference"],
        "timestamp": timestamp,
        "version": version,
        AWAITING: AWAITING,
        AWAITING_SINCE: timestamp,
    }
