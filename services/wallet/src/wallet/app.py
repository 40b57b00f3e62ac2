"""Use cases: credit a wallet for a successful payment (once), read balances."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from payments_shared.contracts import PaymentStatusUpdatedData
from payments_shared.events import EventEnvelope
from payments_shared.eventstore import ConcurrencyConflict, DuplicateRecord, EventStore, NewEvent, PutRecord, Snapshot
from payments_shared.observability.propagation import current_trace_context
from payments_shared.problems import NotFound
from wallet.domain.wallet import Wallet
from wallet.ports import BalancesReadModel, Sleep

# EventBridge retries for at most 24 h; a week of dedupe markers covers every redelivery.
DEDUPE_TTL = timedelta(days=7)


class WalletBusy(Exception):
    """Too many concurrent writers on one wallet: EventBridge will retry the event later."""


class WalletNotFound(NotFound):
    type = "urn:payments:problem:wallet-not-found"
    title = "Wallet not found"


@dataclass(frozen=True)
class CreditResult:
    credited: bool
    conflicts: int = 0


def stream_id(merchant_id: str) -> str:
    return f"wallet-{merchant_id}"


class WalletApp:
    def __init__(
        self,
        store: EventStore,
        balances: BalancesReadModel,
        events_table: str,
        balances_table: str,
        max_attempts: int = 64,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._store = store
        self._balances = balances
        self._events_table = events_table
        self._balances_table = balances_table
        self._max_attempts = max_attempts
        self._sleep = sleep

    def credit(self, envelope: EventEnvelope) -> CreditResult:
        """Credit the merchant for a SUCCESS payment, exactly once per source event.

        Concurrent credits race on the stream version; the loser reloads (snapshot + tail) and tries again,
        a bounded number of times with jittered backoff.
        """
        data = PaymentStatusUpdatedData.model_validate(envelope.data)
        amount = data.money()
        if data.status != "SUCCESS":
            return CreditResult(credited=False)
        stream = stream_id(data.merchant_id)
        marker = PutRecord(
            self._events_table,
            {"stream_id": f"dedupe#{envelope.event_id}", "version": 0},
            {"expires_at": int((datetime.now(UTC) + DEDUPE_TTL).timestamp())},
            only_if_absent=True,
        )
        for attempt in range(self._max_attempts):
            loaded = self._store.load(stream)
            wallet = Wallet.rebuild(
                data.merchant_id,
                (loaded.snapshot.version, loaded.snapshot.state) if loaded.snapshot else None,
                [(e.version, e.event_type, e.data) for e in loaded.events],
            )
            event = wallet.credit(amount, str(data.payment_order_id), str(envelope.event_id))
            credited = wallet.apply(event.event_type, event.data, wallet.version + 1)
            try:
                self._store.append(
                    stream,
                    wallet.version,
                    [NewEvent(event.event_type, event.data, envelope.correlation_id, str(envelope.event_id),
                              trace=current_trace_context())],  # fmt: skip
                    [marker, self._row(credited)],
                    snapshot=Snapshot(credited.version, credited.snapshot_state()),
                )
            except DuplicateRecord:
                return CreditResult(credited=False, conflicts=attempt)
            except ConcurrencyConflict:
                self._sleep(random.uniform(0, min(0.2, 0.002 * 2**attempt)))  # noqa: S311 - jitter
                continue
            return CreditResult(credited=True, conflicts=attempt)
        raise WalletBusy(f"{stream}: gave up after {self._max_attempts} conflicting attempts")

    def balances(self, merchant_id: str) -> dict[str, Any]:
        row = self._balances.get(merchant_id)
        if row is None:
            raise WalletNotFound(f"no wallet for merchant {merchant_id}")
        return row

    def _row(self, wallet: Wallet) -> PutRecord:
        return PutRecord(
            self._balances_table,
            {"merchant_id": wallet.merchant_id},
            {"balances": dict(wallet.balances), "version": wallet.version,
             "updated_at": datetime.now(UTC).isoformat()},
        )  # fmt: skip
