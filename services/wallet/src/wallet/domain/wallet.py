"""A merchant's wallet: balances per currency, changed only by its own events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from payments_shared.domain_events import DomainEvent, EventTypes
from payments_shared.money import Money

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
class Wallet:
    merchant_id: str
    balances: Mapping[str, int] = field(default_factory=dict)  # currency -> minor units
    version: int = 0
    # Events a command decided and applied, not yet stored: the use case appends them. Not state.
    pending: tuple[DomainEvent, ...] = field(default=(), compare=False, repr=False)

    def credit(self, amount: Money, payment_order_id: str, source_event_id: str) -> Wallet:
        """The wallet with a credit decided: its event applied and pending (state changes only by apply)."""
        if not amount.is_positive():
            raise ValueError(f"a credit must be positive, got {amount}")
        event = WalletCredited(self.merchant_id, amount.currency, amount.minor, payment_order_id, source_event_id)
        return replace(self.apply(event, self.version + 1), pending=(*self.pending, event))

    def apply(self, event: DomainEvent, version: int) -> Wallet:
        if not isinstance(event, WalletCredited):
            return Wallet(self.merchant_id, self.balances, version)
        balances = {**self.balances, event.currency: self.balances.get(event.currency, 0) + int(event.amount_minor)}
        return Wallet(self.merchant_id, balances, version)

    def balance(self, currency: str) -> Money:
        return Money(self.balances.get(currency, 0), currency)

    # -- snapshots: the folded state at a version, so a long stream loads in constant work
    def snapshot_state(self) -> dict[str, Any]:
        return {"merchant_id": self.merchant_id, "balances": dict(self.balances)}

    @classmethod
    def rebuild(
        cls,
        merchant_id: str,
        snapshot: tuple[int, Mapping[str, Any]] | None,
        events: Sequence[tuple[int, str, Mapping[str, Any]]],
    ) -> Wallet:
        wallet = cls(merchant_id)
        if snapshot is not None:
            version, state = snapshot
            wallet = cls(merchant_id, {k: int(v) for k, v in state["balances"].items()}, version)
        for version, event_type, data in events:
            wallet = wallet.apply(EVENTS.decode(event_type, data), version)
        return wallet
