"""Use cases: credit a wallet for a successful payment net of fees, debit it for a refund, credit a reversed
refund back, debit a dispute (its amount and fee), credit a won dispute's amount back (each once), read balances.

A merchant's wallet is split into shards (wallet.domain.streams), each with its own snapshot and balances row,
and a credit goes to any one of them. A busy merchant's concurrent credits then spread over that many items
instead of queueing on one: DynamoDB cancels transactions that overlap on an item, so a single stream would
serialize every credit. The balance is the sum of the shards' rows. Debits land on any shard too: a shard
may go negative, only the sum means anything (wallet.domain.wallet).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from payments_shared.eventstore import EventStore, ViewChange
from payments_shared.eventstore.repository import Cause, Decision, Repository
from payments_shared.fees import FeeSchedule
from payments_shared.retry import RetryPolicy
from wallet.domain.errors import WalletNotFound
from wallet.domain.streams import (
    DEFAULT_SHARDS,
    credited_marker,
    dedupe_marker,
    dispute_won_marker,
    disputed_marker,
    refund_reversed_marker,
    refunded_marker,
    stream_id,
)
from wallet.domain.wallet import CreditWallet, Dispute, Refund, WalletCommand, WalletShard, wallet_decider
from wallet.ports import WalletBalances

CREDIT_RETRY = RetryPolicy(attempts=12)


@dataclass(frozen=True)
class CreditResult:
    credited: bool  # the balance moved (a credit or a debit)
    conflicts: int = 0  # lost races decided again on a fresh shard


class WalletApp:
    def __init__(
        self,
        store: EventStore,
        balances: WalletBalances,
        shards: int = DEFAULT_SHARDS,
        retry_policy: RetryPolicy = CREDIT_RETRY,
        *,
        fees: FeeSchedule,  # the ledger's (payments_shared.fees): the wallet holds what the ledger says is owed
    ) -> None:
        self._repository = Repository(store, wallet_decider(fees), snapshots=True, retry_policy=retry_policy)
        self._balances = balances
        self._shards = shards

    def credit(self, command: CreditWallet, cause: Cause) -> CreditResult:
        """Credit the merchant the payment's net of fees, exactly once per event and once per payment."""
        return self._move(command, cause, credited_marker(command.payment_order_id))

    def refund(self, command: Refund, cause: Cause) -> CreditResult:
        """Debit a refund, or credit a reversed one back, exactly once per event and once per refund and kind."""
        marker = refund_reversed_marker if command.reversed else refunded_marker
        return self._move(command, cause, marker(command.refund_id))

    def dispute(self, command: Dispute, cause: Cause) -> CreditResult:
        """Debit a dispute's amount and fee, or credit a won one's amount back, once per event and once per
        dispute and kind."""
        marker = dispute_won_marker if command.won else disputed_marker
        return self._move(command, cause, marker(command.dispute_id))

    def _move(self, command: WalletCommand, cause: Cause, business_marker: str) -> CreditResult:
        """Both claims commit with the move, so whichever shard an attempt picks, a second delivery of the event
        is refused, and so is another event telling of the same business event (a second outcome, a replay
        rebuilt with new event ids: the ledger, too, posts each once). The event's own claim stays: credits
        made before the payment's claim existed have it alone. A lost race retries on a freshly drawn shard.
        """

        drawn: dict[str, int] = {}  # stream id -> its shard

        def pick() -> str:
            shard = random.randrange(self._shards)  # noqa: S311 - load spreading, not security
            stream = stream_id(command.merchant_id, shard)
            drawn[stream] = shard
            return stream

        def row(decision: Decision[WalletShard]) -> Sequence[ViewChange]:
            shard, state = drawn[decision.stream_id], decision.state
            return [self._balances.shard_credited(command.merchant_id, shard, state.balances, decision.version)]

        decision = self._repository.handle(
            pick,
            command,
            cause,
            changes=row,
            once=[dedupe_marker(command.source_event_id), business_marker],
        )
        return CreditResult(credited=decision.changed, conflicts=decision.lost_races)

    def balances(self, merchant_id: str) -> dict[str, Any]:
        """The merchant's balances per currency (summed over its shards; net of fees and refunds, possibly
        negative) and its number of moves."""
        rows = self._balances.shards(merchant_id)
        if not rows:
            raise WalletNotFound(merchant_id)
        totals: dict[str, int] = {}
        for row in rows:
            for currency, minor in row["balances"].items():
                totals[str(currency)] = totals.get(str(currency), 0) + int(minor)
        return {"balances": totals, "version": sum(int(row["version"]) for row in rows)}
