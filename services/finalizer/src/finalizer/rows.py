"""The BreakingTheBank row of a finalized payment, derived from its outcome event alone.

One definition for the row the results adapters write with the event and for the row an operator rebuilds
from the event store (`payments-ops rebuild payment-results`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KEY = "payment_order_id"


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
