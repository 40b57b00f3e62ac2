"""Use cases: initiate a payment order, read it, project the finalizer's outcome onto it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from initializer.domain.card import CardSummary, card_brand
from initializer.domain.commands import PlaceOrder
from initializer.domain.errors import PaymentNotFound
from initializer.domain.order import (
    InitiatePayment,
    PaymentOrder,
    PaymentPolicy,
    fold,
)
from initializer.ports import CardVault, Clock, OrderReadModel
from payments_shared.contracts import PaymentStatusUpdatedData
from payments_shared.domain_events import DomainEvent
from payments_shared.events import EventEnvelope
from payments_shared.eventstore import (
    ConcurrencyConflict,
    EventStore,
    NewEvent,
    StoreUnavailable,
)
from payments_shared.ids import PaymentOrderId
from payments_shared.observability.propagation import current_trace_context
from payments_shared.retry import DEFAULT_RETRY, RetryPolicy, retry


def stream_id(payment_order_id: str) -> str:
    return f"payment-{payment_order_id}"


class InitializerApp:
    def __init__(
        self,
        store: EventStore,
        vault: CardVault,
        orders: OrderReadModel,
        policy: PaymentPolicy,
        clock: Clock,
        retry_policy: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self._retry_policy = retry_policy
        self._store = store
        self._vault = vault
        self._orders = orders
        self._policy = policy
        self._clock = clock

    def initiate(self, request: PlaceOrder) -> tuple[PaymentOrder, bool]:
        """Record a new order (INITIATED or FAILED). Returns (order, created); a retry returns the first order.

        Idempotency comes from the event store alone: the key names the order's stream, and the stream can
        be created only once (a conditional write), so concurrent retries all see the one winner.
        """
        order_id = (
            PaymentOrderId.for_idempotency_key(request.merchant_id, request.idempotency_key)
            if request.idempotency_key
            else PaymentOrderId.new()
        )
        card = request.card
        card_fingerprint = self._vault.fingerprint(card.number)
        sealed = self._vault.seal(
            {
                "card_number": card.number,
                "expiry_month": card.expiry_month,
                "expiry_year": card.expiry_year,
                "holder_name": card.holder_name,
            },
            context=order_id,
        )
        command = InitiatePayment(
            payment_order_id=order_id,
            merchant_id=request.merchant_id,
            amount=request.amount,
            buyer=request.buyer,
            card=CardSummary(card_brand(card.number), card.number[-4:], card_fingerprint),
            expiry_month=card.expiry_month,
            expiry_year=card.expiry_year,
            request_fingerprint=request.fingerprint(card_fingerprint),
            sealed_payment_details=sealed,
        )
        now = self._clock()
        order = PaymentOrder.initiate(command, self._policy, now)
        row = self._orders.placed(order, order.pending[0].data, now.isoformat())
        new_events = [self._new_event(event, order_id) for event in order.pending]
        try:
            # A passing refusal (a concurrent retry's transaction on the same stream, throttling) is retried
            # here; when retries run out the client gets a 503 and retries with the same key.
            retry(
                lambda _: self._store.append(stream_id(order_id), 0, new_events, [row]),
                on=(StoreUnavailable,),
                policy=self._retry_policy,
            )
        except ConcurrencyConflict:
            # The key's order exists (an earlier try, or a concurrent one that won): answer with it. Appending
            # first and reading only on conflict keeps the common path at one read-free write.
            existing = self._load(order_id)
            if existing is None:
                raise RuntimeError(f"order {order_id}: version conflict, yet no order is stored") from None
            existing.ensure_same_request(command.request_fingerprint)
            return existing, False
        return order, True

    def get(self, payment_order_id: str) -> Mapping[str, Any]:
        row = self._orders.get(payment_order_id)
        if row is None:
            raise PaymentNotFound(payment_order_id)
        return row

    def record_outcome(self, envelope: EventEnvelope) -> bool:
        """Project PaymentStatusUpdated onto the order; idempotent, never moves a final status back."""
        data = PaymentStatusUpdatedData.model_validate(envelope.data)
        order_id = str(data.payment_order_id)

        def attempt(_: int) -> bool:
            order = self._load(order_id)
            if order is None:
                raise PaymentNotFound(order_id)  # out of order: the queue redelivers until the order exists
            recorded = order.record_outcome(data.status, data.error_message, str(envelope.event_id))
            if not recorded.pending:
                return False
            now = self._clock().isoformat()
            new_events = [
                self._new_event(
                    event, order_id, causation_id=str(envelope.event_id), correlation_id=envelope.correlation_id
                )
                for event in recorded.pending
            ]
            status_update = self._orders.decided(recorded, now)
            self._store.append(stream_id(order_id), order.version, new_events, [status_update])
            return True

        # A version conflict means another delivery moved the stream: decide again on the fresh state.
        return retry(attempt, on=(ConcurrencyConflict, StoreUnavailable), policy=self._retry_policy)

    def _load(self, order_id: str) -> PaymentOrder | None:
        events = self._store.load(stream_id(order_id), use_snapshot=False).events
        return fold([(e.version, e.event_type, e.data) for e in events])

    @staticmethod
    def _new_event(
        event: DomainEvent, order_id: str, causation_id: str | None = None, correlation_id: str | None = None
    ) -> NewEvent:
        return NewEvent(
            event_type=event.event_type,
            data=event.data,
            correlation_id=correlation_id or order_id,
            causation_id=causation_id,
            trace=current_trace_context(),
        )
