"""Use case: finalize an initiated payment — charge it once, record SUCCESS or FAILED, publish via the outbox.

A payment whose card asks for 3-D Secure is recorded REQUIRES_ACTION and settled later from the PaymentIntent's
own state: a Stripe webhook (`settle`), a redelivery of its PaymentInitiated (`charge`), or the sweep, which
cancels it once the buyer is past the deadline (`sweep`). So every payment reaches SUCCESS or FAILED within
the deadline plus the sweep's period, whatever the buyer or the PSP does.

Refunds, disputes and the PSP's payouts are recorded by finalizer.money_out, loaded when one is first asked for.

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
from functools import cached_property
from typing import TYPE_CHECKING

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
from finalizer.domain.streams import PAYMENT_PREFIX, payment_stream
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

if TYPE_CHECKING:
    from finalizer.domain.refund import RequestRefund
    from finalizer.money_out import DisputeRecorded, MoneyOut, PspPayoutRecorded, RefundRecorded

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
        self._retry_policy = retry_policy
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
        return self._money_out.refund(command)

    def record_refund_failure(self, psp_reference: str, cause: Cause, once: str | None = None) -> RefundRecorded | None:
        return self._money_out.record_refund_failure(psp_reference, cause, once)

    def record_dispute(self, dispute_id: str, cause: Cause, once: str | None = None) -> DisputeRecorded | None:
        return self._money_out.record_dispute(dispute_id, cause, once)

    def record_psp_payout(self, payout_id: str, cause: Cause, once: str | None = None) -> PspPayoutRecorded | None:
        return self._money_out.record_psp_payout(payout_id, cause, once)

    @cached_property
    def _money_out(self) -> MoneyOut:
        # Imported here: a charge's cold start loads none of the refund, dispute and payout deciders (~20 ms of
        # dataclasses built). Two threads racing here may each build one; either serves, as neither holds state.
        from finalizer.money_out import MoneyOut

        return MoneyOut(self._store, self._payments, self._psp, self._clock, self._retry_policy, SEARCH_AFTER)

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
