"""A refund as the finalizer sees it, on its own stream: the PSP's answer to it, then perhaps its reversal (a decider).

Asking the PSP is I/O, so the use case does it; the decider rules on the answers. The first answer recorded
stands: SUCCEEDED (the PSP took it: the money has left the merchant's balance) or FAILED (refused, nothing
moved); a redelivery changes nothing. A SUCCEEDED refund may later fail at the card network (a webhook): it is
then REVERSED, once. A FAILED refund never becomes anything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from finalizer.domain.event_types import REFUND_FAILED, REFUND_REVERSED, REFUND_SUCCEEDED
from finalizer.domain.psp_views import RefundAnswer, RefundStatus
from payments_shared.decider import Decider
from payments_shared.domain_events import DomainEvent, EventTypes
from payments_shared.ids import MerchantId, PaymentOrderId, RefundId
from payments_shared.money import Money

# Events


@dataclass(frozen=True)
class RefundStatusChanged(DomainEvent):
    """A refund's new status; its data is the RefundStatusUpdated integration contract's."""

    refund_id: str
    payment_order_id: str
    merchant_id: str
    amount: str
    amount_minor: int
    currency: str
    status: str
    psp_reference: str | None
    failure_reason: str | None


@dataclass(frozen=True)
class RefundSucceeded(RefundStatusChanged):
    event_type: ClassVar[str] = REFUND_SUCCEEDED


@dataclass(frozen=True)
class RefundFailed(RefundStatusChanged):
    event_type: ClassVar[str] = REFUND_FAILED


@dataclass(frozen=True)
class RefundReversed(RefundStatusChanged):
    event_type: ClassVar[str] = REFUND_REVERSED


EVENTS = EventTypes(RefundSucceeded, RefundFailed, RefundReversed)


# Commands


@dataclass(frozen=True)
class RequestRefund:
    """Refund (part of) a succeeded payment once (what a RefundRequested event asks of the finalizer)."""

    refund_id: RefundId  # also the PSP's idempotency key
    payment_order_id: PaymentOrderId
    merchant_id: MerchantId
    amount: Money
    reason: str | None
    correlation_id: str
    causation_id: str | None = None  # the RefundRequested event's id
    requested_at: datetime | None = None  # when it was requested: how old its PSP key may be


@dataclass(frozen=True)
class RecordRefundAnswer:
    """Record the PSP's answer to a refund request."""

    request: RequestRefund
    answer: RefundAnswer


@dataclass(frozen=True)
class RecordRefundFailure:
    """Record that the PSP's refund `psp_reference` failed after it was taken (a webhook re-read it)."""

    psp_reference: str
    failure_reason: str | None


# State


@dataclass(frozen=True)
class Refund:
    """None until the PSP's answer is recorded; then that answer, and its reversal once there is one."""

    answer: RefundStatusChanged | None = None
    reversal: RefundReversed | None = None

    @property
    def status(self) -> RefundStatus | None:
        if self.reversal is not None:
            return RefundStatus.REVERSED
        return RefundStatus(self.answer.status) if self.answer is not None else None


RefundCommand = RecordRefundAnswer | RecordRefundFailure


class RefundNotRecorded(ValueError):
    """A later failure for a refund whose first answer is not recorded yet (its request is still running)."""


def decide(command: RefundCommand, state: Refund) -> Sequence[DomainEvent]:
    if isinstance(command, RecordRefundAnswer):
        if state.answer is not None:
            return []  # answered by an earlier delivery: the first answer recorded stands
        return [_answered(command.request, command.answer)]
    answer = state.answer
    if answer is None:
        raise RefundNotRecorded(f"{command.psp_reference}: no answer recorded for this refund yet")
    if answer.status != RefundStatus.SUCCEEDED or state.reversal is not None:
        return []  # a FAILED refund moved nothing; a reversal is recorded once
    if answer.psp_reference != command.psp_reference:
        raise ValueError(f"{answer.refund_id}: a failure of {command.psp_reference}, not of {answer.psp_reference}")
    fields = {**answer.data, "status": RefundStatus.REVERSED.value, "failure_reason": command.failure_reason}
    return [RefundReversed(**fields)]


def _answered(request: RequestRefund, answer: RefundAnswer) -> RefundStatusChanged:
    succeeded = answer.status == RefundStatus.SUCCEEDED
    if not succeeded and answer.status != RefundStatus.FAILED:
        raise ValueError(f"{request.refund_id}: the PSP's first answer is SUCCEEDED or FAILED, not {answer.status}")
    answered = RefundSucceeded if succeeded else RefundFailed
    return answered(
        refund_id=str(request.refund_id),
        payment_order_id=str(request.payment_order_id),
        merchant_id=str(request.merchant_id),
        amount=request.amount.to_decimal_string(),
        amount_minor=request.amount.minor,
        currency=request.amount.currency,
        status=answer.status.value,
        psp_reference=answer.psp_reference,
        failure_reason=None if succeeded else (answer.failure_reason or "refused"),
    )


def evolve(state: Refund, event: DomainEvent) -> Refund:
    if isinstance(event, RefundReversed):
        return Refund(state.answer, event)
    if isinstance(event, RefundStatusChanged):
        return Refund(event, state.reversal)
    return state


DECIDER: Decider[Refund, RefundCommand] = Decider(Refund(), decide, evolve, EVENTS)
