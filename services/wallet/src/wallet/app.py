"""Use cases: credit a wallet for a successful payment (once), read balances.

A merchant's wallet is split into shards (wallet.domain.streams), each with its own snapshot and balances row,
and a credit goes to any one of them. A busy merchant's concurrent credits then spread over that many items
instead of queueing on one: DynamoDB cancels transactions that overlap on an item, so a single stream would
serialize every credit. The balance is the sum of the shards' rows.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from payments_shared.eventstore import EventStore, ViewChange
from payments_shared.eventstore.repository import Cause, Decision, Repository
from payments_shared.retry import RetryPolicy
from wallet.domain.errors import WalletNotFound
from wallet.domain.streams import DEFAULT_SHARDS, credited_marker, dedupe_marker, stream_id
from wallet.domain.wallet import DECIDER, CreditWallet, WalletShard
from wallet.ports import WalletBalances

CREDIT_RETRY = RetryPolicy(attempts=12)


@dataclass(frozen=True)
class CreditResult:
    credited: bool
    conflicts: int = 0  # lost races decided again on a fresh shard


class WalletApp:
    def __init__(
        self,
        store: EventStore,
        balances: WalletBalances,
        shards: int = DEFAULT_SHARDS,
        retry_policy: RetryPolicy = CREDIT_RETRY,
    ) -> None:
        self._repository = Repository(store, DECIDER, snapshots=True, retry_policy=retry_policy)
        self._balances = balances
        self._shards = shards

    def credit(self, command: CreditWallet, cause: Cause) -> CreditResult:
        """Credit the merchant, exactly once per event and once per payment.

        Both claims commit with the credit, so whichever shard an attempt picks, a second delivery of the event
        is refused, and so is another event telling of the same payment (a second outcome, a replay rebuilt
        with new event ids: the ledger, too, posts a payment once). The event's own claim stays: credits made
        before the payment's existed have it alone. A lost race retries on a freshly drawn shard.
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
            once=[dedupe_marker(command.source_event_id), credited_marker(command.payment_order_id)],
        )
        return CreditResult(credited=decision.changed, conflicts=decision.lost_races)

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
