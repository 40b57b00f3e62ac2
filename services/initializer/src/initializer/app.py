"""Use cases: initiate a payment, read its order, record the finalizer's outcome on it, capture or cancel its
authorization, refund it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

from initializer.domain.commands import (
    InitiatePayment,
    RecordDisputeStatus,
    RecordPaymentAction,
    RecordPaymentOutcome,
    RecordRefundOutcome,
    RequestCancel,
    RequestCapture,
    RequestRefund,
)
from initializer.domain.errors import PaymentNotFound
from initializer.domain.order import (
    OrderCommand,
    OrderStatus,
    PaymentInitiationEvent,
    PaymentOrder,
    PaymentPolicy,
    as_first_left,
    order_decider,
)
from initializer.domain.streams import payment_stream
from initializer.ports import CardVault, Clock, EventStore, PaymentOrders
from payments_shared.events import TraceContext
from payments_shared.eventstore import ViewChange
from payments_shared.eventstore.repository import Cause, Decision, Presumed, Repository
from payments_shared.ids import PaymentOrderId
from payments_shared.retry import DEFAULT_RETRY, RetryPolicy

# Refunds of one payment race on its stream (a merchant's retries, a batch of refunds): more attempts than one
# order's writers need, each decided again on the fresh order, so none refunds more than is left.
REFUND_ATTEMPTS = 12
# An order's first event is its version 1; the first charge's final outcomes are presumed to land right after it
# (AUTHORIZED and CANCELED are manual captures', which the guard would refuse: read first).
FIRST_VERSION = 1
PRESUMED_OUTCOMES = frozenset({OrderStatus.SUCCESS.value, OrderStatus.FAILED.value})


OutcomeCommand = RecordPaymentOutcome | RecordPaymentAction | RecordRefundOutcome | RecordDisputeStatus


class OutcomeMessage(NamedTuple):
    """A queue batch's outcome: its command, its cause, the trace its events carry, and `within`, which runs the
    reads and writes of its own in its message's context (span, logger keys)."""

    command: OutcomeCommand
    cause: Cause
    trace: TraceContext
    within: Callable[[Callable[[], Decision[PaymentOrder | None]]], Decision[PaymentOrder | None]]


def _presumption(command: OutcomeCommand) -> tuple[PaymentOrder | None, int] | None:
    """The order an outcome of a first charge (SUCCESS or FAILED) is decided on unread: as its first event left
    it (version 1). None: the command is decided on the order read."""
    if isinstance(command, RecordPaymentOutcome) and command.first_charge is not None:
        if command.status in PRESUMED_OUTCOMES:
            return as_first_left(command.payment_order_id, command.first_charge), FIRST_VERSION
    return None


def _order(decision: Decision[PaymentOrder | None]) -> PaymentOrder:
    if decision.state is None:
        raise RuntimeError(f"{decision.stream_id}: decided, yet no order is stored")
    return decision.state


