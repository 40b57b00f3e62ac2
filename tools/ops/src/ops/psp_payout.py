"""Pay the PSP's available balance in one currency out to our bank: what Stripe's automatic daily payouts do
(docs.stripe.com/payouts: "Stripe pays out your available balance" on the account's schedule), as an operator's
command for accounts on manual payouts and for the local run.

Stripe refuses a payout above the available balance (balance_insufficient), so the amount is what GET /v1/balance
shows available at the time. The payout's idempotency key names that balance (the currency, the amount and the
newest balance transaction): two runs racing on the same balance make one payout, and a run after it finds nothing
left. How it went arrives later by webhook (payout.paid or payout.failed), which the finalizer records and the
ledger books (bank and psp_clearing).
"""

from __future__ import annotations

from dataclasses import dataclass

import stripe

from payments_shared import stripe_amounts


@dataclass(frozen=True)
class PspPayout:
    payout_id: str
    amount_minor: int  # our minor units
    currency: str  # ISO, upper case
    status: str  # Stripe's: pending until it reaches the bank
    arrival_date: int


def pay_out_available(api_key: str, currency: str, *, api_base: str | None = None) -> PspPayout | None:
    """One payout of everything available in `currency`; None when nothing is."""
    client = stripe.StripeClient(
        api_key,
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=(2, 20)),
        base_addresses={"api": api_base} if api_base else None,
    )
    lower = currency.lower()
    balance = client.v1.balance.retrieve()
    available = sum(int(funds.amount) for funds in balance.available if funds.currency == lower)
    if available <= 0:
        return None
    newest = client.v1.balance_transactions.list(params={"limit": 1}).data
    key = f"psp-payout-{lower}-{available}-{newest[0].id if newest else 'none'}"
    payout = client.v1.payouts.create(
        params={"amount": available, "currency": lower, "metadata": {"initiated_by": "payments-ops psp-payout"}},
        options={"idempotency_key": key},
    )
    upper = str(payout.currency).upper()
    return PspPayout(
        payout_id=str(payout.id),
        amount_minor=stripe_amounts.from_api_units(int(payout.amount), upper).minor,
        currency=upper,
        status=str(payout.status),
        arrival_date=int(payout.arrival_date),
    )
