"""A payment's story: its events in all four event stores, in the order they happened, with their trace ids.

Streams: `payment-<id>` in the initializer's and the finalizer's stores; in the ledger's, the capture's journal
(which carries the PSP's fee since 2026-12-06; an older payment's psp_fee entry is on its own stream, shown too)
and the journal of each refund (and reversal) whose id those streams name; and the merchant's wallet shards
(the wallet's own stream names and default shard count), where each move names the payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from finalizer.domain.streams import payment_stream as finalizer_stream
from initializer.domain.streams import payment_stream as initializer_stream
from ledger.domain.journal import EntryType
from ledger.domain.streams import entry_stream, journal_stream
from payments_shared.eventstore.dynamodb import EVENT, PK, query_rows, stored_event_from_item
from payments_shared.eventstore.port import StoredEvent
from payments_shared.topology import EVENT_STORES as STORES  # the tables the Terraform names
from wallet.domain.streams import DEFAULT_SHARDS
from wallet.domain.streams import stream_id as wallet_stream_id


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


def _stored(dynamodb: Any, service: str, stream_id: str) -> list[StoredEvent]:
    rows = query_rows(dynamodb, STORES[service], PK, stream_id)
    return [stored_event_from_item(row) for row in rows if row.get("record_type") == EVENT]  # no snapshots, markers


def _traced(service: str, events: list[StoredEvent]) -> list[TracedEvent]:
    return [
        TracedEvent(
            service,
            e.stream_id,
            e.version,
            e.event_type,
            e.occurred_at.isoformat(),
            e.trace.traceparent.split("-")[1] if e.trace.traceparent else None,
            str(e.event_id),
        )
        for e in events
    ]


def trace_payment(dynamodb: Any, payment_order_id: str) -> list[TracedEvent]:
    initiated = _stored(dynamodb, "initializer", initializer_stream(payment_order_id))
    finalized = _stored(dynamodb, "finalizer", finalizer_stream(payment_order_id))
    found = _traced("initializer", initiated) + _traced("finalizer", finalized)
    found += _traced("ledger", _stored(dynamodb, "ledger", journal_stream(payment_order_id)))
    # Stripe's fee on an older payment, its own entry (a newer payment's capture carries it: nothing found here).
    psp_fee = entry_stream(EntryType.PSP_FEE, payment_order_id, payment_order_id)
    found += _traced("ledger", _stored(dynamodb, "ledger", psp_fee))
    # A refund's entries live in streams of their own, named by the refund ids the payment's streams record.
    for refund_id in sorted({str(e.data["refund_id"]) for e in initiated + finalized if e.data.get("refund_id")}):
        for entry_type in (EntryType.REFUND, EntryType.REFUND_REVERSAL):
            found += _traced(
                "ledger", _stored(dynamodb, "ledger", entry_stream(entry_type, payment_order_id, refund_id))
            )
    for merchant in sorted({str(e.data["merchant_id"]) for e in initiated if e.data.get("merchant_id")}):
        for shard in range(DEFAULT_SHARDS):
            credits = [
                e
                for e in _stored(dynamodb, "wallet", wallet_stream_id(merchant, shard))
                if e.data.get("payment_order_id") == payment_order_id
            ]
            found += _traced("wallet", credits)
    return sorted(found, key=lambda e: (e.occurred_at, e.service, e.version))
