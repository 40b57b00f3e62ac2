"""The ledger's HTTP API: GET /ledger/trial-balance (operators only)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from ledger.runtime import SERVICE, container, logger
from payments_shared.callers import require_operator
from payments_shared.lambda_entry.http import http_entry
from payments_shared.observability.metrics import build_metrics

api = APIGatewayRestResolver(enable_validation=True)


@api.get("/ledger/trial-balance")
def trial_balance() -> dict[str, object]:
    require_operator()  # the company's books: IAM admits operators only, and so does this check
    balance = container.app().trial_balance()
    return {
        "balanced": balance.is_balanced(),
        "totals": {c: {"debits_minor": d, "credits_minor": k} for c, (d, k) in balance.totals().items()},
        "accounts": [
            {
                "account": a.account,
                "currency": a.currency,
                "debits_minor": a.debits_minor,
                "credits_minor": a.credits_minor,
            }
            for a in balance.accounts
        ],
    }


handler = http_entry(api, logger=logger, metrics=build_metrics(SERVICE), callers=container.callers)
