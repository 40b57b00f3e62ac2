"""Merchants refund some of their successful payments through the local API, as a merchant's back end would:
part of a payment, the rest of it, or more than is left — which the API must refuse (422), naming what is left.
Then every refund is followed until the PSP's answer shows on the payment."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from devstack.load import Sent, captured, http, http_retrying
from devstack.sigv4 import Keyring
from payments_shared.money import Money

# What a merchant does with a successful payment it refunds: the API's answers each step must get.
PLANS = {
    "partial": ["part"],
    "full": ["rest"],
    "partial-then-rest": ["part", "rest"],
    "over": ["part", "too-much", "rest"],  # asks for the whole amount after a part: refused, then the rest
}


@dataclass
class Refunds:
    """What was asked and answered; `unexpected` lists every answer the plan did not expect."""

    asked: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    refund_ids: dict[str, list[str]] = field(default_factory=dict)  # payment order id -> its refunds
    unexpected: list[str] = field(default_factory=list)
    final: dict[str, dict[str, Any]] = field(default_factory=dict)  # payment order id -> GET once refunds settled
    fail_later: set[str] = field(default_factory=set)  # payments whose refunds the card network fails later

    def refunded_minor(self) -> dict[tuple[str, str], int]:
        """What the PSP took back, per merchant and currency: SUCCEEDED refunds (a REVERSED one came back)."""
        taken: Counter[tuple[str, str]] = Counter()
        for body in self.final.values():
            for refund in body.get("refunds", []):
                if refund["status"] == "SUCCEEDED":
                    taken[(body["merchant_id"], body["currency"])] += Money.parse(
                        refund["amount"], refund["currency"]
                    ).minor
        return dict(taken)

    def statuses(self) -> dict[str, int]:
        return dict(Counter(r["status"] for body in self.final.values() for r in body.get("refunds", [])))

    def pending(self) -> list[str]:
        """Refunds still without the PSP's answer (or its later failure) once the run is over: lost on the way."""
        return [
            r["refund_id"]
            for order_id, body in self.final.items()
            for r in body.get("refunds", [])
            if r["status"] == "PENDING" or (order_id in self.fail_later and r["status"] == "SUCCEEDED")
        ]


def refund_some(
    api_url: str, keys: Keyring, sent: list[Sent], final: dict[str, dict[str, Any]], seed: int, share: float = 0.25
) -> Refunds:
    """Refund `share` of the SUCCESS payments, and every one paid with the card whose refunds fail later (so
    some refunds are REVERSED), each by one of PLANS, every POST under its own Idempotency-Key."""
    rng = random.Random(seed + 3)
    always = {s.body["payment_order_id"] for s in sent if s.kind == "approve-refund-fails" and s.status == 201}
    # A disputed charge is not refundable at Stripe (Dispute.is_charge_refundable): those are left to disputes.
    disputed = {s.body["payment_order_id"] for s in sent if s.kind == "approve-dispute" and s.status == 201}
    done = Refunds(fail_later=always)
    for order_id, body in sorted(final.items()):
        drawn = rng.random() < share
        if body.get("status") != "SUCCESS" or order_id in disputed or not (drawn or order_id in always):
            continue
        # An over-ask is refused only while the part before it holds: not where refunds may fail meanwhile.
        plan = rng.choice(sorted(set(PLANS) - {"over"} if order_id in always else PLANS))
        done.asked[plan] += 1
        signer = keys.merchant(body["merchant_id"])
        amount = captured(body)
        part = Money(rng.randint(1, amount.minor - 1), amount.currency)
        for step, action in enumerate(PLANS[plan]):
            request: dict[str, Any] = {}
            if action in ("part", "too-much"):
                asked = part if action == "part" else amount
                request = {"amount": asked.to_decimal_string(), "currency": asked.currency}
            url = f"{api_url}/payments/{order_id}/refunds"
            key = {"Idempotency-Key": f"refund-{seed}-{order_id}-{step}"}
            status, answer = http_retrying("POST", url, request, key, signer=signer)
            done.answers[str(status)] += 1
            expected = 422 if action == "too-much" else 201
            if status != expected:
                done.unexpected.append(f"{order_id} {plan}/{action}: {status} {answer}")
            elif status == 201:
                done.refund_ids.setdefault(order_id, []).append(answer["refund_id"])
            elif "left to refund" not in str(answer.get("errors")):
                done.unexpected.append(f"{order_id} {plan}/{action}: a refusal not naming what is left: {answer}")
    return done


def settle_refunds(
    api_url: str, keys: Keyring, refunds: Refunds, final: dict[str, dict[str, Any]], timeout_s: float
) -> None:
    """Poll each refunded payment, as its merchant, until none of its refunds awaits the PSP's answer (nor, for
    the card whose refunds fail later, that failure)."""
    owners = {order_id: body["merchant_id"] for order_id, body in final.items()}
    pending = set(refunds.refund_ids)
    deadline = time.monotonic() + timeout_s
    while pending:
        for order_id in sorted(pending):
            status, body = http("GET", f"{api_url}/payments/{order_id}", signer=keys.merchant(owners[order_id]))
            if status != 200:  # a throttled or failed read: asked again next round, never taken as settled
                continue
            refunds.final[order_id] = body
            waiting = ("PENDING", "SUCCEEDED") if order_id in refunds.fail_later else ("PENDING",)
            if all(r["status"] not in waiting for r in body.get("refunds", [])):
                pending.discard(order_id)
        if not pending or time.monotonic() > deadline:
            return
        time.sleep(0.2)
