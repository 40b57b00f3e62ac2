"""A payout of the PSP's balance to our bank, on its own stream `psp-payout-<Stripe's po_ id>` (a decider).

Stripe pays its balance out to the platform's bank (its automatic daily payouts, or an operator's
`payments-ops psp-payout`) and says how it went by webhook: payout.paid, payout.failed. They arrive late, twice
and out of order; the use case re-reads the Payout and the decider rules on what Stripe says now:
- PAID once: the money left the PSP's balance for our bank;
- FAILED once, after PAID ("Some payouts that fail might initially show as paid, then change to failed": the
  Payout object's `status`): the bank returned it and Stripe put it back on the balance (a payout_failure balance
  transaction). A payout first seen failed records PAID and FAILED together: its payout balance transaction took
  the money when it was made, its failure gave it back, and both show among the balance transactions.
A payout still `pending` or `in_transit` records nothing yet; one `canceled` never left the balance (Stripe
cancels only before it is sent), so it books nothing either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from finalizer.domain.event_types import PSP_PAYOUT_FAILED, PSP_PAYOUT_PAID
from finalizer.domain.psp_views import PspPayoutStatus, PspPayoutView
from payments_shared.decider import Decider
from payments_shared.domain_events import DomainEvent, EventTypes

# Events


@dataclass(frozen=True)
class PspPayoutChanged(DomainEvent):
    """A payout's new status; its data is the PspPayoutUpdated integration contract's."""

    payout_id: str
    currency: str
    amount_minor: int
    status: str
    failure_code: str | None


@dataclass(frozen=True)
class PspPayoutPaid(PspPayoutChanged):
    event_type: ClassVar[str] = PSP_PAYOUT_PAID


@dataclass(frozen=True)
class PspPayoutFailed(PspPayoutChanged):
    event_type: ClassVar[str] = PSP_PAYOUT_FAILED


EVENTS = EventTypes(PspPayoutPaid, PspPayoutFailed)


# Command


@dataclass(frozen=True)
class RecordPspPayout:
    view: PspPayoutView


# State


@dataclass(frozen=True)
class PspPayout:
    paid: PspPayoutPaid | None = None
    failed: PspPayoutFailed | None = None

    @property
    def status(self) -> PspPayoutStatus | None:
        if self.failed is not None:
            return PspPayoutStatus.FAILED
        return PspPayoutStatus.PAID if self.paid is not None else None


def decide(command: RecordPspPayout, state: PspPayout) -> Sequence[DomainEvent]:
    view = command.view
    if view.amount_minor <= 0:
        raise ValueError(f"{view.payout_id}: a payout of {view.amount_minor}")
    if state.paid is not None and state.paid.payout_id != view.payout_id:
        raise ValueError(f"{state.paid.payout_id}: not {view.payout_id}")
    paid = state.paid
    events: list[DomainEvent] = []
    if paid is None:
        paid = PspPayoutPaid(
            payout_id=view.payout_id,
            currency=view.currency,
            amount_minor=view.amount_minor,
            status=PspPayoutStatus.PAID.value,
            failure_code=None,
        )
        events.append(paid)
    if state.failed is None and view.status == PspPayoutStatus.FAILED:
        # The failure gives back what was paid out, as recorded when paid.
        events.append(PspPayoutFailed(**{**paid.data, "status": view.status.value, "failure_code": view.failure_code}))
    return events


def evolve(state: PspPayout, event: DomainEvent) -> PspPayout:
    if isinstance(event, PspPayoutPaid):
        return PspPayout(event, state.failed)
    if isinstance(event, PspPayoutFailed):
        return PspPayout(state.paid, event)
    return state


DECIDER: Decider[PspPayout, RecordPspPayout] = Decider(PspPayout(), decide, evolve, EVENTS)
