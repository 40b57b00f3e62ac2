"""The wallet's HTTP API: GET /wallets/{merchant_id} (balances as a merchant reads them) and POST /payouts."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Header, Path

from payments_shared.callers import current_caller
from payments_shared.eventstore import ConcurrencyConflict
from payments_shared.eventstore.repository import Cause
from payments_shared.ids import EventId, MerchantId, PayoutId
from payments_shared.lambda_entry.http import http_entry
from payments_shared.money import Money
from payments_shared.observability.metrics import MetricUnit, build_metrics
from payments_shared.problems import (
    BusyProblem,
    FieldProblem,
    Forbidden,
    InvalidRequest,
    KeyReusedProblem,
    NotFound,
    Unprocessable,
    amount_over,
)
from wallet.domain.errors import PayoutExceedsAvailable, PayoutKeyReused, WalletNotFound
from wallet.domain.payout import PayoutPaid
from wallet.http_models import PayoutOut, PayoutRequest
from wallet.runtime import SERVICE, container, logger

api = APIGatewayRestResolver(enable_validation=True)
metrics = build_metrics(SERVICE)


class WalletNotFoundProblem(NotFound):
    type = "urn:payments:problem:wallet-not-found"
    title = "Wallet not found"


class PayoutTooLargeProblem(Unprocessable):
    type = "urn:payments:problem:payout-exceeds-available"
    title = "The payout exceeds the available balance"


class PayoutsBusyProblem(BusyProblem):
    type = "urn:payments:problem:payouts-busy"
    title = "The merchant's payouts are being changed by other requests"


def _too_large(error: PayoutExceedsAvailable) -> PayoutTooLargeProblem:
    return amount_over(PayoutTooLargeProblem, str(error), error.available, "is available to pay out")


def _figure(minor: int, currency: str) -> dict[str, object]:
    return {"amount": Money(minor, currency).to_decimal_string(), "amount_minor": minor}


@api.get("/wallets/<merchant_id>")
def get_wallet(merchant_id: Annotated[MerchantId, Path()]) -> dict[str, object]:
    caller = current_caller()
    if not (caller.is_operator or caller.may_act_for(merchant_id)):
        raise Forbidden("A merchant reads its own wallet only")
    wallet = container.app().wallet(merchant_id)
    return {
        "merchant_id": merchant_id,
        # balance: what we owe (pending + available; the ledger's merchant_payable); available: what a payout
        # may move out now; paid_out: the payouts so far (wallet.domain.settlement).
        "balances": [
            {
                "currency": currency,
                **_figure(figures.balance, currency),
                "pending": _figure(figures.pending, currency),
                "available": _figure(figures.available, currency),
                "paid_out": _figure(figures.paid_out, currency),
            }
            for currency, figures in sorted(wallet["figures"].items())
        ],
        "version": wallet["version"],
    }


def _out(payout: PayoutPaid) -> PayoutOut:
    return PayoutOut(
        payout_id=payout.payout_id,
        merchant_id=payout.merchant_id,
        amount=Money(payout.amount_minor, payout.currency).to_decimal_string(),
        amount_minor=payout.amount_minor,
        currency=payout.currency,
        status="PAID",
        created=payout.created,
    )


@api.post(
    "/payouts",
    responses={201: {"description": "Payout made from the available balance; a retry with its key returns it"}},
)
def create_payout(
    body: PayoutRequest,
    # Required: without it a client retrying after a lost answer would pay out twice (400 names the header).
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="the caller's key for this payout: a retry with it returns the same payout",
        ),
    ],
) -> tuple[PayoutOut, int]:
    caller = current_caller()
    merchant_id = body.merchant_id or caller.merchant_id
    if merchant_id is None:
        raise InvalidRequest(
            "an operator names the merchant", [FieldProblem("body.merchant_id", "required for an operator")]
        )
    if not (caller.is_operator or caller.may_act_for(merchant_id)):
        raise Forbidden("A merchant pays out its own wallet only")
    payout_id = PayoutId.for_idempotency_key(merchant_id, idempotency_key)
    cause = Cause(str(EventId.derived("payout", payout_id)))
    payout, created = container.app().pay_out(merchant_id, body.currency, payout_id, body.money(), cause)
    if created:
        metrics.add_metric(name="PayoutsPaid", unit=MetricUnit.Count, value=1)
    logger.info("payout", extra={"merchant_id": merchant_id, "payout_id": payout_id, "replayed": not created})
    return _out(payout), 201


handler = http_entry(
    api,
    logger=logger,
    metrics=metrics,
    callers=container.callers,
    domain_errors={
        WalletNotFound: lambda error: WalletNotFoundProblem(str(error)),
        PayoutExceedsAvailable: _too_large,
        PayoutKeyReused: lambda error: KeyReusedProblem(str(error)),
        ConcurrencyConflict: lambda error: PayoutsBusyProblem.of("payouts"),
    },
)
