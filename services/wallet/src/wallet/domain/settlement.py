"""When captured money becomes the merchant's to pay out: balances as a merchant reads them.

Per currency a merchant's wallet reads as
- balance: what we owe it (the ledger's merchant_payable), pending + available;
- pending: captures' net not yet settled;
- available: settled credits less every debit (refunds, disputes, payouts: they take effect at once), what a
  payout may move out;
- paid_out: the sum of its payouts (already out of the balance).

A capture's net settles at its capture time plus the settlement delay (SETTLEMENT_DELAY_S), as Stripe's
balance does: "pending: Funds that aren't available in the balance yet", "available: Available funds that you
can … pay out" (the Balance object, docs.stripe.com/api/balance), each charge's net becoming available on its
balance transaction's `available_on` ("The date the transaction's net funds will become available"). Deployed
the delay is two days, Stripe's standard settlement for most countries (T+2; the figure is from Stripe's payout
documentation, docs.stripe.com/payouts, not quoted here): we hand a merchant only what the PSP has made ours.
The local run uses a few seconds.

Figures are computed on read from each shard's pending credits, bucketed by the moment they settle: a bucket
is the settlement moment rounded up to a granularity of a 48th of the delay (at least a second), so a shard
holds at most ~49 buckets per currency however many captures it takes (an hour's buckets for two days), and
a credit settles at most one granule late, never early.

A balance may go negative (a refund or a dispute of money already paid out): the merchant owes us that much,
later captures net it off as they settle, and no payout is made while available is zero or less.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Deployed default (Terraform sets SETTLEMENT_DELAY_S to it): Stripe's T+2.
DEFAULT_SETTLEMENT_DELAY_S = 2 * 24 * 3600
BUCKETS_PER_DELAY = 48


def granularity(delay_s: int) -> int:
    """Seconds a settlement bucket spans under this delay."""
    return max(1, delay_s // BUCKETS_PER_DELAY)


def settles_at(captured_at: datetime, delay_s: int) -> str:
    """The bucket a capture at `captured_at` settles in: capture time + delay, rounded up to the granularity,
    as an ISO-8601 UTC instant (its text sorts as its time)."""
    step = granularity(delay_s)
    moment = captured_at.astimezone(UTC).timestamp() + delay_s
    rounded = math.ceil(moment / step) * step
    return datetime.fromtimestamp(rounded, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def instant(moment: datetime) -> str:
    """A moment as the buckets name them."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unsettled(pending: Mapping[str, int], at: str) -> dict[str, int]:
    """The buckets still unsettled at `at` (those settling later): the settled ones need no remembering."""
    return {when: minor for when, minor in pending.items() if when > at}


@dataclass(frozen=True)
class Figures:
    """One currency of a merchant's wallet as it reads it (minor units)."""

    balance: int = 0
    pending: int = 0
    paid_out: int = 0

    @property
    def available(self) -> int:
        return self.balance - self.pending

    def __add__(self, other: Figures) -> Figures:
        return Figures(self.balance + other.balance, self.pending + other.pending, self.paid_out + other.paid_out)


def figures(rows: Iterable[Mapping[str, Any]], now: datetime) -> dict[str, Figures]:
    """Per currency, a merchant's figures at `now` from its WalletBalances rows (wallet shards and payouts):
    balances summed, pending the buckets not settled at `now`, paid out from the payout rows."""
    at = instant(now)
    totals: dict[str, Figures] = {}
    for row in rows:
        pending = row.get("pending") or {}
        paid_out = row.get("paid_out") or {}
        currencies = set(row["balances"]) | set(pending) | set(paid_out)
        for currency in currencies:
            waiting = sum(int(m) for m in unsettled(pending.get(currency) or {}, at).values())
            here = Figures(int(row["balances"].get(currency, 0)), waiting, int(paid_out.get(currency, 0)))
            totals[str(currency)] = totals.get(str(currency), Figures()) + here
    return totals
