"""A dispute (chargeback) of one of our payments, on its own stream `dispute-<Stripe's dp_ id>` (a decider).

Stripe tells us of a dispute with webhooks (charge.dispute.created, charge.dispute.closed), which arrive late,
twice and out of order; the use case re-reads the Dispute and the decider rules on what Stripe says now:
- OPENED once: the PSP took the disputed amount and its dispute fee from our balance (the merchant bears both);
- then WON or LOST once, when Stripe says the dispute is closed. A dispute first seen closed (its
  created webhook later, or lost) records OPENED and its close together: the money was withdrawn either way.
A closed dispute never changes again (Stripe's won and lost are final).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from finalizer.domain.event_types import DISPUTE_LOST, DISPUTE_OPENED, DISPUTE_WON
from finalizer.domain.psp_views import DisputeStatus, DisputeView
from payments_shared.decider import Decider
from payments_shared.domain_events import DomainEvent, EventTypes

# Events


@dataclass(frozen=True)
class DisputeStatusChanged(DomainEvent):
    """A dispute's new status; its data is the DisputeStatusUpdated integration contract's."""

    dispute_id: str
    payment_order_id: str
    merchant_id: str
    currency: str
    amount_minor: int
    fee_minor: int
    status: str
    reason: str | None


@dataclass(frozen=True)
class DisputeOpened(DisputeStatusChanged):
    event_type: ClassVar[str] = DISPUTE_OPENED


@dataclass(frozen=True)
class DisputeWon(DisputeStatusChanged):
    event_type: ClassVar[str] = DISPUTE_WON


@dataclass(frozen=True)
class DisputeLost(DisputeStatusChanged):
    event_type: ClassVar[str] = DISPUTE_LOST


EVENTS = EventTypes(DisputeOpened, DisputeWon, DisputeLost)


# Command


@dataclass(frozen=True)
class RecordDispute:
    """Record what the PSP says of a dispute of payment `payment_order_id` (made for `merchant_id`)."""

    view: DisputeView
    payment_order_id: str
    merchant_id: str


# State


@dataclass(frozen=True)
class Dispute:
    opened: DisputeOpened | None = None
    closed: DisputeStatusChanged | None = None  # DisputeWon or DisputeLost

    @property
    def status(self) -> DisputeStatus | None:
        if self.closed is not None:
            return DisputeStatus(self.closed.status)
        return DisputeStatus.OPENED if self.opened is not None else None


def decide(command: RecordDispute, state: Dispute) -> Sequence[DomainEvent]:
    view = command.view
    if view.amount_minor <= 0 or view.fee_minor < 0:
        raise ValueError(f"{view.dispute_id}: a dispute of {view.amount_minor} with a fee of {view.fee_minor}")
    if state.opened is not None and state.opened.dispute_id != view.dispute_id:
        raise ValueError(f"{state.opened.dispute_id}: not {view.dispute_id}")
    opened = state.opened
    events: list[DomainEvent] = []
    if opened is None:
        opened = DisputeOpened(
            dispute_id=view.dispute_id,
            payment_order_id=command.payment_order_id,
            merchant_id=command.merchant_id,
            currency=view.currency,
            amount_minor=view.amount_minor,
            fee_minor=view.fee_minor,
            status=DisputeStatus.OPENED.value,
            reason=view.reason,
        )
        events.append(opened)
    if state.closed is None and view.status != DisputeStatus.OPENED:
        # The close carries the amounts recorded at OPENED: what was withdrawn is what a win gives back.
        closed = DisputeWon if view.status == DisputeStatus.WON else DisputeLost
        events.append(closed(**{**opened.data, "status": view.status.value}))
    return events


def evolve(state: Dispute, event: DomainEvent) -> Dispute:
    if isinstance(event, DisputeOpened):
        return Dispute(event, state.closed)
    if isinstance(event, DisputeWon | DisputeLost):
        return Dispute(state.opened, event)
    return state


DECIDER: Decider[Dispute, RecordDispute] = Decider(Dispute(), decide, evolve, EVENTS)
