"""A wallet shard as a decider: a merchant's balances per currency on one shard, changed only by its events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from payments_shared.decider import Decider
from payments_shared.domain_events import DomainEvent, EventTypes
from payments_shared.money import Money
from wallet.domain.errors import CreditNotPositive

WALLET_CREDITED = "WalletCredited"


@dataclass(frozen=True)
class WalletCredited(DomainEvent):
    event_type: ClassVar[str] = WALLET_CREDITED
    merchant_id: str
    currency: str
    amount_minor: int
    payment_order_id: str
    source_event_id: str


EVENTS = EventTypes(WalletCredited)


@dataclass(frozen=True)
class WalletShard:
    """One shard of a merchant's wallet (the shard's stream says whose and which)."""

    merchant_id: str = ""  # from the shard's events; "" before the first
    balances: Mapping[str, int] = field(default_factory=dict)  # currency -> minor units

    def balance(self, currency: str) -> Money:
        return Money(self.balances.get(currency, 0), currency)


@dataclass(frozen=True)
class CreditWallet:
    """Credit a merchant for a successful payment, told by the event `source_event_id`."""

    merchant_id: str
    amount: Money
    payment_order_id: str
    source_event_id: str


def decide(command: CreditWallet, state: WalletShard) -> Sequence[DomainEvent]:
    """Any shard takes any credit; that it is taken once is the use case's claim (the shard can't tell)."""
    if not command.amount.is_positive():
        raise CreditNotPositive(command.amount)
    return [
        WalletCredited(
            command.merchant_id,
            command.amount.currency,
            command.amount.minor,
            command.payment_order_id,
            command.source_event_id,
        )
    ]


def evolve(state: WalletShard, event: DomainEvent) -> WalletShard:
    if not isinstance(event, WalletCredited):
        return state
    balances = {**state.balances, event.currency: state.balances.get(event.currency, 0) + int(event.amount_minor)}
    return WalletShard(event.merchant_id, balances)


# Snapshots: every credit writes its shard's, so a shard loads in constant work however long it grows. This
# layout is stored: keep it (or add an upcaster) so existing snapshots still load.
def snapshot(state: WalletShard) -> dict[str, Any]:
    return {"merchant_id": state.merchant_id, "balances": dict(state.balances)}


def restore(state: Mapping[str, Any]) -> WalletShard:
    return WalletShard(str(state["merchant_id"]), {str(k): int(v) for k, v in state["balances"].items()})


DECIDER: Decider[WalletShard, CreditWallet] = Decider(
    initial=WalletShard(),
    decide=decide,
    evolve=evolve,
    events=EVENTS,
    snapshot=snapshot,
    restore=restore,
)
