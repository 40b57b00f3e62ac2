"""Time to final status: from a buyer's POST /payments to the moment GET /payments/{id} shows SUCCESS or FAILED,
next to the PSP's own latency in the same run, as ratios (the machine is noisy; the ratios travel).

The final moment is the outcome's own recorded time, not a poll's: the initializer writes the order's
PaymentOutcomeRecorded (or, for an order refused at once, PaymentRejected) in the same transaction as the row
GET /payments/{id} reads, so that event's occurred_at is when GET first can show the final status — no polling
interval in the figure, and no polling load on the stack it measures. POST's start is the client's clock, the
event's the function's: one machine, one clock.
Only orders nobody else acts on count (approvals, declines, refusals): a 3-D Secure buyer's or a merchant's
capture wait is theirs, not the system's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from devstack.load import Sent
from initializer.domain.order import PAYMENT_OUTCOME_RECORDED, PAYMENT_REJECTED
from initializer.domain.streams import payment_stream
from payments_shared.eventstore.dynamodb import EVENT, PK, query_rows
from payments_shared.topology import EVENT_STORES

# The kinds of order the system alone takes to a final status.
UNATTENDED = frozenset({"approve", "approve-refund-fails", "approve-dispute", "decline", "refuse"})
FINAL_EVENTS = (PAYMENT_OUTCOME_RECORDED, PAYMENT_REJECTED)
CHARGE_ENDPOINT = "POST /v1/payment_intents"  # the PSP call on the buyer's path: the charge


def final_moment(dynamodb: Any, payment_order_id: str) -> datetime | None:
    """When the order's row first showed a final status: its first outcome event's occurred_at (None: not yet)."""
    rows = query_rows(dynamodb, EVENT_STORES["initializer"], PK, payment_stream(payment_order_id))
    moments = [
        datetime.fromisoformat(str(row["occurred_at"]))
        for row in rows
        if row.get("record_type") == EVENT and row.get("event_type") in FINAL_EVENTS
    ]
    return min(moments, default=None)


def waits_ms(dynamodb: Any, sent: Iterable[Sent]) -> list[float]:
    """Each unattended accepted order's time from its POST's start to its final moment, in milliseconds."""
    waits: list[float] = []
    for s in sent:
        if s.status != 201 or s.kind not in UNATTENDED or not s.posted_at:
            continue
        moment = final_moment(dynamodb, s.body["payment_order_id"])
        if moment is not None:
            waits.append((moment.timestamp() - s.posted_at) * 1000)
    return waits


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(waits: list[float], psp_answer_seconds: Mapping[str, list[float]], psp_latency: str) -> dict[str, Any]:
    """p50/p95/p99 of the time to final status and of the PSP's charge answers (ms), and their ratios."""
    charges_ms = [s * 1000 for s in psp_answer_seconds.get(CHARGE_ENDPOINT, [])]
    out: dict[str, Any] = {"psp_latency": psp_latency, "orders": len(waits), "psp_charges": len(charges_ms)}
    for p in (50, 95, 99):
        final = round(percentile(waits, p), 1) if waits else None
        psp = round(percentile(charges_ms, p), 1) if charges_ms else None
        out[f"p{p}_ms"], out[f"psp_p{p}_ms"] = final, psp
        out[f"p{p}_ratio"] = round(final / psp, 2) if final is not None and psp else None
    return out


def render(figures: Mapping[str, Any]) -> str:
    """One line of the run's summary."""
    if not figures.get("orders"):
        return "time to final (ms)     no unattended order reached a final status"
    parts = [
        f"p{p} {figures[f'p{p}_ms']} (PSP {figures[f'psp_p{p}_ms']}, x{figures[f'p{p}_ratio']})" for p in (50, 95, 99)
    ]
    return f"time to final (ms)     {', '.join(parts)}; {figures['orders']} orders, PSP {figures['psp_latency']}"
