"""The initializer's HTTP API: POST /payments, GET /payments/{payment_order_id},
POST /payments/{payment_order_id}/refunds, POST /payments/{payment_order_id}/capture and /cancel."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Header, Path

from initializer.domain.commands import (
    BuyerInfo,
    CardEntry,
    InitiatePayment,
    RequestCancel,
    RequestCapture,
    RequestRefund,
)
from initializer.domain.errors import (
    AuthorizationAlreadySettled,
    CaptureExceedsAuthorized,
    IdempotencyKeyReused,
    PaymentDisputed,
    PaymentNotAuthorized,
    PaymentNotFound,
    PaymentNotRefundable,
    RefundCurrencyMismatch,
    RefundExceedsRemaining,
)
from initializer.domain.order import OrderStatus, PaymentOrder, Refund
from initializer.http_models import (
    CancelRequest,
    CaptureRequest,
    CardOut,
    DisputeOut,
    NextActionOut,
    PaymentOut,
    PaymentRequest,
    RefundOut,
    RefundRequest,
)
from initializer.runtime import SERVICE, container, logger
from payments_shared.callers import current_caller, require_merchant
from payments_shared.eventstore import ConcurrencyConflict
from payments_shared.ids import PaymentOrderId, RefundId
from payments_shared.lambda_entry.http import DomainErrors, http_entry
from payments_shared.money import Money
from payments_shared.observability.metrics import MetricUnit, build_metrics
from payments_shared.problems import (
    BusyProblem,
    Conflict,
    FieldProblem,
    Forbidden,
    InvalidRequest,
    KeyReusedProblem,
    NotFound,
    Unprocessable,
    amount_over,
)

api = APIGatewayRestResolver(enable_validation=True)
metrics = build_metrics(SERVICE)


class PaymentNotFoundProblem(NotFound):
    type = "urn:payments:problem:payment-not-found"
    title = "Payment order not found"


class NotRefundableProblem(Conflict):
    type = "urn:payments:problem:payment-not-refundable"
    title = "The payment cannot be refunded"


class DisputedProblem(Conflict):
    type = "urn:payments:problem:payment-disputed"
    title = "The payment has an open dispute: it cannot be refunded while the dispute is open"


class RefundTooLargeProblem(Unprocessable):
    type = "urn:payments:problem:refund-exceeds-remaining"
    title = "The refund exceeds what is left to refund"


class NotAuthorizedProblem(Conflict):
    type = "urn:payments:problem:payment-not-authorized"
    title = "The payment is not an authorization waiting for capture"


class AlreadySettledProblem(Conflict):
    type = "urn:payments:problem:authorization-already-settled"
    title = "A capture or a cancel of this authorization was already requested"


class CaptureTooLargeProblem(Unprocessable):
    type = "urn:payments:problem:capture-exceeds-authorized"
    title = "The capture must be more than zero and at most the authorized amount"


class PaymentBusyProblem(BusyProblem):
    type = "urn:payments:problem:payment-busy"
    title = "The payment is being changed by other requests"


def _too_large(error: RefundExceedsRemaining) -> RefundTooLargeProblem:
    return amount_over(RefundTooLargeProblem, str(error), error.remaining, "is left to refund")


def _capture_too_large(error: CaptureExceedsAuthorized) -> CaptureTooLargeProblem:
    held = error.authorized
    reason = f"must be more than 0 and at most the authorized {held.to_decimal_string()} {held.currency}"
    return CaptureTooLargeProblem(str(error), [FieldProblem("body.amount", reason)])


RAW_CARDS_OFF = (
    "this deployment's Stripe account has no raw card data access: send payment_method, a PaymentMethod the "
    "buyer's browser made with Stripe.js"
)

DOMAIN_ERRORS: DomainErrors = {
    IdempotencyKeyReused: lambda error: KeyReusedProblem(str(error)),
    PaymentNotFound: lambda error: PaymentNotFoundProblem(str(error)),
    PaymentNotRefundable: lambda error: NotRefundableProblem(str(error)),
    PaymentDisputed: lambda error: DisputedProblem(str(error)),
    RefundExceedsRemaining: _too_large,
    PaymentNotAuthorized: lambda error: NotAuthorizedProblem(str(error)),
    AuthorizationAlreadySettled: lambda error: AlreadySettledProblem(str(error)),
    CaptureExceedsAuthorized: _capture_too_large,
    RefundCurrencyMismatch: lambda error: Unprocessable(str(error), [FieldProblem("body.currency", str(error))]),
    ConcurrencyConflict: lambda error: PaymentBusyProblem.of("the payment"),
}


def _refund_out(refund: Refund) -> RefundOut:
    return RefundOut(
        refund_id=refund.refund_id,
        amount=refund.amount.to_decimal_string(),
        currency=refund.amount.currency,
        reason=refund.reason,
        status=refund.status.value,
        requested_at=refund.requested_at,
        failure_reason=refund.failure_reason,
    )


def _out(order: PaymentOrder) -> PaymentOut:
    return PaymentOut(
        payment_order_id=order.payment_order_id,
        merchant_id=order.merchant_id,
        status=order.shown_status,
        amount=order.amount.to_decimal_string(),
        currency=order.amount.currency,
        created_at=order.created_at.isoformat(),
        failure_reason=order.failure_reason,
        card=CardOut(brand=order.card.brand, last4=order.card.last4) if order.card else None,
        payment_method=order.payment_method,
        next_action=None
        if order.next_action is None
        else NextActionOut(
            type=order.next_action.type,
            redirect_url=order.next_action.redirect_url,
            client_secret=order.next_action.client_secret,
        ),
        amount_refunded=order.refunded().to_decimal_string(),
        refunds=[_refund_out(refund) for refund in order.refunds],
        disputes=[
            DisputeOut(
                dispute_id=dispute.dispute_id,
                amount=dispute.amount.to_decimal_string(),
                currency=dispute.amount.currency,
                fee=dispute.fee.to_decimal_string(),
                status=dispute.status.value,
                reason=dispute.reason,
            )
            for dispute in order.disputes
        ],
        capture_method=order.capture_method,
        amount_authorized=None if order.authorized is None else order.authorized.to_decimal_string(),
        amount_captured=order.charged().to_decimal_string()
        if order.capture_method == "manual" and order.status == OrderStatus.SUCCESS
        else None,
    )


def initiate_payment(body: PaymentRequest, idempotency_key: str | None) -> InitiatePayment:
    """The command the request carries (the CVV was checked by the model and goes no further)."""
    details, buyer = body.payment_details, body.buyer_info
    card = None
    if details is not None:
        card = CardEntry(details.card_number, details.expiry_month, details.expiry_year, details.holder_name)
    return InitiatePayment(
        merchant_id=body.merchant_id,
        amount=body.money(),
        buyer=BuyerInfo(buyer.name, str(buyer.email), buyer.country),
        card=card,
        idempotency_key=idempotency_key,
        payment_method=body.payment_method,
        return_url=body.return_url,
        capture_method=body.capture_method,
    )


@api.post("/payments", responses={201: {"description": "Order recorded (INITIATED or FAILED)"}})
def create_payment(
    body: PaymentRequest,
    # Required: without it a client retrying after a lost answer would pay twice (400 names the header).
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="the client's key for this order: a retry with it returns the first answer",
        ),
    ],
) -> tuple[PaymentOut, int]:
    caller = require_merchant()
    if body.merchant_id != caller.merchant_id:  # checked before anything is sealed or written
        mismatch = FieldProblem("body.merchant_id", "must be the merchant you are authenticated as")
        raise Forbidden("merchant_id is not the calling merchant", [mismatch])
    if body.payment_details is not None and not container.config.raw_card_data():
        refused = FieldProblem("body.payment_details", RAW_CARDS_OFF)
        raise InvalidRequest("card details are not accepted here", [refused])
    order, created = container.app().initiate_payment(initiate_payment(body, idempotency_key))
    if created:
        outcome = "PaymentsInitiated" if order.status == OrderStatus.INITIATED else "PaymentsRejected"
        metrics.add_metric(name=outcome, unit=MetricUnit.Count, value=1)
    logger.info(
        "payment order recorded",
        extra={"payment_order_id": order.payment_order_id, "status": order.status.value, "replayed": not created},
    )
    return _out(order), 201


@api.get("/payments/<payment_order_id>")
def get_payment(payment_order_id: Annotated[PaymentOrderId, Path()]) -> PaymentOut:
    row = container.app().get(payment_order_id)
    caller = current_caller()
    if not (caller.is_operator or caller.may_act_for(row["merchant_id"])):
        raise PaymentNotFound(payment_order_id)  # another merchant's order: its existence is not disclosed
    return PaymentOut(
        payment_order_id=row["payment_order_id"],
        merchant_id=row["merchant_id"],
        status=OrderStatus(row["status"]),
        amount=row["amount"],
        currency=row["currency"],
        created_at=row["created_at"],
        failure_reason=row.get("failure_reason"),
        card=CardOut(brand=row["card_brand"], last4=row["card_last4"]) if row.get("card_brand") else None,
        payment_method=row.get("payment_method"),
        next_action=NextActionOut(**row["next_action"]) if row.get("next_action") else None,
        amount_refunded=Money(int(row.get("amount_refunded_minor", 0)), row["currency"]).to_decimal_string(),
        refunds=[
            RefundOut(
                refund_id=refund["refund_id"],
                amount=Money(int(refund["amount_minor"]), row["currency"]).to_decimal_string(),
                currency=row["currency"],
                reason=refund.get("reason"),
                status=refund["status"],
                requested_at=refund["requested_at"],
                failure_reason=refund.get("failure_reason"),
            )
            for refund in row.get("refunds") or []
        ],
        disputes=[
            DisputeOut(
                dispute_id=dispute["dispute_id"],
                amount=Money(int(dispute["amount_minor"]), row["currency"]).to_decimal_string(),
                currency=row["currency"],
                fee=Money(int(dispute["fee_minor"]), row["currency"]).to_decimal_string(),
                status=dispute["status"],
                reason=dispute.get("reason"),
            )
            for dispute in row.get("disputes") or []
        ],
        capture_method=row.get("capture_method") or "automatic",
        amount_authorized=_decimal(row.get("amount_authorized_minor"), row["currency"]),
        amount_captured=_decimal(row.get("amount_captured_minor"), row["currency"]),
    )


def _decimal(minor: object, currency: str) -> str | None:
    return None if minor is None else Money(int(str(minor)), currency).to_decimal_string()


@api.post(
    "/payments/<payment_order_id>/refunds",
    responses={
        201: {"description": "Refund recorded (PENDING until the PSP answers); a retry returns it as it stands"}
    },
)
def create_refund(
    payment_order_id: Annotated[PaymentOrderId, Path()],
    body: RefundRequest,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="the client's key for this refund: a retry with it returns the same refund",
        ),
    ],
) -> tuple[RefundOut, int]:
    caller = current_caller()
    if not (caller.is_operator or caller.merchant_id):
        raise Forbidden("only a merchant (its own payments) or an operator refunds")
    command = RequestRefund(
        payment_order_id=payment_order_id,
        refund_id=RefundId.for_idempotency_key(payment_order_id, idempotency_key),
        amount=body.money(),
        reason=body.reason,
        request_fingerprint=RequestRefund.fingerprint(body.amount, body.currency, body.reason),
        requested_at=container.clock()(),
        caller_merchant_id=None if caller.is_operator else caller.merchant_id,
    )
    order, created = container.app().request_refund(command)
    refund = order.refund(command.refund_id)
    if refund is None:
        raise RuntimeError(f"{payment_order_id}: refund {command.refund_id} decided, yet not on the order")
    if created:
        metrics.add_metric(name="RefundsRequested", unit=MetricUnit.Count, value=1)
    logger.info(
        "refund recorded",
        extra={"payment_order_id": payment_order_id, "refund_id": refund.refund_id, "replayed": not created},
    )
    return _refund_out(refund), 201


SETTLEMENT_KEY = Header(
    alias="Idempotency-Key",
    min_length=1,
    max_length=255,
    description="the client's key for this request: a retry with it answers as the first did",
)


def _settling_merchant() -> str | None:
    """The merchant acting (on its own payments only), or None for an operator (any payment)."""
    caller = current_caller()
    if not (caller.is_operator or caller.merchant_id):
        raise Forbidden("only a merchant (its own payments) or an operator captures or cancels")
    return None if caller.is_operator else caller.merchant_id


def _settled(command: RequestCapture | RequestCancel, metric: str) -> tuple[PaymentOut, int]:
    order, created = container.app().settle_authorization(command)
    if created:
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    logger.info(
        "authorization settlement recorded",
        extra={"payment_order_id": command.payment_order_id, "asked": metric, "replayed": not created},
    )
    return _out(order), 202


@api.post(
    "/payments/<payment_order_id>/capture",
    responses={202: {"description": "Capture requested (the payment stays AUTHORIZED until the PSP answers)"}},
)
def capture_payment(
    payment_order_id: Annotated[PaymentOrderId, Path()],
    body: CaptureRequest,
    idempotency_key: Annotated[str, SETTLEMENT_KEY],
) -> tuple[PaymentOut, int]:
    command = RequestCapture(
        payment_order_id=payment_order_id,
        amount=body.money(),
        idempotency_key=idempotency_key,
        request_fingerprint=RequestCapture.fingerprint(body.amount, body.currency),
        requested_at=container.clock()(),
        caller_merchant_id=_settling_merchant(),
    )
    return _settled(command, "CapturesRequested")


@api.post(
    "/payments/<payment_order_id>/cancel",
    responses={202: {"description": "Cancel requested (the payment stays AUTHORIZED until the PSP answers)"}},
)
def cancel_payment(
    payment_order_id: Annotated[PaymentOrderId, Path()],
    body: CancelRequest,
    idempotency_key: Annotated[str, SETTLEMENT_KEY],
) -> tuple[PaymentOut, int]:
    command = RequestCancel(
        payment_order_id=payment_order_id,
        cancellation_reason=body.cancellation_reason,
        idempotency_key=idempotency_key,
        request_fingerprint=RequestCancel.fingerprint(body.cancellation_reason),
        requested_at=container.clock()(),
        caller_merchant_id=_settling_merchant(),
    )
    return _settled(command, "CancelsRequested")


handler = http_entry(api, logger=logger, metrics=metrics, callers=container.callers, domain_errors=DOMAIN_ERRORS)
