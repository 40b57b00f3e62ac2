"""Use cases: credit a wallet for a successful payment (once), read balances.

A merchant's wallet is split into `shards` event streams (`wallet-<merchant>#<n>`), each with its own
snapshot and balances row, and a credit goes to any one of them. A busy merchant's concurrent credits then
spread over that many items instead of queueing on one: DynamoDB cancels transactions that overlap on an
item, so a single stream would serialize every credit. The balance is the sum of the shards' rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from payments_shared.contracts import PaymentStatusUpdatedData
from payments_shared.events import EventEnvelope
from payments_shared.eventstore import (
    ConcurrencyConflict,
    DuplicateRecord,
    EventStore,
    NewEvent,
    Snapshot,
    StoreUnavailable,
)
from payments_shared.observability.propagation import current_trace_context
from payments_shared.retry import RetryPolicy, retry
from wallet.domain.errors import WalletNotFound
from wallet.domain.wallet import Wallet
from wallet.ports import BalancesReadModel
from wallet.read_model import shard_name

DEFAULT_SHARDS = 16
CREDIT_RETRY = RetryPolicy(attempts=12)


@dataclass(frozen=True)
class CreditResult:
    credited: bool
    conflicts: int = 0


def stream_id(merchant_id: str, shard: int) -> str:
    return f"wallet-{merchant_id}#{shard_name(shard)}"


class WalletApp:
    def __init__(
        self,
        store: EventStore,
        balances: BalancesReadModel,
        shards: int = DEFAULT_SHARDS,
        retry_policy: RetryPolicy = CREDIT_RETRY,
    ) -> None:
        self._store = store
        self._balances = balances
        self._shards = shards
        self._retry_policy = retry_policy

    def credit(self, envelope: EventEnvelope) -> CreditResult:
        """Credit the merchant for a SUCCESS payment, exactly once per payment.

        The dedupe markers commit with the credit, so whichever shard an attempt picks, a second delivery of the
        event is refused, and so is another event telling of the same payment (the ledger, too, posts a payment
        once). A lost race (version taken, or a transaction in flight on the same shard) retries on a fresh state
        and a freshly drawn shard, a bounded number of times; then the queue redelivers the message.
        """
        data = PaymentStatusUpdatedData.model_validate(envelope.data)
        amount = data.money()
        if data.status != "SUCCESS":
            return CreditResult(credited=False)
        # Kept forever: a marker that expired before the last possible redelivery (DLQ redrive included)
        # would let the same payment be credited twice.
        marker = self._store.claim(f"dedupe#{envelope.event_id}")
        # A payment id may come again in another event (a second outcome, a replay rebuilt with new event ids):
        # one credit per payment. The event's own marker stays: credits made before this one existed have it alone.
        payment_marker = self._store.claim(f"credited#{data.payment_order_id}")
        attempts = [0]

        def attempt(number: int) -> None:
            attempts[0] = number
            shard = random.randrange(self._shards)  # noqa: S311 - load spreading, not security
            stream = stream_id(data.merchant_id, shard)
            loaded = self._store.load(stream, snapshotted=True)  # every credit writes the shard's snapshot
            wallet = Wallet.rebuild(
                data.merchant_id,
                (loaded.snapshot.version, loaded.snapshot.state) if loaded.snapshot else None,
                [(e.version, e.event_type, e.data) for e in loaded.events],
            )
            credited = wallet.credit(amount, str(data.payment_order_id), str(envelope.event_id))
            self._store.append(
                stream,
                wallet.version,
                [
                    NewEvent(
                        event.event_type,
                        event.data,
                        envelope.correlation_id,
                        str(envelope.event_id),
                        trace=current_trace_context(),
                    )
                    for event in credited.pending
                ],
                [marker, payment_marker, self._balances.shard_written(credited, shard, datetime.now(UTC).isoformat())],
                snapshot=Snapshot(credited.version, credited.snapshot_state()),
            )

        try:
            retry(attempt, on=(ConcurrencyConflict, StoreUnavailable), policy=self._retry_policy)
        except DuplicateRecord:
            return CreditResult(credited=False, conflicts=attempts[0])
        return CreditResult(credited=True, conflicts=attempts[0])

    def balances(self, merchant_id: str) -> dict[str, Any]:
        """The merchant's balances per currency (summed over its shards) and its number of credits."""
        rows = self._balances.shards(merchant_id)
        if not rows:
            raise WalletNotFound(merchant_id)
        totals: dict[str, int] = {}
        for row in rows:
            for currency, minor in row["balances"].items():
                totals[str(currency)] = totals.get(str(currency), 0) + int(minor)
        return {"balances": totals, "version": sum(int(row["version"]) for row in rows)}
