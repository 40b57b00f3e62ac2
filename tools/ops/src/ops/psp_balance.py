"""What the PSP says moved its balance: Stripe's balance transactions, listed through its official SDK (paged).

Each becomes a Movement of psp_clearing as our ledger would book it (docs.stripe.com/reports/reporting-categories):
a `charge` and a `refund_failure` (money back) add, a `refund` and a `dispute` take away, a `dispute_reversal`
gives back; a `payout` (type payout: Stripe paid its balance out to our bank, which the ledger books psp_payout) takes
away and a `payout_reversal` (type payout_failure: the bank returned it, psp_payout_failure) gives back. Stripe keeps
its processing fee from a charge (the transaction's `fee`, its `fee_details`; `net` is amount - fee), and our ledger
books that fee at psp_clearing apart from the gross (a credit in the capture entry since 2026-12-06, an older
payment's psp_fee entry before): so a charge is two movements, its gross `amount` and a `psp_fee` of -fee, and a
charge whose fee is missing is named as exactly that. Refunds carry no fee ("the fees from the original
charge are not returned", stripe.com/docs/refunds). A dispute withdrawal is booked with its dispute fee in one
entry: its figure is `net` (type `adjustment`). Other categories (Stripe's standalone fees) move nothing
psp_clearing books and are left out. A payout still on its way (Payout status pending or in_transit) is left out
too: Stripe books its transaction when the payout is made, the ledger when payout.paid (or payout.failed) says how
it went.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe

from ops.stores import Progress, no_progress

COMPARED = frozenset({"charge", "refund", "refund_failure", "dispute", "dispute_reversal", "payout", "payout_reversal"})
PSP_FEE = "psp_fee"  # the kind of the PSP's processing fee kept from a transaction (the ledger's entry type's name)


@dataclass(frozen=True)
class Movement:
    """One move of psp_clearing, by either side: kind (Stripe's reporting category), signed minor units."""

    kind: str
    amount_minor: int
    currency: str
    ref: str  # the ledger's entry key, or the PSP's source (ch_, re_, dp_, po_) and transaction id
    at: datetime


def movement(txn: dict[str, Any]) -> Movement | None:
    """A balance transaction as psp_clearing sees it; None for what our ledger does not book there."""
    kind = str(txn.get("reporting_category") or "")
    if kind not in COMPARED:
        return None
    figure = txn["net"] if txn.get("type") == "adjustment" else txn["amount"]
    return Movement(
        kind,
        int(figure),
        str(txn["currency"]).upper(),
        f"{txn.get('source')} {txn['id']}",
        datetime.fromtimestamp(int(txn["created"]), UTC),
    )


def movements(txn: dict[str, Any]) -> list[Movement]:
    """A balance transaction's moves of psp_clearing: its own, and the PSP's fee kept from it (but a dispute's,
    whose fee is in its net, as the ledger books it)."""
    found = movement(txn)
    if found is None:
        return []
    fee = int(txn.get("fee") or 0)
    if not fee or txn.get("type") == "adjustment":
        return [found]
    return [found, Movement(PSP_FEE, -fee, found.currency, found.ref, found.at)]


def balance_movements(
    api_key: str, *, api_base: str | None = None, page_size: int = 100, progress: Progress = no_progress
) -> list[Movement]:
    client = stripe.StripeClient(
        api_key,
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=(2, 20)),
        base_addresses={"api": api_base} if api_base else None,
    )
    on_the_way = {
        str(payout.id)
        for status in ("pending", "in_transit")
        for payout in client.v1.payouts.list(params={"status": status, "limit": page_size}).auto_paging_iter()
    }
    moved: list[Movement] = []
    seen = 0
    pages = client.v1.balance_transactions.list(params={"limit": page_size})
    for txn in pages.auto_paging_iter():
        seen += 1
        fields = txn.to_dict()
        if fields.get("type") == "payout" and fields.get("source") in on_the_way:
            continue  # booked by the ledger once paid or failed
        moved += movements(fields)
        progress(seen, seen)
    return moved
