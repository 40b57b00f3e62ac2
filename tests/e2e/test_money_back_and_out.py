"""Money back and out on the local stack, step by step, each step checked against a hand calculation.

One merchant, in a currency no other payment of this stack uses (GBP), so its books are this test's alone:
authorize 100 → capture 60 (40 released) → settle → pay out 10 → refund 20 → refund 50 refused (40 left) →
refund 40 → a second payment disputed and lost. After each step: the payment's status, the wallet (balance,
pending, available, paid out), the ledger's merchant_payable, the PSP's clearing account net of Stripe's
processing fees and those fees (psp_fees), and a trial balance that balances. Stripe's processing and dispute
fees are the fake PSP's, as Stripe's balance transactions report them; our own fee is the fee rule the stack runs
with (contracts/fees.json).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from devstack.disputes import submit_evidence
from devstack.load import MERCHANTS, RETURN_URL, http
from devstack.moto_local import client
from devstack.stack import Devstack
from fake_psp import dispute_fee
from fake_psp.balance import card_fee

from payments_shared.money import Money

MERCHANT, CURRENCY = MERCHANTS[4], "GBP"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devstack]:
    running = Devstack(api_port=0, logs=tmp_path_factory.mktemp("logs") / "lambda.jsonl")
    yield running
    running.stop()


def gbp(amount: str) -> int:
    return Money.parse(amount, CURRENCY).minor


def eventually(read: Callable[[], Any], expected: Any, timeout_s: float = 60.0) -> Any:
    """What `read` answers once it equals `expected` (the consumers are eventually consistent), or its last."""
    deadline = time.monotonic() + timeout_s
    while True:
        seen = read()
        if seen == expected or time.monotonic() > deadline:
            return seen
        time.sleep(0.3)


class Books:
    """The figures a step is checked on: the merchant's GBP wallet and the ledger's GBP accounts."""

    def __init__(self, stack: Devstack) -> None:
        self.url, self.keys = stack.api.url, stack.keys

    def wallet(self) -> dict[str, int]:
        status, body = http("GET", f"{self.url}/wallets/{MERCHANT}", signer=self.keys.merchant(MERCHANT))
        rows = [b for b in body.get("balances", []) if b["currency"] == CURRENCY] if status == 200 else []
        if not rows:
            return {}
        [row] = rows
        figures = {"balance": row["amount_minor"]}
        figures.update({k: row[k]["amount_minor"] for k in ("pending", "available", "paid_out")})
        return figures

    def ledger(self) -> dict[str, int]:
        """Each GBP account's balance on its normal side (debit-normal psp_clearing and psp_fees, credit-normal the
        rest)."""
        status, trial = http("GET", f"{self.url}/ledger/trial-balance", signer=self.keys.operator)
        assert status == 200 and trial["balanced"] is True, trial
        accounts = {a["account"]: a for a in trial["accounts"] if a["currency"] == CURRENCY}
        debit_normal = {"psp_clearing", "psp_fees"}
        return {
            name: (a["debits_minor"] - a["credits_minor"]) * (1 if name in debit_normal else -1)
            for name, a in accounts.items()
        }

    def both(self) -> tuple[dict[str, int], dict[str, int]]:
        return self.wallet(), self.ledger()


def order_status(stack: Devstack, order_id: str, status: str) -> dict[str, Any]:
    def read() -> str:
        return http("GET", f"{stack.api.url}/payments/{order_id}", signer=stack.keys.merchant(MERCHANT))[1]["status"]

    assert eventually(read, status) == status
    return http("GET", f"{stack.api.url}/payments/{order_id}", signer=stack.keys.merchant(MERCHANT))[1]


def pay(stack: Devstack, key: str, amount: str, method: str, capture_method: str) -> str:
    body = {
        "merchant_id": MERCHANT,
        "amount": amount,
        "currency": CURRENCY,
        "buyer_info": {"name": "Ada Lovelace", "email": "ada@example.com", "country": "GB"},
        "payment_method": method,
        "capture_method": capture_method,
        "return_url": RETURN_URL,
    }
    signer = stack.keys.merchant(MERCHANT)
    status, placed = http("POST", f"{stack.api.url}/payments", body, {"Idempotency-Key": key}, signer=signer)
    assert status == 201, placed
    return str(placed["payment_order_id"])


def test_authorize_capture_pay_out_refund_and_lose_a_dispute_each_step_as_calculated(stack: Devstack) -> None:
    url, signer, books = stack.api.url, stack.keys.merchant(MERCHANT), Books(stack)

    def stripe_fee(amount: str) -> int:
        """Stripe's processing fee on a charge (the fake's card fee; GBP has the same decimals in Stripe's units)."""
        return card_fee(gbp(amount), stack.psp.card_fee_bps, stack.psp.card_fee_fixed)

    def after(payable: int, paid_out: int, clearing: int, fees: int, payouts: int, psp_fees: int) -> None:
        """The wallet once settled, and the ledger, as calculated by hand for this step."""
        expected_wallet = {"balance": payable, "pending": 0, "available": payable, "paid_out": paid_out}
        expected_ledger = {
            f"merchant_payable:{MERCHANT}": payable,
            "psp_clearing": clearing,
            "fee_revenue": fees,
            "payouts_clearing": payouts,
            "psp_fees": psp_fees,
        }
        expected = (expected_wallet, {k: v for k, v in expected_ledger.items() if v})
        seen = eventually(lambda: (books.wallet(), {k: v for k, v in books.ledger().items() if v}), expected)
        assert seen == expected

    # Authorize 100: nothing is booked while the card only holds it.
    order_id = pay(stack, "show-authorize-100", "100.00", "pm_card_visa", "manual")
    held = order_status(stack, order_id, "AUTHORIZED")
    assert held["amount_authorized"] == "100.00" and held["amount_captured"] is None
    [intent] = stack.psp.intents_with(payment_order_id=order_id)
    assert (intent["status"], intent["amount_capturable"]) == ("requires_capture", gbp("100.00"))
    assert books.wallet() == {} and not any(books.ledger().values())

    # Capture 60: 40 is released at the PSP; the books take 60, net of our fee, pending until it settles. Stripe
    # keeps its processing fee on the 60 captured: the PSP owes us 60 less that, an expense of the platform's.
    status, _ = http(
        "POST", f"{url}/payments/{order_id}/capture", {"amount": "60.00", "currency": CURRENCY},
        {"Idempotency-Key": "show-capture-60"}, signer=signer,
    )  # fmt: skip
    assert status == 202
    captured = order_status(stack, order_id, "SUCCESS")
    assert (captured["amount_captured"], captured["amount_authorized"]) == ("60.00", "100.00")
    [intent] = stack.psp.intents_with(payment_order_id=order_id)
    assert (intent["status"], intent["amount_received"]) == ("succeeded", gbp("60.00"))
    sixty = Money.parse("60.00", CURRENCY)
    net, fee = stack.fees.net(sixty).minor, sixty.minor - stack.fees.net(sixty).minor
    assert eventually(lambda: books.wallet().get("balance"), net) == net
    credited = books.wallet()
    assert credited["pending"] + credited["available"] == net  # pending until it settles, 3 s later locally
    f60 = stripe_fee("60.00")
    after(payable=net, paid_out=0, clearing=gbp("60.00") - f60, fees=fee, payouts=0, psp_fees=f60)

    # Pay out 10 of what is available; asking for more than is left is refused naming it.
    status, payout = http(
        "POST", f"{url}/payouts", {"currency": CURRENCY, "amount": "10.00"}, {"Idempotency-Key": "show-payout-10"},
        signer=signer,
    )  # fmt: skip
    assert status == 201 and payout["status"] == "PAID" and payout["amount"] == "10.00", payout
    status, refused = http(
        "POST", f"{url}/payouts", {"currency": CURRENCY, "amount": "1000.00"}, {"Idempotency-Key": "show-payout-1000"},
        signer=signer,
    )  # fmt: skip
    left = Money(net - gbp("10.00"), CURRENCY).to_decimal_string()
    assert status == 422 and left in refused["errors"][0]["reason"], refused
    after(
        payable=net - gbp("10.00"), paid_out=gbp("10.00"), clearing=gbp("60.00") - f60, fees=fee,
        payouts=gbp("10.00"), psp_fees=f60,
    )  # fmt: skip

    def refund(amount: str, key: str) -> tuple[int, dict[str, Any]]:
        body = {"amount": amount, "currency": CURRENCY}
        return http("POST", f"{url}/payments/{order_id}/refunds", body, {"Idempotency-Key": key}, signer=signer)

    # Refund 20 of the 60 captured (not of the 100 authorized).
    assert refund("20.00", "show-refund-20")[0] == 201
    assert eventually(lambda: order_status(stack, order_id, "PARTIALLY_REFUNDED")["amount_refunded"], "20.00") == (
        "20.00"
    )
    payable = net - gbp("10.00") - gbp("20.00")
    after(
        payable=payable, paid_out=gbp("10.00"), clearing=gbp("40.00") - f60, fees=fee, payouts=gbp("10.00"),
        psp_fees=f60,
    )  # fmt: skip

    # Refund 50: refused, 40 is left; nothing moves.
    status, problem = refund("50.00", "show-refund-50")
    assert status == 422 and problem["errors"] == [
        {"field": "body.amount", "reason": f"at most 40.00 {CURRENCY} is left to refund"}
    ], problem

    # Refund 40: the payment is refunded in full; the merchant now owes us what was paid out. Stripe keeps its
    # processing fee ("the fees from the original charge are not returned"): psp_clearing is short of it.
    assert refund("40.00", "show-refund-40")[0] == 201
    assert eventually(lambda: order_status(stack, order_id, "REFUNDED")["amount_refunded"], "60.00") == "60.00"
    refunded = order_status(stack, order_id, "REFUNDED")
    assert [r["status"] for r in refunded["refunds"]] == ["SUCCEEDED", "SUCCEEDED"]
    payable = net - gbp("10.00") - gbp("60.00")
    after(payable=payable, paid_out=gbp("10.00"), clearing=-f60, fees=fee, payouts=gbp("10.00"), psp_fees=f60)
    status, none_left = http(
        "POST", f"{url}/payouts", {"currency": CURRENCY}, {"Idempotency-Key": "show-payout-rest"}, signer=signer
    )
    assert status == 422, none_left  # a negative balance pays nothing out

    # A second payment, 50, disputed by the cardholder's bank (Stripe's dispute card): the PSP takes the amount
    # and its dispute fee; the merchant bears both. Lost: nothing comes back.
    disputed_id = pay(stack, "show-dispute-50", "50.00", "pm_card_createDispute", "automatic")
    [shown] = order_status(stack, disputed_id, "DISPUTED")["disputes"]
    assert (shown["amount"], shown["status"]) == ("50.00", "OPENED"), shown
    fifty = Money.parse("50.00", CURRENCY)
    net50, fee50, dispute = stack.fees.net(fifty).minor, fifty.minor - stack.fees.net(fifty).minor, dispute_fee("GBP")
    [intent] = stack.psp.intents_with(payment_order_id=disputed_id)
    [opened] = stack.psp.disputes_of(intent["id"])
    payable += net50 - gbp("50.00") - dispute
    fees, psp_fees = fee + fee50, f60 + stripe_fee("50.00")
    clearing = -dispute - psp_fees  # 50 charged and taken back with the dispute fee; Stripe kept both its fees
    after(payable=payable, paid_out=gbp("10.00"), clearing=clearing, fees=fees, payouts=gbp("10.00"), psp_fees=psp_fees)

    status, closed = submit_evidence(stack.psp, opened["id"], "losing_evidence")
    assert status == 200 and closed["status"] == "lost", closed

    def recorded() -> list[str]:
        items = client("dynamodb").query(
            TableName="finalizer-events",
            KeyConditionExpression="stream_id = :s",
            ExpressionAttributeValues={":s": {"S": f"dispute-{opened['id']}"}},
        )["Items"]
        return [i["event_type"]["S"] for i in items]

    assert eventually(recorded, ["DisputeOpened", "DisputeLost"]) == ["DisputeOpened", "DisputeLost"]
    [lost] = order_status(stack, disputed_id, "SUCCESS")["disputes"]  # closed: no longer DISPUTED
    assert lost["status"] == "LOST" and lost["fee"] == Money(dispute, CURRENCY).to_decimal_string(), lost
    after(payable=payable, paid_out=gbp("10.00"), clearing=clearing, fees=fees, payouts=gbp("10.00"), psp_fees=psp_fees)
