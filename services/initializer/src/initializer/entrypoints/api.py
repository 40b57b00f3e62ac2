"""The initializer's HTTP API: POST /payments, GET /payments/{payment_order_id}."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Header, Path

from initializer.domain.commands import BuyerInfo, CardEntry, InitiatePayment
from initializer.domain.errors import IdempotencyKeyReused, PaymentNotFound
from initializer.domain.order import OrderStatus, PaymentOrder
from initializer.http_models import CardOut, NextActionOut, PaymentOut, PaymentRequest
from initializer.runtime import SERVICE, container, logger
from payments_shared.callers import current_caller, require_merchant
from payments_shared.ids import PaymentOrderId
from payments_shared.lambda_entry.http import http_entry
from payments_shared.observability.metrics import MetricUnit, build_metrics
from payments_shared.problems import FieldProblem, Forbidden, InvalidRequest, NotFound, Unprocessable

api = APIGatewayRestResolver(enable_validation=True)
metrics = build_metrics(SERVICE)


class KeyReusedProblem(Unprocessable):
    type = "urn:payments:problem:idempotency-key-reused"
    title = "Idempotency-Key already used for a different request"


class PaymentNotFoundProblem(NotFound):
    type = "urn:payments:problem:payment-not-found"
    title = "Payment order not found"


RAW_CARDS_OFF = (
    "this deployment's Stripe account has no raw card data access: send payment_method, a PaymentMethod the "
    "buyer's browser made with Stripe.js"
)

DOMAIN_ERRORS = {
    IdempotencyKeyReused: lambda error: KeyReusedProblem(str(error)),
    PaymentNotFound: lambda error: PaymentNotFoundProblem(str(error)),
}


def _out(order: PaymentOrder) -> PaymentOut:
    return PaymentOut(
        payment_order_id=order.payment_order_id,
        merchant_id=order.merchant_id,
        status=order.status,
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
    )


handler = http_entry(api, logger=logger, metrics=metrics, callers=container.callers, domain_errors=DOMAIN_ERRORS)
