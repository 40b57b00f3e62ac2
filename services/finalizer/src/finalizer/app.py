"""Use case: finalize an initiated payment — charge it once, record SUCCESS or FAILED, publish via the outbox."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from finalizer.domain.payment import (
    DECIDER,
    ChargePayment,
    ChargeResult,
    Payment,
    PaymentSource,
    PaymentStatus,
    PaymentToken,
    RecordCharge,
)
from finalizer.domain.streams import payment_stream
from finalizer.ports import CardOpener, Clock, PaymentResults, PaymentServiceProvider
from payments_shared.eventstore import EventStore, ViewChange
from payments_shared.eventstore.repository import Cause, Decision, Repository
from payments_shared.retry import DEFAULT_RETRY, RetryPolicy

# Stripe prunes idempotency keys once they are 24 hours old.
PSP_KEY_RETENTION = timedelta(hours=24)
SEARCH_AFTER = PSP_KEY_RETENTION - timedelta(hours=1)


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
        # Payment streams are short-lived (one event): no snapshot to look for.
        self._payments = Repository(store, DECIDER, retry_policy=retry_policy)
        self._cards = cards
        self._psp = psp
        self._clock = clock
        self._results = results

    def charge(self, command: ChargePayment) -> Finalized:
        """Charge an initiated payment exactly once.

        Duplicate, replayed or late deliveries find the decision in the payment's stream and stop. Two
        deliveries racing both reach the PSP with the same idempotency key (the PSP charges once) and the
        stream's version condition lets only one record the result.
        """
        stream = payment_stream(command.payment_order_id)
        existing = self._payments.load(stream)
        if existing.state.status is not None:
            return Finalized(str(command.payment_order_id), existing.state.status, charged_now=False)

        card = self._source(command)
        started = time.perf_counter()
        result = self._psp_find_if_key_may_be_pruned(command)
        if result is None:
            result = self._psp.charge(command.payment_order_id, command.amount, command.merchant_id, card)
        latency_ms = (time.perf_counter() - started) * 1000
        now = self._clock()
        # The charge is done: recording it is retried on passing refusals. Should retries run out, the queue
        # redelivers and the PSP answers the same idempotency key with the same result. The outcome starts the
        # stream (one write, no read); a stream that exists after all holds a racing delivery's decision.
        recorded = self._payments.handle(
            stream,
            RecordCharge(command, result),
            Cause(command.correlation_id, command.causation_id),
            changes=lambda decision: self._result_row(decision, now),
            new_stream=True,
        )
        status = recorded.state.status
        if status is None:  # decide() decides every undecided payment, so an unchanged stream holds a decision
            raise RuntimeError(f"{stream}: nothing recorded, yet no decision is stored")
        if not recorded.changed:  # another delivery recorded first: its decision stands
            return Finalized(str(command.payment_order_id), status, charged_now=False)
        amount = command.amount
        return Finalized(str(command.payment_order_id), status, True, latency_ms, amount.minor, amount.currency)

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
        outcome = decision.state.outcome
        return [self._results.result_recorded(outcome, decision.version, at)] if outcome is not None else []
