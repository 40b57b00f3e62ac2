"""Time to final status in the run's summary: measured from the POST's start to the outcome's own recorded time
(the initializer's event written with the row GET reads), only for orders the system alone settles, and set
against the PSP's own charge latency as ratios."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from devstack.load import Sent
from devstack.time_to_final import CHARGE_ENDPOINT, render, summary, waits_ms

POSTED = datetime(2026, 12, 6, 5, 0, tzinfo=UTC).timestamp()


class Store:
    """The initializer's event store as query_rows reads it: each order's events, in DynamoDB's attribute format."""

    def __init__(self, events: dict[str, list[tuple[str, float]]]) -> None:
        self.events = events  # order id → (event type, seconds after POSTED)

    def query(self, **query: Any) -> dict[str, Any]:
        stream = query["ExpressionAttributeValues"][":pk"]["S"]
        order_id = stream.removeprefix("payment-")
        return {
            "Items": [
                {
                    "stream_id": {"S": stream},
                    "record_type": {"S": "event"},
                    "event_type": {"S": kind},
                    "occurred_at": {"S": datetime.fromtimestamp(POSTED + after, UTC).isoformat()},
                }
                for kind, after in self.events.get(order_id, [])
            ]
        }


def sent(order_id: str, kind: str = "approve", status: int = 201) -> Sent:
    return Sent(kind, status, {"payment_order_id": order_id}, 10.0, posted_at=POSTED)


def test_the_wait_runs_from_the_post_to_the_first_outcome_recorded() -> None:
    store = Store(
        {
            "a": [("PaymentInitiated", 0.05), ("PaymentOutcomeRecorded", 1.2), ("RefundOutcomeRecorded", 9.0)],
            "r": [("PaymentRejected", 0.04)],
            "pending": [("PaymentInitiated", 0.05)],
        }
    )
    waits = waits_ms(store, [sent("a"), sent("r", "refuse"), sent("pending")])
    assert [round(w) for w in waits] == [1200, 40]  # an order not yet final is not counted


def test_orders_a_buyer_or_a_merchant_acts_on_and_refused_requests_do_not_count() -> None:
    store = Store({o: [("PaymentOutcomeRecorded", 5.0)] for o in ("3ds", "hold", "bad")})
    others = [sent("3ds", "authenticate"), sent("hold", "authorize-capture"), sent("bad", status=400)]
    assert waits_ms(store, others) == []


def test_the_summary_sets_each_percentile_against_the_psps_charge_latency() -> None:
    psp = {CHARGE_ENDPOINT: [0.4] * 98 + [2.0] * 2, "GET /x": [9.0]}  # only the charge counts
    figures = summary([1000.0] * 98 + [4000.0] * 2, psp, "stripe")
    assert (figures["p50_ms"], figures["psp_p50_ms"], figures["p50_ratio"]) == (1000.0, 400.0, 2.5)
    assert (figures["p99_ms"], figures["psp_p99_ms"], figures["p99_ratio"]) == (4000.0, 2000.0, 2.0)
    assert "p50 1000.0 (PSP 400.0, x2.5)" in render(figures) and "PSP stripe" in render(figures)


def test_no_psp_call_or_no_final_order_gives_no_ratio_rather_than_a_crash() -> None:
    assert summary([500.0], {}, "none")["p50_ratio"] is None
    assert "no unattended order" in render(summary([], {}, "none"))
