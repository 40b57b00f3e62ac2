"""What the PSP says was charged: Stripe's PaymentIntents, listed through its official SDK.

The same code reads Stripe in an AWS account and the fake PSP of the local stack (`--psp-api-base`). The
finalizer names each intent after its payment (metadata.payment_order_id, also the idempotency key).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import stripe

from ops.stores import Progress, no_progress

# The finalizer's own parameter: operators read the key where the function does, never from a flag.
SECRET_KEY_PARAMETER = "/payments/finalizer/stripe-secret-key"  # noqa: S105 - a parameter's name, not a secret


@dataclass(frozen=True)
class Charge:
    intent_id: str
    payment_order_id: str
    amount_minor: int
    currency: str
    created: int  # epoch seconds


def secret_key(ssm: Any, parameter: str = SECRET_KEY_PARAMETER) -> str:
    return str(ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"])


def succeeded_charges(
    api_key: str,
    *,
    api_base: str | None = None,
    since: int | None = None,
    page_size: int = 100,
    progress: Progress = no_progress,
) -> dict[str, list[Charge]]:
    """Succeeded PaymentIntents per payment order id (created at or after `since`, epoch seconds)."""
    client = stripe.StripeClient(
        api_key,
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=(2, 20)),
        base_addresses={"api": api_base} if api_base else None,
    )
    params: dict[str, Any] = {"limit": page_size, **({"created": {"gte": since}} if since else {})}
    charges: dict[str, list[Charge]] = defaultdict(list)
    seen = 0
    for intent in client.v1.payment_intents.list(params=params).auto_paging_iter():  # type: ignore[arg-type]
        seen += 1
        order_id = (intent.to_dict().get("metadata") or {}).get("payment_order_id")
        if intent.status == "succeeded" and order_id:
            charges[order_id].append(
                Charge(
                    intent.id,
                    order_id,
                    int(intent.amount_received or intent.amount),
                    str(intent.currency).upper(),
                    int(intent.created),
                )
            )
        progress(seen, seen)
    return dict(charges)