class InitializerApp:
    def __init__(
        self,
        store: EventStore,
        vault: CardVault,
        orders: PaymentOrders,
        policy: PaymentPolicy,
        clock: Clock,
        retry_policy: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self._payments: Repository[PaymentOrder | None, OrderCommand] = Repository(
            store, order_decider(policy), retry_policy=retry_policy
        )
        self._refunds: Repository[PaymentOrder | None, OrderCommand] = Repository(
            store,
            order_decider(policy),
            retry_policy=replace(retry_policy, attempts=max(retry_policy.attempts, REFUND_ATTEMPTS)),
        )
        self._vault = vault
        self._orders = orders
        self._clock = clock

    def initiate_payment(self, command: InitiatePayment) -> tuple[PaymentOrder, bool]:
        """Record a new order (INITIATED or FAILED). Returns (order, created); a retry returns the first order.

        Idempotency comes from the event store alone: the key names the order's stream, whose first event is
        written without a read and only if the stream is new (a conditional write), so concurrent retries all
        see the one winner. Raises IdempotencyKeyReused for another request under a key already used.
        """
        order_id = (
            PaymentOrderId.for_idempotency_key(command.merchant_id, command.idempotency_key)
            if command.idempotency_key
            else PaymentOrderId.new()
        )
        # The card's I/O, before the order decides: it decides on the sealed card, never on the number. A
        # payment method needs none: Stripe holds the card.
        card_fingerprint = sealed_details = None
        if command.card is not None:
            card_fingerprint = self._vault.fingerprint(command.card.number)
            sealed_details = self._vault.seal(command.card.details(), context=order_id)
        received_at = self._clock()

        def placed(decision: Decision[PaymentOrder | None]) -> list[ViewChange]:
            [initiation] = decision.events
            if not isinstance(initiation, PaymentInitiationEvent):
                raise TypeError(f"{decision.stream_id}: {initiation.event_type} does not start an order")
            return [self._orders.placed(_order(decision), initiation, decision.version, received_at)]

        decision = self._payments.handle(
            payment_stream(order_id),
            command.sealed(order_id, card_fingerprint, sealed_details, received_at),
            Cause(correlation_id=order_id),
            changes=placed,
            new_stream=True,
        )
        return _order(decision), decision.changed

    def get(self, payment_order_id: str) -> Mapping[str, Any]:
        row = self._orders.get(payment_order_id)
        if row is None:
            raise PaymentNotFound(payment_order_id)
        return row

    def _status_recorded(self, decision: Decision[PaymentOrder | None]) -> list[ViewChange]:
        return [self._orders.status_recorded(_order(decision), decision.version, self._clock())]

    def record_outcome(self, command: OutcomeCommand, cause: Cause) -> PaymentOrder | None:
        """Record the finalizer's decision on the order (or that the buyer must authenticate first, or a
        refund's answer, or a dispute's status), once; a final status never moves. The order as recorded, or None
        when nothing was new. Raises PaymentNotFound for an outcome that came before its order (the queue
        redelivers it).

        The outcome of a first charge (SUCCESS or FAILED: the common case) is written before anything is read, on
        the order as its first event left it (version 1), guarded by the row: a duplicate, an outcome that
        overtook its order or followed another event, or a manual capture is refused by the write, then read and
        decided on as any other (one write and no read on the common path)."""
        presume = _presumption(command)
        decision = self._payments.handle(
            payment_stream(command.payment_order_id), command, cause, changes=self._recorded(presume), presume=presume
        )
        return _order(decision) if decision.changed else None

    def record_outcomes(self, messages: Sequence[OutcomeMessage]) -> list[PaymentOrder | None | Exception]:
        """record_outcome for each message of a queue batch: the first charges' outcomes of the batch's orders are
        written in one transaction, unread (Repository.presume_batch); a refused one, and any other command, is
        read and decided on as record_outcome does, in its message's context. Two messages of one order go in the
        batch's order, the second after the first (in the next round). Per message, in order: the order as
        recorded, None when nothing was new, or the exception that left it unrecorded (its own: PaymentNotFound,
        a refusal of its own write) — exactly what record_outcome answers for each, one after another."""
        queues: dict[str, list[int]] = {}
        for n, message in enumerate(messages):
            queues.setdefault(message.command.payment_order_id, []).append(n)
        outcomes: list[PaymentOrder | None | Exception] = [None] * len(messages)
        while queues:
            heads = [queue.pop(0) for queue in queues.values()]
            queues = {order: queue for order, queue in queues.items() if queue}
            batch: list[Presumed[PaymentOrder | None, OrderCommand]] = []
            for n in heads:
                command, cause, trace, within = messages[n]
                presume = _presumption(command)
                stream = payment_stream(command.payment_order_id)
                batch.append(Presumed(stream, command, cause, presume, self._recorded(presume), trace, within))
            for n, decided in zip(heads, self._payments.presume_batch(batch), strict=True):
                if isinstance(decided, Exception):
                    outcomes[n] = decided
                else:
                    outcomes[n] = _order(decided) if decided.changed else None
        return outcomes

    def _recorded(
        self, presume: tuple[PaymentOrder | None, int] | None
    ) -> Callable[[Decision[PaymentOrder | None]], list[ViewChange]]:
        def recorded(decision: Decision[PaymentOrder | None]) -> list[ViewChange]:
            if not decision.presumed or presume is None or presume[0] is None:
                return self._status_recorded(decision)
            at = self._clock()
            presumed = (presume[0], presume[1])
            return [self._orders.status_recorded(_order(decision), decision.version, at, presumed=presumed)]

        return recorded

    def request_refund(self, command: RequestRefund) -> tuple[PaymentOrder, bool]:
        """Record the refund on its order, within what is left to refund; (order, created). A retry under the
        same key returns the order with that refund. Racing refunds are decided one after another on the
        order's stream, so together they never take more than the payment. Raises PaymentNotFound (also for
        another merchant's payment), PaymentNotRefundable, RefundExceedsRemaining, RefundKeyReused."""
        decision = self._refunds.handle(
            payment_stream(command.payment_order_id),
            command,
            Cause(correlation_id=command.payment_order_id),
            changes=self._status_recorded,
        )
        return _order(decision), decision.changed

    def settle_authorization(self, command: RequestCapture | RequestCancel) -> tuple[PaymentOrder, bool]:
        """Record the capture or the cancel of an AUTHORIZED order; (order, created). A retry under the same key
        returns the order as it stands. Racing requests are decided one after another on the order's stream
        (as refunds are), so one capture or one cancel wins. Raises PaymentNotFound (also for another
        merchant's payment), PaymentNotAuthorized, AuthorizationAlreadySettled, CaptureExceedsAuthorized,
        CaptureKeyReused."""
        decision = self._refunds.handle(
            payment_stream(command.payment_order_id),
            command,
            Cause(correlation_id=command.payment_order_id),
            changes=self._status_recorded,
        )
        return _order(decision), decision.changed
