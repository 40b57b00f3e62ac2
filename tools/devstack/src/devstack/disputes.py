"""Disputes in the local run: payments made with Stripe's dispute card (pm_card_createDispute) are disputed at
"Stripe" as soon as they succeed; the run then closes some of them as Stripe's test mode lets an integration do,
through the fake PSP's API: winning evidence (`uncategorized_text` winning_evidence: won, the amount comes back,
not the dispute fee) for a third, losing evidence (lost) for another third; the rest stay open. The books must
then hold each merchant's SUCCESS net of fees, less refunds, less each dispute's amount and fee, plus won amounts.
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fake_psp import FakePsp

from payments_shared.stripe_amounts import from_api_units

DISPUTE_KIND = "approve-dispute"
# What the run asks of each dispute: Stripe's test-mode evidence that decides it, or nothing (it stays open).
CLOSINGS = {"win": "winning_evidence", "lose": "losing_evidence", "keep-open": None}


@dataclass(frozen=True)
class DisputeFacts:
    merchant_id: str
    currency: str
    amount_minor: int
    fee_minor: int
    plan: str  # a CLOSINGS key


@dataclass
class Disputes:
    """Each dispute found at the PSP for a payment of ours, what the run did with it, and Stripe's answers that
    were not what the plan expected."""

    found: dict[str, DisputeFacts] = field(default_factory=dict)  # dispute id -> facts
    unexpected: list[str] = field(default_factory=list)

    def taken_minor(self) -> dict[tuple[str, str], int]:
        """What disputes took from each merchant, per currency: the amount and the fee of an open or lost one,
        the fee alone of a won one (Stripe gives back the amount, never the dispute fee)."""
        taken: Counter[tuple[str, str]] = Counter()
        for facts in self.found.values():
            kept = facts.fee_minor if facts.plan == "win" else facts.amount_minor + facts.fee_minor
            taken[(facts.merchant_id, facts.currency)] += kept
        return dict(taken)

    def plans(self) -> dict[str, int]:
        return dict(Counter(f.plan for f in self.found.values()))


def close_some(psp: FakePsp, final: dict[str, dict[str, Any]], seed: int, close: bool = True) -> Disputes:
    """Find the dispute of every SUCCESS payment at the PSP (by our order id in its intent's metadata) and close
    a third won and a third lost through POST /v1/disputes/{id}, as an integration in test mode would; with
    `close` False, only find them (all stay open: what a run that closes none must expect of the books)."""
    rng = random.Random(seed + 5)
    done = Disputes()
    for order_id, body in sorted(final.items()):
        if body.get("status") != "SUCCESS":
            continue
        for intent in psp.intents_with(payment_order_id=order_id):
            for dispute in psp.disputes_of(intent["id"]):
                plan = rng.choice(sorted(CLOSINGS)) if close else "keep-open"
                currency = str(dispute["currency"]).upper()
                fee = sum(t["fee"] for t in dispute["balance_transactions"] if t["amount"] < 0)
                done.found[dispute["id"]] = DisputeFacts(
                    body["merchant_id"],
                    currency,
                    from_api_units(int(dispute["amount"]), currency).minor,
                    from_api_units(int(fee), currency).minor,
                    plan,
                )
                evidence = CLOSINGS[plan]
                if evidence is None:
                    continue
                status, answer = submit_evidence(psp, dispute["id"], evidence)
                expected = "won" if plan == "win" else "lost"
                if status != 200 or answer.get("status") != expected:
                    done.unexpected.append(f"{dispute['id']} ({order_id}) {plan}: {status} {answer}")
    return done


def submit_evidence(psp: FakePsp, dispute_id: str, evidence: str) -> tuple[int, dict[str, Any]]:
    """POST /v1/disputes/{id} with Stripe's form encoding and the secret key."""
    data = urlencode({"evidence[uncategorized_text]": evidence, "submit": "true"}).encode()
    request = urllib.request.Request(
        f"{psp.url}/v1/disputes/{dispute_id}",
        data=data,
        method="POST",
        headers={
            "Authorization": f"Bearer {psp.api_key}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Idempotency-Key": f"close-{dispute_id}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
