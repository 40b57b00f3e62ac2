"""A merchant's payouts in one currency as a decider, on the stream `payouts-<merchant>-<currency>`.

A payout moves available money out to the merchant's bank: never more than is available when it is decided.
Every payout of a merchant and currency is decided on this one stream at its current version, so two racing
payouts cannot both spend the same money: the loser's append fails its version condition, and it decides
again on what the winner left (wallet.app.WalletApp.pay_out). What is available besides this stream's own
payouts (settled credits less refunds and disputes) is read from the wallet's shards in the same attempt.

A payout is named by the merchant's Idempotency-Key (PayoutId): asking again with the same key returns the
first payout and moves nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from payments_shared.decider import Decider
from payments_shared.domain_events import DomainEvent, EventTypes
from payments_shared.money import Money
from wallet.domain.errors import PayoutExceedsAvailable

PAYOUT_PAID = "PayoutPaid"
STREAM_PREFIX = "payouts-"


def stream_id(merchant_id: str, currency: str) -> str:
    return f"{STREAM_PREFIX}{merchant_id}-{currency}"


def row_name(currency: str) -> str:
    """The WalletBalances row (its `shard`) of a merchant's payouts in `currency`, beside its shards' (digits)."""
    return f"{STREAM_PREFIX}{currency}"


def is_payouts_row(row: Mapping[str, Any]) -> bool:
    return str(row["shard"]).startswith(STREAM_PREFIX)


@dataclass(frozen=True)
class PayoutPaid(DomainEvent):
    """`amount_minor` left the merchant's available balance for its bank (published as PayoutPaid: the ledger
    books it)."""

    event_type: ClassVar[str] = PAYOUT_PAID
    payout_id: str
    merchant_id: str
    currency: str
    amount_minor: int
    created: str  # ISO-8601 instant


@dataclass(frozen=True)
class Payouts:
    """A merchant's payouts in one currency: each by id, and their sum."""

    paid_out: int = 0
    payouts: Mapping[str, PayoutPaid] = field(default_factory=dict)


@dataclass(frozen=True)
class PayOut:
    """Pay out `amount` (None: everything available) to the merchant; `available` is what its shards hold
    available in `currency` (settled credits less debits) before any payout of this stream."""

    payout_id: str
    merchant_id: str
    currency: str
    amount: Money | None
    available: int
    created: str


def decide(command: PayOut, state: Payouts) -> Sequence[DomainEvent]:
    if command.payout_id in state.payouts:
        return []  # asked again with the same key: the first payout stands
    left = command.available - state.paid_out
    amount = left if command.amount is None else command.amount.minor
    if left <= 0 or amount <= 0 or amount > left:
        raise PayoutExceedsAvailable(Money(max(left, 0), command.currency))
    return [PayoutPaid(command.payout_id, command.merchant_id, command.currency, amount, command.created)]


def evolve(state: Payouts, event: DomainEvent) -> Payouts:
    if not isinstance(event, PayoutPaid):
        return state
    return Payouts(state.paid_out + int(event.amount_minor), {**state.payouts, event.payout_id: event})


def snapshot(state: Payouts) -> dict[str, Any]:
    return {"paid_out": state.paid_out, "payouts": {k: v.data for k, v in state.payouts.items()}}


def restore(state: Mapping[str, Any]) -> Payouts:
    payouts = {str(k): PayoutPaid(**v) for k, v in state["payouts"].items()}
    return Payouts(int(state["paid_out"]), payouts)


DECIDER: Decider[Payouts, PayOut] = Decider(
    initial=Payouts(), decide=decide, evolve=evolve, events=EventTypes(PayoutPaid), snapshot=snapshot, restore=restore
)
