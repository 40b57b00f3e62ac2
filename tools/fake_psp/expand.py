"""Stripe's `expand` on a PaymentIntent's answer, for the fields the fake can expand.

Rules modelled (docs.stripe.com/api/expanding_objects): "This parameter is available on all API requests, and
applies to the response of that request only"; "You can expand recursively by specifying nested fields after a
dot (.)", so `expand[]=latest_charge.balance_transaction` puts the Charge in `latest_charge` and, in it, its
balance transaction in `balance_transaction` (docs.stripe.com/expand/use-cases: "See the Stripe fee for a given
payment"). An expandable field that is null stays null. A field that cannot be expanded is a 400
invalid_request_error naming it. The answer stored under an idempotency key is the one given, as expanded then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# What the fake expands on a PaymentIntent (anything else is refused as not expandable).
EXPANDABLE = frozenset({"latest_charge", "latest_charge.balance_transaction"})


def requested(params: Mapping[str, Any]) -> list[str]:
    """The `expand` paths of a request, as the SDK sends them: expand[0]=a&expand[1]=b (or one expand=a)."""
    found = params.get("expand")
    if found is None:
        return []
    if isinstance(found, str):
        return [found]
    if isinstance(found, Mapping):
        return [str(found[k]) for k in sorted(found, key=lambda k: int(k) if str(k).isdigit() else 0)]
    return [str(p) for p in found]


def refusal(paths: list[str]) -> dict[str, Any] | None:
    """Stripe's 400 for a path it cannot expand on a PaymentIntent; None when every path is fine."""
    for path in paths:
        if path not in EXPANDABLE:
            return {
                "type": "invalid_request_error",
                "message": f"This property cannot be expanded ({path}).",
                "param": "expand",
            }
    return None


def expanded_intent(
    intent: Mapping[str, Any],
    paths: list[str],
    charge_of: Callable[[str], dict[str, Any] | None],
    transaction_of: Callable[[str], dict[str, Any] | None],
) -> dict[str, Any]:
    """A copy of `intent` with the requested fields in place of their ids (caller holds the fake's lock)."""
    shown = dict(intent)
    charge_id = intent.get("latest_charge")
    if not paths or not isinstance(charge_id, str):
        return shown
    charge = charge_of(charge_id)
    if charge is None:
        return shown
    charge = dict(charge)
    txn_id = charge.get("balance_transaction")
    if "latest_charge.balance_transaction" in paths and isinstance(txn_id, str):
        charge["balance_transaction"] = transaction_of(txn_id) or txn_id
    shown["latest_charge"] = charge
    return shown
