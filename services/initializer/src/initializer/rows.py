"""The ShowMeTheMoney row of a payment order (write side), derived from the order's events alone.

One definition for the rows both order adapters write with the order's events (DynamoDB, in memory) and for the
rows an operator rebuilds from the event store (`payments-ops rebuild payment-orders`), so they never disagree.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from initializer.domain.order import EVENTS, OrderStatus, PaymentOrder, evolve

KEY = "payment_order_id"
VERSION = "version"  # the order stream's version, written with every event of the order


def order_key(payment_order_id: str) -> dict[str, str]:
    return {KEY: str(payment_order_id)}


def status_fields(order: PaymentOrder, version: int, timestamp: str) -> dict[str, Any]:
    """What a recorded outcome changes on the row (`version`: the order stream's, after the outcome)."""
    return {
        "status": order.shown_status.value,
        "failure_reason": order.failure_reason,
        "amount_refunded_minor": order.refunded().minor,
        # Manual capture: what the card holds, then what was captured (None until then, and for automatic).
        "amount_authorized_minor": None if order.authorized is None else order.authorized.minor,
        "amount_captured_minor": None
        if order.capture_method == "automatic" or order.status != OrderStatus.SUCCESS
        else order.charged().minor,
        "refunds": [
            {
                "refund_id": refund.refund_id,
                "amount_minor": refund.amount.minor,
                "reason": refund.reason,
                "status": refund.status.value,
                "requested_at": refund.requested_at,
                "failure_reason": refund.failure_reason,
            }
            for refund in order.refunds
        ],
        "disputes": [
            {
                "dispute_id": dispute.dispute_id,
                "amount_minor": dispute.amount.minor,
                "fee_minor": dispute.fee.minor,
                "status": dispute.status.value,
                "reason": dispute.reason,
            }
            for dispute in order.disputes
        ],
        # What the buyer's page needs while the order is REQUIRES_ACTION (None once final).
        "next_action": None
        if order.next_action is None
        else {
            "type": order.next_action.type,
            "redirect_url": order.next_action.redirect_url,
            "client_secret": order.next_action.client_secret,
        },
        "timestamp": timestamp,
        "version": version,
    }


def presumed_fields(order: PaymentOrder, version: int) -> dict[str, Any]:
    """What the row must still hold for a change decided on `order` at `version` without reading the order: the
    version (how many events), the status and the capture method. At version 1 that pins the order whole (one
    initiation event: INITIATED, not rejected; automatic or manual), which is where it is presumed."""
    return {VERSION: version, "status": order.shown_status.value, "capture_method": order.capture_method}


def order_row(order: PaymentOrder, version: int, first_event: Mapping[str, Any], timestamp: str) -> dict[str, Any]:
    """The whole row: the order's state plus what only its first event holds (the buyer, the sealed card).

    A rejected order keeps no sealed card: it is never charged, so the details have no reader.
    """
    return {
        KEY: str(order.payment_order_id),
        "merchant_id": str(order.merchant_id),
        "buyer_info": dict(first_event["buyer"]),
        "payment_details": first_event.get("payment_details"),
        "amount": order.amount.to_decimal_string(),
        "amount_minor": order.amount.minor,
        "currency": order.amount.currency,
        "card_brand": order.card.brand if order.card else None,
        "card_last4": order.card.last4 if order.card else None,
        "payment_method": order.payment_method,
        "capture_method": order.capture_method,
        "created_at": order.created_at.isoformat(),
        **status_fields(order, version, timestamp),
    }


def rebuilt_row(history: Sequence[tuple[int, str, Mapping[str, Any]]], timestamp: str) -> dict[str, Any] | None:
    """The row an order's stored (version, event type, data), oldest first and in today's shape, say it holds;
    None for a stream without an order."""
    if not history:
        return None
    order = functools.reduce(evolve, (EVENTS.decode(event_type, data) for _, event_type, data in history), None)
    return None if order is None else order_row(order, history[-1][0], history[0][2], timestamp)
