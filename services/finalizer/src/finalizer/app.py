"""Use case: finalize an initiated payment — charge it once, record SUCCESS or FAILED, publish via the outbox.

A payment whose card asks for 3-D Secure is recorded REQUIRES_ACTION and settled later from the PaymentIntent's
own state: a Stripe webhook (`settle`), a redelivery of its PaymentInitiated (`charge`), or the sweep, which
cancels it once the buyer is past the deadline (`sweep`). So every payment reaches SUCCESS or FAILED within
the deadline plus the sweep's period, whatever the buyer or the PSP does.

A refund of a succeeded payment is asked of the PSP once (the refund id is its idempotency key) and its answer
recorded on the refund's own stream (`refund`); a refund that fails later at the card network is recorded
REVERSED from the PSP's own state, which a webhook says has changed (`record_refund_failure`).

A manual-capture payment is recorded AUTHORIZED (the PSP holds its amount); the merchant's capture (`capture`)
makes it SUCCESS with the amount captured, its cancel (`cancel_authorization`) CANCELED. An authorization still
held past the capture window is cancelled by `sweep_authorizations` (reason abandoned); one Stripe expired on its
own is recorded CANCELED from the PaymentIntent's state (its webhook, or that sweep's answer).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from finalizer.domain.dispute import DECIDER as DISPUTE_DECIDER
from finalizer.domain.dispute import Dispute, DisputeStatus, RecordDispute
from finalizer.domain.payment import (
    DECIDER,
    FINAL_STATUSES,
    CancelAuthorization,
    CapturePayment,
    ChargePayment,
    ChargeResult,
    Payment,
    PaymentActionRequired,
    PaymentAuthorized,
    PaymentCommand,
    PaymentDecided,
    PaymentSource,
    PaymentStatus,
    PaymentToken,
    RecordCharge,
    RecordSettlement,
)
from finalizer.domain.psp_payout import DECIDER as PSP_PAYOUT_DECIDER
from finalizer.domain.psp_payout import PspPayout, PspPayoutStatus, RecordPspPayout
from finalizer.domain.refund import DECIDER as REFUND_DECIDER
from finalizer.domain.refund import (
    RecordRefundAnswer,
    RecordRefundFailure,
    Refund,
    RefundAnswer,
    RefundNotRecorded,
    RefundStatus,
    RequestRefund,
)
from finalizer.domain.streams import (
    PAYMENT_PREFIX,
    REFUND_PREFIX,
    dispute_stream,
    payment_stream,
    psp_payout_stream,
    refund_stream,
)
from finalizer.ports import (
    CardOpener,
    Clock,
    PaymentResults,
    PaymentServiceProvider,
    PspOutcomeUnknown,
    PspRequestRefused,
)
from payments_shared.eventstore import EventStore, ViewChange
from payments_shared.eventstore.port import ConcurrencyConflict, DuplicateRecord, StoreUnavailable
from payments_shared.eventstore.repository import Cause, Decision, Repository, record_once
from payments_shared.money import Money
from payments_shared.retry import DEFAULT_RETRY, RetryPolicy

# Stripe prunes idempotency keys once they are 24 hours old.
PSP_KEY_RETENTION = timedelta(hours=24)
SEARCH_AFTER = PSP_KEY_RETENTION - timedelta(hours=1)
ABANDONED = "abandoned"  # Stripe's cancellation_reason for an authorization no one captured in time
SWEEP_BATCH = 100  # payments settled per sweep run at most: the next run takes the rest
# A PaymentInitiated younger than this is charged before its stream is read: within the queue's visibility timeout
# (180 s, contracts/consumers.json) no failed attempt can have been retried yet, so it is the first delivery (or a
# rare duplicate publish, which the PSP's idempotency key and the stream's condition make harmless: Stripe "saves the
# resulting status code and body of the first request made for any given idempotency key ... Subsequent requests
# with the same key return the same result", docs.stripe.com/idempotency). An older one (a retry, a DLQ redrive, a
# replay) likely finds its decision recorded: its stream is read first, and the PSP is not asked at all.
CHARGE_BEFORE_READING_WITHIN = timedelta(minutes=2)


class SweepIncomplete(Exception):
    """Some abandoned authentications could not be settled in this run (they stay for the next one)."""

    def __init__(self, settled: list[Finalized], left: list[str]) -> None:
        super().__init__(f"{len(left)} left for the next run: {', '.join(left[:5])}")
        self.settled, self.left = settled, left


class PaymentNotCapturable(Exception):
    """A capture or cancel for a payment this finalizer has not recorded as authorized (or on other terms): the
    event goes back to the queue (its authorization may still be on its way), then the DLQ."""


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


@dataclass(frozen=True)
class Finalized:
    payment_order_id: str
    status: PaymentStatus
    charged_now: bool  # False when an earlier delivery had already decided
    psp_latency_ms: float | None = None
    amount_minor: int = 0
    currency: str = ""


class FinalizerApp:
    def __init__(
        self,
        store: EventStore,
        cards: CardOpener,
        psp: PaymentServiceProvider,
        clock: Clock,
        results: PaymentResults,
        retry_policy: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        # Payment streams are short-lived (one event, two with 3-D Secure): no snapshot to look for.
        self._payments = Repository(store, DECIDER, retry_policy=retry_policy)
        # A refund's stream holds its answer and perhaps its reversal: no snapshot either.
        self._refunds = Repository(store, REFUND_DECIDER, retry_policy=retry_policy)
        # A dispute's stream: OPENED, then WON or LOST.
        self._disputes = Repository(store, DISPUTE_DECIDER, retry_policy=retry_policy)
        # A payout of the PSP's balance to our bank: PAID, then perhaps FAILED.
        self._psp_payouts = Repository(store, PSP_PAYOUT_DECIDER, retry_policy=retry_policy)
        self._store = store
        self._cards = cards
        self._psp = psp
        self._clock = clock
        self._results = results

    def charge(self, command: ChargePayment) -> Finalized:
        """Charge an initiated payment exactly once.

        A first delivery charges and writes the outcome as its stream's first event, without a read: one write.
        Late deliveries (retries, redrives, replays) read the payment's stream first and stop at a decision
        recorded (one that finds it awaiting authentication asks the PSP how that went); a young duplicate finds
        it when its write is refused, after the PSP answered its key with the first answer (no second charge).
        Two deliveries racing both reach the PSP with the same idempotency key (the PSP charges once) and the
        stream's version condition lets only one record the result.
        """
        stream = payment_stream(command.payment_order_id)
        cause = Cause(command.correlation_id, command.causation_id)
        if not self._first_delivery(command):
            existing = self._payments.load(stream)
            if existing.state.status == PaymentStatus.REQUIRES_ACTION:
                return self._settle(existing, cause, self._psp.retrieve)
            if existing.state.status is not None:
                return Finalized(str(command.payment_order_id), existing.state.status, charged_now=False)

        started = time.perf_counter()
        result = self._psp_find_if_key_may_be_pruned(command)
        if result is None:
            source = self._source(command)  # opened only when it is charged
            result = self._psp.charge(
                command.payment_order_id,
                command.amount,
                command.merchant_id,
                source,
                command.return_url,
                command.capture_method,
            )
        latency_ms = (time.perf_counter() - started) * 1000
        # The charge is done: recording it is retried on passing refusals. Should retries run out, the queue
        # redelivers and the PSP answers the same idempotency key with the same result. The outcome starts the
        # stream (one write, no read); a stream that exists after all holds a racing delivery's decision.
        recorded = self._record(stream, RecordCharge(command, result), cause, new_stream=True)
        if not recorded.changed and recorded.state.status == PaymentStatus.REQUIRES_ACTION:
            # A duplicate found the payment awaiting authentication: the PSP replayed its first answer, so the
            # intent's state now is asked, as a late delivery does.
            return self._settle(recorded, cause, self._psp.retrieve)
        return self._finalized(recorded, latency_ms)

    def _first_delivery(self, command: ChargePayment) -> bool:
        """Whether the event is young enough to be charged before its stream is read (see the constant)."""
        if command.initiated_at is None:  # an event that says nothing of its age: read first
            return False
        return self._clock() - command.initiated_at < CHARGE_BEFORE_READING_WITHIN

    def settle(self, payment_order_id: str, cause: Cause, once: str | None = None) -> Finalized | None:
        """A payment awaiting authentication, settled from its PaymentIntent's state now (a webhook said it
        changed; its payload may be stale, so the PSP is asked). `once` (the webhook event's id) is claimed
        with whatever is recorded, or alone: a redelivered webhook finds it and stops before asking the PSP.
        None for a payment this service has not recorded (its charge is still running, and records the answer
        itself) or when `once` was claimed before.

        A payment final already (the common case: Stripe sends payment_intent.succeeded for every payment, the
        charge has recorded it) writes nothing: the read alone answers every redelivery of it the same way."""
        loaded = self._payments.load(payment_stream(payment_order_id))
        status = loaded.state.status
        if status is None:
            return None
        if status in FINAL_STATUSES:  # settled before (the charge, another webhook, a redelivery, the sweep)
            return Finalized(payment_order_id, status, charged_now=False)
        settled = self._settle(loaded, cause, self._psp.retrieve, once)
        if once is not None and not settled.charged_now:
            try:
                record_once(self._store, [], once)
            except DuplicateRecord:
                return None
        return settled

    def sweep(self, deadline: timedelta) -> list[Finalized]:
        """Cancel at the PSP the authentications abandoned for longer than `deadline` and record each payment's
        outcome (FAILED, or SUCCESS when the buyer authenticated at the last moment). One payment the PSP or
        the store cannot settle now does not hold back the others: it stays for the next run, and the run
        raises SweepIncomplete at its end (the function's errors alarm)."""
        cutoff = self._clock() - deadline
        settled, left = [], []
        for payment_order_id in self._results.awaiting_since_before(cutoff, SWEEP_BATCH):
            try:
                loaded = self._payments.load(payment_stream(payment_order_id))
                if loaded.state.status in FINAL_STATUSES:
                    continue  # its result row is being replaced right now
                settled.append(self._settle(loaded, Cause(payment_order_id, None), self._psp.cancel))
            except (PspOutcomeUnknown, PspRequestRefused, StoreUnavailable, ConcurrencyConflict) as unsettled:
                left.append(f"{payment_order_id}: {type(unsettled).__name__}")
        if left:
            raise SweepIncomplete(settled, left)
        return settled

    def capture(self, command: CapturePayment) -> Finalized:
        """Capture an authorized payment once and record SUCCESS with the amount the PSP captured. A redelivery
        finds it final and stops; one whose recording was lost asks the PSP again with the same key (derived
        from the payment: an intent is captured once), or finds it captured, and records that."""
        loaded = self._authorized(command.payment_order_id, command.merchant_id)
        if isinstance(loaded, Finalized):
            return loaded
        held = loaded.state.authorized
        assert held is not None
        if command.amount.currency != held.currency or not command.amount <= Money(held.amount_minor, held.currency):
            raise PaymentNotCapturable(f"{command.payment_order_id}: {command.amount} is more than was authorized")
        key = f"capture-{command.payment_order_id}"
        started = time.perf_counter()
        result = self._psp.capture(held.psp_reference, command.amount, key)
        latency_ms = (time.perf_counter() - started) * 1000
        recorded = self._record(
            loaded.stream_id, RecordSettlement(result), Cause(command.correlation_id, command.causation_id)
        )
        return self._finalized(recorded, latency_ms)

    def cancel_authorization(self, command: CancelAuthorization) -> Finalized:
        """Release an authorized payment's hold and record CANCELED (or SUCCESS, should it have been captured
        meanwhile: the PSP's state decides). Redeliveries as for a capture."""
        loaded = self._authorized(command.payment_order_id, command.merchant_id)
        if isinstance(loaded, Finalized):
            return loaded
        cause = Cause(command.correlation_id, command.causation_id)
        return self._release(loaded, command.reason, cause)

    def sweep_authorizations(self, window: timedelta) -> list[Finalized]:
        """Cancel at the PSP the authorizations held longer than the capture `window` (reason abandoned) and
        record each CANCELED — or what the PSP says happened (Stripe's own expiry, a capture that won the race).
        As `sweep`: one payment that cannot be settled now stays for the next run (SweepIncomplete)."""
        cutoff = self._clock() - window
        settled, left = [], []
        for payment_order_id in self._results.authorized_since_before(cutoff, SWEEP_BATCH):
            try:
                loaded = self._payments.load(payment_stream(payment_order_id))
                if loaded.state.status != PaymentStatus.AUTHORIZED:
                    continue  # its result row is being replaced right now
                settled.append(self._release(loaded, ABANDONED, Cause(payment_order_id, None)))
            except (PspOutcomeUnknown, PspRequestRefused, StoreUnavailable, ConcurrencyConflict) as unsettled:
                left.append(f"{payment_order_id}: {type(unsettled).__name__}")
        if left:
            raise SweepIncomplete(settled, left)
        return settled

    def _authorized(self, payment_order_id: str, merchant_id: str) -> Decision[Payment] | Finalized:
        """The payment's stream when it is authorized for this merchant; its Finalized when it is final already
        (a redelivery); PaymentNotCapturable otherwise."""
        loaded = self._payments.load(payment_stream(payment_order_id))
        status, held = loaded.state.status, loaded.state.authorized
        if status in FINAL_STATUSES and held is not None:
            return Finalized(str(payment_order_id), PaymentStatus(status), charged_now=False)
        if status != PaymentStatus.AUTHORIZED or held is None:
            raise PaymentNotCapturable(f"{payment_order_id}: not authorized here (status {status})")
        if held.merchant_id != str(merchant_id):
            raise PaymentNotCapturable(f"{payment_order_id}: not a payment of merchant {merchant_id}")
        return loaded

    def _release(self, loaded: Decision[Payment], reason: str | None, cause: Cause) -> Finalized:
        held = loaded.state.authorized
        assert held is not None
        key = f"cancel-{held.payment_order_id}-{reason or 'unspecified'}"
        started = time.perf_counter()
        result = self._psp.cancel(held.psp_reference, reason, key)
        latency_ms = (time.perf_counter() - started) * 1000
        return self._finalized(self._record(loaded.stream_id, RecordSettlement(result), cause), latency_ms)

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
        if once is not None and not result.recorded_now and not record_once(self._store, [], once):
            return None
        return result

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
        if once is not None and not result.recorded_now and not record_once(self._store, [], once):
            return None
        return result

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
        if command.requested_at is None or self._clock() - command.requested_at < SEARCH_AFTER:
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

    def _settle(
        self,
        loaded: Decision[Payment],
        cause: Cause,
        ask: Callable[[str], ChargeResult],
        once: str | None = None,
    ) -> Finalized:
        reference, status = loaded.state.psp_reference, loaded.state.status
        if reference is None or status is None or status in FINAL_STATUSES:  # callers pass awaiting payments
            raise ValueError(f"{loaded.stream_id}: no authentication or capture awaited")
        started = time.perf_counter()
        result = ask(reference)
        latency_ms = (time.perf_counter() - started) * 1000
        recorded = self._record(loaded.stream_id, RecordSettlement(result), cause, once=[once] if once else ())
        return self._finalized(recorded, latency_ms)

    def _record(
        self, stream: str, command: PaymentCommand, cause: Cause, *, new_stream: bool = False, once: Sequence[str] = ()
    ) -> Decision[Payment]:
        now = self._clock()
        return self._payments.handle(
            stream,
            command,
            cause,
            changes=lambda decision: self._result_row(decision, now),
            new_stream=new_stream,
            once=once,
        )

    def _finalized(self, recorded: Decision[Payment], latency_ms: float) -> Finalized:
        state = recorded.state
        order_id = recorded.stream_id.removeprefix(PAYMENT_PREFIX)
        if state.status is None:  # decide() decides every undecided payment, so an unchanged stream holds one
            raise RuntimeError(f"{recorded.stream_id}: nothing recorded, yet no decision is stored")
        if not recorded.changed:  # another delivery recorded first (or nothing new): its decision stands
            return Finalized(order_id, state.status, charged_now=False)
        terms = state.outcome or state.authorized or state.awaiting
        assert terms is not None
        return Finalized(order_id, state.status, True, latency_ms, int(terms.amount_minor), terms.currency)

    def _source(self, command: ChargePayment) -> PaymentSource:
        """The PaymentMethod to charge, or the card: in clear only here, in memory, for the PSP call. Details
        sealed for another order or tampered with fail to open and the event goes back to the queue (and on to
        the DLQ), never charged."""
        if command.payment_method is not None:
            return PaymentToken(command.payment_method)
        if command.payment_details is None:
            raise ValueError(f"{command.payment_order_id}: neither a card nor a payment method to charge")
        return self._cards.open(command.payment_details, command.payment_order_id)

    def _psp_find_if_key_may_be_pruned(self, command: ChargePayment) -> ChargeResult | None:
        """A payment initiated before the PSP's key retention (minus a margin for clock skew) may have been
        charged by a delivery whose key the PSP has since forgotten: a charge with it would be a second one.
        Such a payment's earlier charge, if any, is looked up instead. A younger one needs no lookup: any
        charge made for it is younger still, so its key answers."""
        if command.initiated_at is None or self._clock() - command.initiated_at < SEARCH_AFTER:
            return None
        return self._psp.find(command.payment_order_id)

    def _result_row(self, decision: Decision[Payment], at: datetime) -> Sequence[ViewChange]:
        latest = decision.events[-1] if decision.events else None
        if isinstance(latest, PaymentDecided):
            return [self._results.result_recorded(latest, decision.version, at)]
        if isinstance(latest, PaymentActionRequired):
            return [self._results.action_required(latest, decision.version, at)]
        if isinstance(latest, PaymentAuthorized):
            return [self._results.authorized(latest, decision.version, at)]
        return []
