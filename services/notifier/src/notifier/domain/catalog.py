"""Merchant events: which of our integration events a merchant hears about, under which type, with which body.

The body is what a merchant's endpoint receives and `GET /events/{id}` shows, built once when the event is recorded
and delivered byte for byte on every attempt. Versioned by `api_version` (Stripe's habit): a change to a body's
shape is a new version, never an edit of this one.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from payments_shared.money import Money

API_VERSION = "2026-12-01"

EVENT_TYPES = frozenset(
    {
        "payment.succeeded",
        "payment.failed",
        "payment.requires_action",
        "payment.authorized",  # a manual-capture payment held on the card
        "payment.captured",  # a manual-capture payment captured (SUCCESS after AUTHORIZED)
        "payment.canceled",
        "refund.succeeded",
        "refund.failed",  # failed at once, or REVERSED later (Stripe's refund.failed)
        "dispute.opened",
        "dispute.closed",  # won or lost: data.object.status says which
        "payout.paid",
    }
)

# Our integration events a merchant may hear about (contracts/event_patterns/merchant_events.json says the same).
SOURCE_TYPES = frozenset(
    {"PaymentStatusUpdated", "PaymentActionRequired", "RefundStatusUpdated", "DisputeStatusUpdated", "PayoutPaid"}
)

EVENT_ID = re.compile(r"evt_[0-9]{13}_[0-9a-f]{16}")
_EVENT_NAMESPACE = uuid.UUID("2c9e7f41-8d3a-4b6e-b1f0-5a7d9c2e4f83")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_MS = 10**13 - 1  # 13 digits of milliseconds: until the year 2286


def event_id(created_ms: int, source_event_id: str) -> str:
    """Sorts by time (a Query on the sort key lists newest first) and is the same for a redelivered source event,
    so it is recorded once."""
    if not 0 <= created_ms <= MAX_MS:
        raise ValueError(f"created_ms {created_ms} out of range")
    return f"evt_{created_ms:013d}_{uuid.uuid5(_EVENT_NAMESPACE, source_event_id).hex[:16]}"


def id_bounds(created_gte: int | None, created_lte: int | None) -> tuple[str, str]:
    """The sort-key range of the events created within [created_gte, created_lte] (unix s, both inclusive)."""
    low = 0 if created_gte is None else max(0, created_gte) * 1000
    high = MAX_MS if created_lte is None else min(MAX_MS, created_lte * 1000 + 999)
    return f"evt_{low:013d}", f"evt_{high:013d}_~"  # '~' sorts after every hex digit


@dataclass(frozen=True)
class MerchantEvent:
    merchant_id: str
    event_id: str
    type: str
    created: int  # unix s of the source event
    body: str  # the exact JSON delivered
    source_event_id: str


def _figure(minor: int, currency: str) -> dict[str, Any]:
    return {"amount": Money(minor, currency).to_decimal_string(), "amount_minor": minor, "currency": currency}


def _payment(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    status = data["status"]
    manual = data.get("amount_authorized_minor") is not None
    kind = {
        "SUCCESS": "payment.captured" if manual else "payment.succeeded",
        "FAILED": "payment.failed",
        "AUTHORIZED": "payment.authorized",
        "CANCELED": "payment.canceled",
    }[status]
    obj: dict[str, Any] = {
        "id": data["payment_order_id"],
        "object": "payment",
        "merchant_id": data["merchant_id"],
        "status": status,
        **_figure(data["amount_minor"], data["currency"]),
    }
    if manual:
        obj["amount_authorized_minor"] = data["amount_authorized_minor"]
    if status == "FAILED":
        obj["decline_code"] = data.get("decline_code")
        obj["failure_message"] = data.get("error_message")
    return kind, obj


def _action(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    # No client_secret: Stripe says it must not be stored or logged, and this body is stored and delivered; the
    # merchant's front end reads it from GET /payments/{id}.
    next_action = {"type": data["next_action_type"], "redirect_url": data.get("redirect_url")}
    obj = {
        "id": data["payment_order_id"],
        "object": "payment",
        "merchant_id": data["merchant_id"],
        "status": "REQUIRES_ACTION",
        "next_action": next_action,
    }
    return "payment.requires_action", obj


def _refund(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    status = data["status"]
    obj = {
        "id": data["refund_id"],
        "object": "refund",
        "payment_order_id": data["payment_order_id"],
        "merchant_id": data["merchant_id"],
        "status": status,
        **_figure(data["amount_minor"], data["currency"]),
        "failure_reason": data.get("failure_reason"),
    }
    return ("refund.succeeded" if status == "SUCCEEDED" else "refund.failed"), obj


def _dispute(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    status = data["status"]
    obj = {
        "id": data["dispute_id"],
        "object": "dispute",
        "payment_order_id": data["payment_order_id"],
        "merchant_id": data["merchant_id"],
        "status": status,
        **_figure(data["amount_minor"], data["currency"]),
        "fee_minor": data["fee_minor"],
        "reason": data.get("reason"),
    }
    return ("dispute.opened" if status == "OPENED" else "dispute.closed"), obj


def _payout(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    obj = {
        "id": data["payout_id"],
        "object": "payout",
        "merchant_id": data["merchant_id"],
        "status": "PAID",
        **_figure(data["amount_minor"], data["currency"]),
        "created": data["created"],
    }
    return "payout.paid", obj


_BUILDERS = {
    "PaymentStatusUpdated": _payment,
    "PaymentActionRequired": _action,
    "RefundStatusUpdated": _refund,
    "DisputeStatusUpdated": _dispute,
    "PayoutPaid": _payout,
}


def merchant_event(
    source_type: str, source_event_id: str, occurred_at: datetime, data: Mapping[str, Any]
) -> MerchantEvent | None:
    """The merchant's view of one of our integration events (data already checked against its contract);
    None for a type merchants do not hear about."""
    build = _BUILDERS.get(source_type)
    if build is None:
        return None
    kind, obj = build(data)
    created_ms = (occurred_at - _EPOCH) // timedelta(milliseconds=1)  # integers: no float rounding
    identifier = event_id(created_ms, source_event_id)
    body = {
        "id": identifier,
        "object": "event",
        "api_version": API_VERSION,
        "type": kind,
        "created": created_ms // 1000,
        "data": {"object": obj},
    }
    return MerchantEvent(
        merchant_id=str(data["merchant_id"]),
        event_id=identifier,
        type=kind,
        created=created_ms // 1000,
        body=json.dumps(body, separators=(",", ":")),
        source_event_id=source_event_id,
    )
