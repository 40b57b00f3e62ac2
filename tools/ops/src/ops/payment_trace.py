"""A payment's story: its events in all four event stores, in the order they happened, with their trace ids.

Streams: `payment-<id>` in the initializer's and the finalizer's stores, `journal-<id>` in the ledger's, and
the merchant's wallet shards (`wallet-<merchant>#00..15`), where the credit names the payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from payments_shared.eventstore.dynamodb import EVENT, PK, query_rows, stored_event_from_item

STORES = {"initializer": "initializer-events", "finalizer": "finalizer-events", "ledger": "ledger-events",
          "wallet": "wallet-events"}  # fmt: skip
WALLET_SHARDS = 16


@dataclass(frozen=True)
class TracedEvent:
    service: str
    stream_id: str
    version: int
    event_type: str
    occurred_at: str
    trace_id: str | None
    event_id: str

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _events(dynamodb: Any, service: str, stream_id: str, payment_order_id: str | None = None) -> list[TracedEvent]:
    events = []
    for row in query_rows(dynamodb, STORES[service], PK, stream_id):
        if row.get("record_type") != EVENT:
            continue  # snapshots, markers
        event = stored_event_from_item(row)
        if payment_order_id and event.data.get("payment_order_id") != payment_order_id:
            continue
        trace_id = event.trace.traceparent.split("-")[1] if event.trace.traceparent else None
        events.append(TracedEvent(service, event.stream_id, event.version, event.event_type,
                                  event.occurred_at.isoformat(), trace_id, str(event.event_id)))  # fmt: skip
    return events


def trace_payment(dynamodb: Any, payment_order_id: str) -> list[TracedEvent]:
    found = _events(dynamodb, "initializer", f"payment-{payment_order_id}")
    found += _events(dynamodb, "finalizer", f"payment-{payment_order_id}")
    found += _events(dynamodb, "ledger", f"journal-{payment_order_id}")
    initiated = query_rows(dynamodb, STORES["initializer"], PK, f"payment-{payment_order_id}")
    merchants = {stored_event_from_item(r).data.get("merchant_id") for r in initiated if r.get("record_type") == EVENT}
    for merchant in sorted(m for m in merchants if m):
        for shard in range(WALLET_SHARDS):
            found += _events(dynamodb, "wallet", f"wallet-{merchant}#{shard:02d}", payment_order_id)
    return sorted(found, key=lambda e: (e.occurred_at, e.service, e.version))
