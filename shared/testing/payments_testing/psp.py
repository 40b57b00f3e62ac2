"""Charges made at the PSP behind the finalizer's back (a second charge, a stray one), through Stripe's own SDK
against the fake PSP: what reconciliation must find."""

from __future__ import annotations

import stripe

APPROVED_CARD = "4242424242424242"


def charge_directly(
    api_base: str,
    api_key: str,
    payment_order_id: str,
    amount_minor: int,
    currency: str,
    *,
    card: str = APPROVED_CARD,
    idempotency_key: str | None = None,
) -> str:
    """The intent's status, or the decline code of a declined card."""
    client = stripe.StripeClient(api_key, base_addresses={"api": api_base}, max_network_retries=0)
    params = {
        "amount": amount_minor,
        "currency": currency.lower(),
        "confirm": True,
        "payment_method_types": ["card"],
        "payment_method_data": {"type": "card", "card": {"number": card, "exp_month": 12, "exp_year": 2031}},
        "metadata": {"payment_order_id": payment_order_id},
    }
    try:
        intent = client.v1.payment_intents.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key or f"direct-{payment_order_id}"},
        )
    except stripe.CardError as declined:
        return str(declined.code)
    return str(intent.status)
