"""A wallet shard as a decider: a merchant's balances per currency on one shard, changed only by its events.

The wallet holds what we owe each merchant, as the ledger's merchant_payable does: a capture credits its net
(the amount less our fee, the kernel's fee rule: payments_shared.fees), pending until it settles
(wallet.domain.settlement), a refund debits the refunded amount (the merchant bears it; our fee is not returned),
a refund reversed later credits it back, a dispute debits its amount and the PSP's dispute fee (the merchant
bears both), a dispute won credits the amount back (not the fee).

A shard's balance, and the merchant's (the sum of its shards), may be negative: a shard takes whichever debit
lands on it, and a merchant may refund more than it holds now (refunds of earlier captures already paid out).
A negative balance means the merchant owes us that much; later captures net it off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from payments_shared.decider import Decider
from payments_shared.domain_events import DomainEvent, EventTypes
from payments_shared.fees import FeeSchedule
from payments_shared.money import Money
from wallet.domain.errors import CreditNotPositive
from wallet.domain.settlement import unsettled

WALLET_CREDITED = "WalletCredited"
WALLET_DEBITED = "WalletDebited"
WALLET_REFUND_REVERSED = "WalletRefundReversed"
WALLET_DISPUTE_DEBITED = "WalletDisputeDebited"
WALLET_DISPUTE_WON = "WalletDisputeWon"


@dataclass(frozen=True)
class WalletCredited(DomainEvent):
    """A capture: the merchant is owed `amount_minor` more, the payment's net of our fee (its gross, before the
    wallet netted fees: such events keep loading as they were written)."""

    event_type: ClassVar[str] = WALLET_CREDITED
    merchant_id: str
    currency: str
    amount_minor: int
    payment_order_id: str
    source_event_id: str
    # When it was credited and the settlement bucket it becomes available in (wallet.domain.settlement); None
    # in credits written before settlement was tracked: settled (available) at once.
    credited_at: str | None = None
    settles_at: str | None = None


@dataclass(frozen=True)
class WalletDebited(DomainEvent):
    """A refund the PSP took: the merchant is owed `amount_minor` less."""

    event_type: ClassVar[str] = WALLET_DEBITED
    merchant_id: str
    currency: str
    amount_minor: int
    payment_order_id: str
    refund_id: str
    source_event_id: str


@dataclass(frozen=True)
class WalletRefundReversed(DomainEvent):
    """A refund that failed after it was taken: its debit given back."""

    event_type: ClassVar[str] = WALLET_REFUND_REVERSED
    merchant_id: str
    currency: str
    amount_minor: int
    payment_order_id: str
    refund_id: str
    source_event_id: str


@dataclass(frozen=True)
class WalletDisputeDebited(DomainEvent):
    """A dispute opened: the merchant is owed `amount_minor` less (the disputed amount and the PSP's dispute fee,
    `fee_minor` of it)."""

    event_type: ClassVar[str] = WALLET_DISPUTE_DEBITED
    merchant_id: str
    currency: str
    amount_minor: int
    fee_minor: int
    payment_order_id: str
    dispute_id: str
    source_event_id: str


@dataclass(frozen=True)
class WalletDisputeWon(DomainEvent):
    """A dispute won: the disputed amount given back (`amount_minor`; the dispute fee is not)."""

    event_type: ClassVar[str] = WALLET_DISPUTE_WON
    merchant_id: str
    currency: str
    amount_minor: int
    payment_order_id: str
    dispute_id: str
    source_event_id: str


EVENTS = EventTypes(WalletCredited, WalletDebited, WalletRefundReversed, WalletDisputeDebited, WalletDisputeWon)


@dataclass(frozen=True)
class WalletShard:
    """One shard of a merchant's wallet (the shard's stream says whose and which)."""

    merchant_id: str = ""  # from the shard's events; "" before the first
    balances: Mapping[str, int] = field(default_factory=dict)  # currency -> minor units, possibly negative
    # currency -> {settlement bucket -> minor units}: credits not yet settled when last credited (those settled
    # by then are dropped; a reader drops the ones settled by its own now: settlement.figures)
    pending: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def balance(self, currency: str) -> Money:
        return Money(self.balances.get(currency, 0), currency)


@dataclass(frozen=True)
class CreditWallet:
    """Credit a merchant for a successful payment of `amount` (gross: the shard nets the fee), told by the event
    `source_event_id`."""

    merchant_id: str
    amount: Money
    payment_order_id: str
    source_event_id: str
    credited_at: str | None = None  # settlement.instant of the credit's time
    settles_at: str | None = None  # settlement.settles_at: its bucket


@dataclass(frozen=True)
class Refund:
    """Move a refund of `amount` on the merchant's wallet: debit it when the PSP took it (`reversed` False),
    credit it back when it failed later (`reversed` True)."""

    merchant_id: str
    amount: Money
    payment_order_id: str
    refund_id: str
    reversed: bool
    source_event_id: str


@dataclass(frozen=True)
class Dispute:
    """Move a dispute on the merchant's wallet: debit the amount and the PSP's `fee` when it opened (`won` False),
    credit the amount back when it was won (`won` True)."""

    merchant_id: str
    amount: Money
    fee: Money
    payment_order_id: str
    dispute_id: str
    won: bool
    source_event_id: str


WalletCommand = CreditWallet | Refund | Dispute


def decide(command: WalletCommand, state: WalletShard, fees: FeeSchedule) -> Sequence[DomainEvent]:
    """Any shard takes any move; that it is taken once is the use case's claim (the shard can't tell)."""
    if not command.amount.is_positive():
        raise CreditNotPositive(command.amount)
    money = command.amount
    if isinstance(command, CreditWallet):
        net = fees.net(money)  # zero when the fee takes it all: recorded still, the capture credited once
        return [
            WalletCredited(
                command.merchant_id,
                net.currency,
                net.minor,
                command.payment_order_id,
                command.source_event_id,
                command.credited_at,
                command.settles_at,
            )
        ]
    if isinstance(command, Dispute):
        return [_disputed(command)]
    kind = WalletRefundReversed if command.reversed else WalletDebited
    return [
        kind(
            command.merchant_id,
            money.currency,
            money.minor,
            command.payment_order_id,
            command.refund_id,
            command.source_event_id,
        )
    ]


def _disputed(command: Dispute) -> DomainEvent:
    money, fee = command.amount, command.fee
    if command.won:
        return WalletDisputeWon(
            command.merchant_id,
            money.currency,
            money.minor,
            command.payment_order_id,
            command.dispute_id,
            command.source_event_id,
        )
    withdrawn = money + fee
    return WalletDisputeDebited(
        command.merchant_id,
        withdrawn.currency,
        withdrawn.minor,
        fee.minor,
        command.payment_order_id,
        command.dispute_id,
        command.source_event_id,
    )


def evolve(state: WalletShard, event: DomainEvent) -> WalletShard:
    if isinstance(event, WalletCredited | WalletRefundReversed | WalletDisputeWon):
        change = int(event.amount_minor)
    elif isinstance(event, WalletDebited | WalletDisputeDebited):
        change = -int(event.amount_minor)
    else:
        return state
    balances = {**state.balances, event.currency: state.balances.get(event.currency, 0) + change}
    pending = state.pending
    if isinstance(event, WalletCredited) and event.settles_at is not None and event.amount_minor:
        # Buckets settled by this credit's time go (their money is available: the balance holds it).
        now = event.credited_at or ""
        pending = {currency: unsettled(buckets, now) for currency, buckets in state.pending.items()}
        buckets = pending.get(event.currency, {})
        pending[event.currency] = {**buckets, event.settles_at: buckets.get(event.settles_at, 0) + change}
        pending = {currency: buckets for currency, buckets in pending.items() if buckets}
    return WalletShard(event.merchant_id, balances, pending)


# Snapshots: every move writes its shard's, so a shard loads in constant work however long it grows. This
# layout is stored: keep it (or add an upcaster) so existing snapshots still load.
def snapshot(state: WalletShard) -> dict[str, Any]:
    layout: dict[str, Any] = {"merchant_id": state.merchant_id, "balances": dict(state.balances)}
    if state.pending:  # added with settlement: absent, as in older snapshots, when nothing is pending
        layout["pending"] = {currency: dict(buckets) for currency, buckets in state.pending.items()}
    return layout


def restore(state: Mapping[str, Any]) -> WalletShard:
    """Snapshots from before settlement was tracked have no pending: their credits are settled."""
    pending = {
        str(currency): {str(when): int(minor) for when, minor in buckets.items()}
        for currency, buckets in (state.get("pending") or {}).items()
    }
    return WalletShard(str(state["merchant_id"]), {str(k): int(v) for k, v in state["balances"].items()}, pending)


def wallet_decider(fees: FeeSchedule) -> Decider[WalletShard, WalletCommand]:
    """The shard's decider under the fee schedule (the ledger's: payments_shared.fees)."""

    def decide_under_fees(command: WalletCommand, state: WalletShard) -> Sequence[DomainEvent]:
        return decide(command, state, fees)

    return Decider(
        initial=WalletShard(),
        decide=decide_under_fees,
        evolve=evolve,
        events=EVENTS,
        snapshot=snapshot,
        restore=restore,
    )


# Folding needs no fees (they decide, they don't evolve): readers of stored shards (payments-ops rebuild) use this.
DECIDER = wallet_decider(FeeSchedule())
