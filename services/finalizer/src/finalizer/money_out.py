"""Use cases for money that leaves after a payment: its refunds, its disputes, and the PSP's payouts of its balance.

Each is recorded on its own stream from what the PSP says (a decider per kind), after the payment's success is
found recorded here. FinalizerApp hands these use cases over to this module when one is first asked for: a
finalizer that only charges never loads these deciders.

A refund of a succeeded payment is asked of the PSP once (the refund id is its idempotency key) and its answer
recorded on the refund's own stream (`refund`); a refund that fails later at the card network is recorded
REVERSED from the PSP's own state, which a webhook says has changed (`record_refund_failure`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from finalizer.domain.dispute import DECIDER as DISPUTE_DECIDER
from finalizer.domain.dispute import Dispute, RecordDispute
from finalizer.domain.payment import Payment, PaymentCommand, PaymentStatus
from finalizer.domain.psp_payout import DECIDER as PSP_PAYOUT_DECIDER
from finalizer.domain.psp_payout import PspPayout, RecordPspPayout
from finalizer.domain.psp_views import DisputeStatus, PspPayoutStatus, RefundAnswer, RefundStatus
from finalizer.domain.refund import DECIDER as REFUND_DECIDER
from finalizer.domain.refund import (
    RecordRefundAnswer,
    RecordRefundFailure,
    Refund,
    RefundNotRecorded,
    RequestRefund,
)
from finalizer.domain.streams import REFUND_PREFIX, dispute_stream, payment_stream, psp_payout_stream, refund_stream
from finalizer.ports import Clock, PaymentServiceProvider
from payments_shared.eventstore import EventStore
from payments_shared.eventstore.repository import Cause, Decision, Repository, record_once
from payments_shared.retry import RetryPolicy

Recorded = TypeVar("Recorded", "RefundRecorded", "DisputeRecorded", "PspPayoutRecorded")


class PaymentNotRefundable(Exception):
    """A refund for a payment this finalizer has not recorded as succeeded (or on other terms): never refunded
    blindly; the event goes back to the queue (its payment's outcome may still be on its way), then the DLQ."""


@dataclass(frozen=True)
class RefundRecorded:
    refund_id: str
    status: RefundStatus
    recorded_now: bool  # False when an earlier delivery (or webhook) had already recorded it
    amount_minor: int = 0
    currency: str = ""
    psp_latency_ms: float | None = None


class DisputeNotRecordable(Exception):
    """A dispute of a payment of ours whose success is not recorded here yet (its charge is still recording):
    the webhook is answered 503 so that Stripe retries it."""


@dataclass(frozen=True)
class DisputeRecorded:
    dispute_id: str
    status: DisputeStatus
    recorded_now: bool  # False when an earlier webhook had already recorded what Stripe says now
    amount_minor: int = 0
    fee_minor: int = 0
    currency: str = ""


@dataclass(frozen=True)
class PspPayoutRecorded:
    payout_id: str
    status: PspPayoutStatus
    recorded_now: bool  # False when an earlier webhook had already recorded what Stripe says now
    amount_minor: int = 0
    currency: str = ""


class MoneyOut:
    def __init__(
        self,
        store: EventStore,
        payments: Repository[Payment, PaymentCommand],
        psp: PaymentServiceProvider,
        clock: Clock,
        retry_policy: RetryPolicy,
        search_after: timedelta,
    ) -> None:
        # A refund's stream holds its answer and perhaps its reversal: no snapshot to look for.
        self._refunds = Repository(store, REFUND_DECIDER, retry_policy=retry_policy)
        # A dispute's stream: OPENED, then WON or LOST.
        self._disputes = Repository(store, DISPUTE_DECIDER, retry_policy=retry_policy)
        # A payout of the PSP's balance to our bank: PAID, then perhaps FAILED.
        self._psp_payouts = Repository(store, PSP_PAYOUT_DECIDER, retry_policy=retry_policy)
        self._payments = payments  # the finalizer's record of each payment: what may be refunded or disputed
        self._store = store
        self._psp = psp
        self._clock = clock
        self._search_after = search_after  # as for a charge: a refund this old may have had its PSP key pruned

    def refund(self, command: RequestRefund) -> RefundRecorded:
        """Refund a succeeded payment's PaymentIntent once and record the PSP's answer on the refund's stream.

        A redelivery finds the answer recorded and stops. Two deliveries racing both reach the PSP with the same
        idempotency key (the PSP refunds once) and the stream's version condition lets one record the answer.
        """
        stream = refund_stream(command.refund_id)
        existing = self._refunds.load(stream)
        if existing.state.status is not None:
            return RefundRecorded(str(command.refund_id), existing.state.status, recorded_now=False)
        intent = self._refundable_intent(command)
        started = time.perf_counter()
        answer = self._psp_find_refund_if_key_may_be_pruned(command, intent)
        if answer is None:
            metadata = {"refund_id": str(command.refund_id), "payment_order_id": str(command.payment_order_id)}
            answer = self._psp.refund(command.refund_id, intent, command.amount, command.reason, metadata)
        latency_ms = (time.perf_counter() - started) * 1000
        # The answer starts the stream (one write, no read); a stream that exists holds a racing delivery's.
        recorded = self._refunds.handle(
            stream,
            RecordRefundAnswer(command, answer),
            Cause(command.correlation_id, command.causation_id),
            new_stream=True,
        )
        return self._refund_recorded(recorded, latency_ms)

    def record_refund_failure(self, psp_reference: str, cause: Cause, once: str | None = None) -> RefundRecorded | None:
        """A refund the PSP says has changed (a webhook; its payload may be stale, so the PSP is asked): one of
        ours that failed after it was taken is recorded REVERSED, once. `once` (the webhook event's id) is claimed
        with it, or alone. None for a refund that is not ours, or when `once` was claimed before. Raises
        RefundNotRecorded for one of ours whose answer is not recorded yet (its request is still running)."""
        now = self._psp.retrieve_refund(psp_reference)
        if now.refund_id is None:
            return None
        stream = refund_stream(now.refund_id)
        if now.status == RefundStatus.FAILED:
            command = RecordRefundFailure(psp_reference, now.failure_reason)
            recorded = self._refunds.handle(stream, command, cause, once=[once] if once else ())
            if recorded.duplicate:
                return None
            result = self._refund_recorded(recorded, None)
        else:
            loaded = self._refunds.load(stream)
            if loaded.state.status is None:
                raise RefundNotRecorded(f"{now.refund_id}: its answer is not recorded yet")
            result = RefundRecorded(now.refund_id, loaded.state.status, recorded_now=False)
        return self._unless_claimed_before(result, once)

    def record_dispute(self, dispute_id: str, cause: Cause, once: str | None = None) -> DisputeRecorded | None:
        """A dispute Stripe says has changed (a webhook; its payload may be stale, so the PSP is asked): recorded on
        its stream `dispute-<dp id>` as OPENED once, then WON or LOST once. `once` (the webhook event's id) is
        claimed with it, or alone. None for a dispute that is not of a payment of ours (or an inquiry), or when
        `once` was claimed before. Raises DisputeNotRecordable while the payment's success is not recorded."""
        view = self._psp.retrieve_dispute(dispute_id)
        if view is None or view.payment_order_id is None:
            return None
        outcome = self._payments.load(payment_stream(view.payment_order_id)).state.outcome
        if outcome is None or outcome.status != PaymentStatus.SUCCESS:
            raise DisputeNotRecordable(f"{dispute_id}: payment {view.payment_order_id} has not succeeded here yet")
        if outcome.psp_reference != view.payment_intent or outcome.currency != view.currency:
            return None  # another intent made with our order id (or in another currency): not the charge we took
        command = RecordDispute(view, view.payment_order_id, outcome.merchant_id)
        recorded = self._disputes.handle(dispute_stream(dispute_id), command, cause, once=[once] if once else ())
        if recorded.duplicate:
            return None
        state: Dispute = recorded.state
        if state.status is None or state.opened is None:  # decide() opens every dispute it sees
            raise RuntimeError(f"{recorded.stream_id}: nothing recorded, yet no dispute is stored")
        opened = state.opened
        result = DisputeRecorded(
            dispute_id, state.status, recorded.changed, opened.amount_minor, opened.fee_minor, opened.currency
        )
        return self._unless_claimed_before(result, once)

    def record_psp_payout(self, payout_id: str, cause: Cause, once: str | None = None) -> PspPayoutRecorded | None:
        """A payout of the PSP's balance to our bank Stripe says has changed (a webhook; its payload may be stale,
        so the PSP is asked): recorded on its stream `psp-payout-<po id>` as PAID once, then perhaps FAILED once.
        `once` (the webhook event's id) is claimed with it, or alone. None while the payout is on its way or
        canceled (nothing left the balance for good yet), or when `once` was claimed before."""
        view = self._psp.retrieve_payout(payout_id)
        if view is None:
            return None
        recorded = self._psp_payouts.handle(
            psp_payout_stream(payout_id), RecordPspPayout(view), cause, once=[once] if once else ()
        )
        if recorded.duplicate:
            return None
        state: PspPayout = recorded.state
        if state.status is None or state.paid is None:  # decide() records every payout it sees paid or failed
            raise RuntimeError(f"{recorded.stream_id}: nothing recorded, yet no payout is stored")
        paid = state.paid
        result = PspPayoutRecorded(payout_id, state.status, recorded.changed, paid.amount_minor, paid.currency)
        return self._unless_claimed_before(result, once)

    def _unless_claimed_before(self, result: Recorded, once: str | None) -> Recorded | None:
        """A webhook's result, or None when its event id (`once`) was claimed before. Nothing recorded now claims it
        alone: what was recorded claimed it in the same transaction."""
        if once is not None and not result.recorded_now and not record_once(self._store, [], once):
            return None
        return result

    def _refundable_intent(self, command: RequestRefund) -> str:
        """The PaymentIntent that charged the payment, as this finalizer recorded its success."""
        outcome = self._payments.load(payment_stream(command.payment_order_id)).state.outcome
        if outcome is None or outcome.status != PaymentStatus.SUCCESS or outcome.psp_reference is None:
            raise PaymentNotRefundable(
                f"{command.refund_id}: payment {command.payment_order_id} has not succeeded here"
            )
        if outcome.merchant_id != command.merchant_id or outcome.currency != command.amount.currency:
            raise PaymentNotRefundable(f"{command.refund_id}: not the merchant or currency payment was made in")
        return outcome.psp_reference

    def _psp_find_refund_if_key_may_be_pruned(self, command: RequestRefund, intent: str) -> RefundAnswer | None:
        """As for a charge: a refund requested before the PSP's key retention may have been made by a delivery
        whose key the PSP has since forgotten; it is looked up among the intent's refunds instead."""
        if command.requested_at is None or self._clock() - command.requested_at < self._search_after:
            return None
        return self._psp.find_refund(intent, command.refund_id)

    def _refund_recorded(self, recorded: Decision[Refund], latency_ms: float | None) -> RefundRecorded:
        refund_id = recorded.stream_id.removeprefix(REFUND_PREFIX)
        state = recorded.state
        if state.status is None or state.answer is None:  # decide() records every first answer
            raise RuntimeError(f"{recorded.stream_id}: nothing recorded, yet no answer is stored")
        if not recorded.changed:
            return RefundRecorded(refund_id, state.status, recorded_now=False)
        answer = state.answer
        return RefundRecorded(refund_id, state.status, True, int(answer.amount_minor), answer.currency, latency_ms)
