"""Use case: finalize an initiated payment — charge it once, record SUCCESS or FAILED, publish via the outbox."""

from __future__ import annotations

import time
from dataclasses import dataclass

from finalizer.domain.payment import Payment, PaymentInitiatedData, PaymentStatus, fold, outcome
from finalizer.ports import CardOpener, Clock, PaymentResults, PaymentServiceProvider
from payments_shared.events import EventEnvelope
from payments_shared.eventstore import ConcurrencyConflict, EventStore, NewEvent, StoreUnavailable
from payments_shared.observability.propagation import current_trace_context
from payments_shared.retry import DEFAULT_RETRY, RetryPolicy, retry


@dataclass(frozen=True)
class Finalized:
    payment_order_id: str
    status: PaymentStatus
    charged_now: bool  # False when an earlier delivery had already decided
    psp_latency_ms: float | None = None
    amount_minor: int = 0
    currency: str = ""


def stream_id(payment_order_id: str) -> str:
    return f"payment-{payment_order_id}"


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
        self._retry_policy = retry_policy
        self._store = store
        self._cards = cards
        self._psp = psp
        self._clock = clock
        self._results = results

    def finalize(self, envelope: EventEnvelope) -> Finalized:
        """Charge the payment of a PaymentInitiated event exactly once.

        Duplicate, replayed or late deliveries find the decision in the payment's stream and stop. Two
        deliveries racing both reach the PSP with the same idempotency key (the PSP charges once) and the
        stream's version condition lets only one record the result.
        """
        payment = PaymentInitiatedData.model_validate(envelope.data)
        money = payment.money()  # malformed amounts raise here, before any I/O
        stream = stream_id(payment.payment_order_id)
        existing = self._decided(stream)
        if existing is not None:
            return Finalized(existing.payment_order_id, existing.status, charged_now=False)

        # The card is in clear only here, in memory, for the PSP call; details sealed for another order or
        # tampered with fail to open and the event goes back to the queue (and on to the DLQ), never charged.
        card = self._cards.open(payment.payment_details, payment.payment_order_id)
        started = time.perf_counter()
        result = self._psp.charge(payment.payment_order_id, money, payment.merchant_id, card)
        latency_ms = (time.perf_counter() - started) * 1000
        event = outcome(payment, result)
        now = self._clock().isoformat()
        row = self._results.decided(event.data, 1, now)  # the outcome is the payment stream's only event
        new_event = NewEvent(
            event_type=event.event_type,
            data=event.data,
            correlation_id=envelope.correlation_id,
            causation_id=str(envelope.event_id),
            trace=current_trace_context(),
        )
        try:
            # The charge is done: recording it is retried on passing refusals. Should retries run out, the
            # queue redelivers and the PSP answers the same idempotency key with the same result.
            retry(
                lambda _: self._store.append(stream, 0, [new_event], [row]),
                on=(StoreUnavailable,),
                policy=self._retry_policy,
            )
        except ConcurrencyConflict:
            winner = self._decided(stream)
            if winner is None:
                raise RuntimeError(f"{stream}: version conflict, yet no decision is stored") from None
            return Finalized(winner.payment_order_id, winner.status, charged_now=False)
        return Finalized(
            str(payment.payment_order_id), PaymentStatus(event.status), True, latency_ms, money.minor, money.currency
        )

    def _decided(self, stream: str) -> Payment | None:
        # Payment streams are short-lived: no snapshot to look for.
        return fold([(e.version, e.event_type, e.data) for e in self._store.load(stream, use_snapshot=False).events])
