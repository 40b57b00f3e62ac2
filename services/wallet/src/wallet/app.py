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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from payments_shared.eventstore import ConcurrencyConflict, EventStore, StoreUnavailable, ViewChange
from payments_shared.eventstore.repository import Cause, Decision, Repository
from payments_shared.fees import FeeSchedule
from payments_shared.money import Money
from payments_shared.retry import RetryPolicy, retry
from wallet.domain import payout
from wallet.domain.errors import PayoutKeyReused, WalletNotFound
from wallet.domain.payout import PayOut, PayoutPaid, Payouts, is_payouts_row
from wallet.domain.settlement import DEFAULT_SETTLEMENT_DELAY_S, Figures, figures, instant, settles_at
from wallet.domain.streams import (
    DEFAULT_SHARDS,
    credited_marker,
    dispute_won_marker,
    disputed_marker,
    refund_reversed_marker,
    refunded_marker,
    stream_id,
)
from wallet.domain.wallet import CreditWallet, Dispute, Refund, WalletCommand, WalletShard, wallet_decider
from wallet.ports import WalletBalances

CREDIT_RETRY = RetryPolicy(attempts=12)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CreditResult:
    credited: bool  # the balance moved (a credit or a debit)
    conflicts: int = 0  # lost races decided again on a fresh shard


def payout_once(payout_id: str) -> str:
    """Claimed with a payout: a payout id pays once even if its stream were lost (the decider checks too)."""
    return f"payout#{payout_id}"


class WalletApp:
    def __init__(
        self,
        store: EventStore,
        balances: WalletBalances,
        shards: int = DEFAULT_SHARDS,
        retry_policy: RetryPolicy = CREDIT_RETRY,
        *,
        fees: FeeSchedule,  # the ledger's (payments_shared.fees): the wallet holds what the ledger says is owed
        settlement_delay_s: int = DEFAULT_SETTLEMENT_DELAY_S,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        # A shard's snapshot is written with each of its moves: a credit takes it as the shard's head (one read),
        # and the append's version condition finds out otherwise (then it loads in full).
        self._repository = Repository(
            store, wallet_decider(fees), snapshots=True, retry_policy=retry_policy, trust_snapshot=True
        )
        # One attempt each: a lost payout race re-reads the shards too, in pay_out's own retry.
        self._payouts = Repository(store, payout.DECIDER, snapshots=True, retry_policy=RetryPolicy(attempts=1))
        self._retry_policy = retry_policy
        self._balances = balances
        self._shards = shards
        self._delay_s = settlement_delay_s
        self._clock = clock

    def credit(self, command: CreditWallet, cause: Cause) -> CreditResult:
        """Credit the merchant the payment's net of fees, exactly once per event and once per payment; pending
        until it settles (now + the settlement delay)."""
        now = self._clock()
        settling = replace(command, credited_at=instant(now), settles_at=settles_at(now, self._delay_s))
        return self._move(settling, cause, credited_marker(command.payment_order_id))

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
        """The business event's claim commits with the move, so whichever shard an attempt picks, a second
        delivery of the event is refused, and so is another event telling of the same business event (a second
        outcome, a replay rebuilt with new event ids: the ledger, too, posts each once). A lost race retries on a
        freshly drawn shard.

        The event's own claim (`dedupe#<event id>`) is no longer written: every delivery of an event names the
        same business event, so its claim refuses them all, and a claim costs 2 write units in a transaction.
        Moves made before the business claims existed keep their event claims (claims are kept forever), which
        still refuse those events' redeliveries.
        """

        drawn: dict[str, int] = {}  # stream id -> its shard

        def pick() -> str:
            shard = random.randrange(self._shards)  # noqa: S311 - load spreading, not security
            stream = stream_id(command.merchant_id, shard)
            drawn[stream] = shard
            return stream

        def row(decision: Decision[WalletShard]) -> Sequence[ViewChange]:
            shard, state = drawn[decision.stream_id], decision.state
            return [
                self._balances.shard_credited(
                    command.merchant_id, shard, state.balances, decision.version, state.pending
                )
            ]

        decision = self._repository.handle(
            pick,
            command,
            cause,
            changes=row,
            once=[business_marker],
        )
        return CreditResult(credited=decision.changed, conflicts=decision.lost_races)

    def balances(self, merchant_id: str) -> dict[str, Any]:
        """The merchant's balances per currency (summed over its shards; net of fees, refunds and payouts,
        possibly negative) and its number of moves."""
        wallet = self.wallet(merchant_id)
        return {
            "balances": {currency: f.balance for currency, f in wallet["figures"].items()},
            "version": wallet["version"],
        }

    def wallet(self, merchant_id: str) -> dict[str, Any]:
        """The merchant's figures per currency now (balance, pending, available, paid out:
        wallet.domain.settlement) and its number of moves."""
        rows = self._balances.shards(merchant_id)
        if not rows:
            raise WalletNotFound(merchant_id)
        return {"figures": figures(rows, self._clock()), "version": sum(int(row["version"]) for row in rows)}

    def pay_out(
        self, merchant_id: str, currency: str, payout_id: str, amount: Money | None, cause: Cause
    ) -> tuple[PayoutPaid, bool]:
        """Pay out `amount` (None: all available) once per payout id, never more than is available: the
        payout and whatever else is available are decided together on the payouts stream at its version
        (wallet.domain.payout); a racer that loses reads the shards again and decides again. Returns the
        payout and whether it is new (False: asked again with the same key). Raises PayoutExceedsAvailable.
        """
        stream = payout.stream_id(merchant_id, currency)

        def attempt(_: int) -> Decision[Payouts]:
            now = self._clock()
            every = self._balances.shards(merchant_id)
            if not every:
                raise WalletNotFound(merchant_id)
            rows = [row for row in every if not is_payouts_row(row)]
            available = figures(rows, now).get(currency, Figures()).available
            command = PayOut(payout_id, merchant_id, currency, amount, available, instant(now))

            def row(decision: Decision[Payouts]) -> Sequence[ViewChange]:
                return [self._balances.paid_out(merchant_id, currency, decision.state.paid_out, decision.version)]

            return self._payouts.handle(stream, command, cause, changes=row, once=[payout_once(payout_id)])

        decision = retry(attempt, on=(ConcurrencyConflict, StoreUnavailable), policy=self._retry_policy)
        if decision.changed:
            return decision.state.payouts[payout_id], True
        state = decision.state if payout_id in decision.state.payouts else self._payouts.load(stream).state
        if payout_id not in state.payouts:  # claimed by a payout in another currency
            raise PayoutKeyReused(payout_id)
        return state.payouts[payout_id], False
