"""The wallet's HTTP API: GET /wallets/{merchant_id}."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Path

from payments_shared.callers import current_caller
from payments_shared.ids import MerchantId
from payments_shared.lambda_entry.http import http_entry
from payments_shared.money import Money
from payments_shared.observability.metrics import build_metrics
from payments_shared.problems import Forbidden, NotFound
from wallet.domain.errors import WalletNotFound
from wallet.runtime import SERVICE, container, logger

api = APIGatewayRestResolver(enable_validation=True)


class WalletNotFoundProblem(NotFound):
    type = "urn:payments:problem:wallet-not-found"
    title = "Wallet not found"


@api.get("/wallets/<merchant_id>")
def get_wallet(merchant_id: Annotated[MerchantId, Path()]) -> dict[str, object]:
    caller = current_caller()
    if not (caller.is_operator or caller.may_act_for(merchant_id)):
        raise Forbidden("A merchant reads its own wallet only")
    wallet = container.app().balances(merchant_id)
    balances = sorted(wallet["balances"].items())
    return {
        "merchant_id": merchant_id,
        "balances": [
            {"currency": currency, "amount": Money(minor, currency).to_decimal_string(), "amount_minor": minor}
            for currency, minor in balances
        ],
        "version": wallet["version"],
    }


handler = http_entry(
    api,
    logger=logger,
    metrics=build_metrics(SERVICE),
    callers=container.callers,
    domain_errors={WalletNotFound: lambda error: WalletNotFoundProblem(str(error))},
)
