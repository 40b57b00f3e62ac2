"""The Stripe adapter (official SDK) against the fake PSP, a Stripe subset: every test card, every fault."""

from __future__ import annotations

import io
import logging

import pytest
from fake_psp import TEST_CARDS, TEST_PAYMENT_METHODS, FakePsp, dispute_fee
from finalizer_testdata import READ_TIMEOUT_S, stripe_on

from finalizer.adapters import stripe_psp
from finalizer.adapters.stripe_psp import StripePsp
from finalizer.domain.payment import CardDetails, PaymentToken, PspDecision
from finalizer.domain.psp_views import DisputeStatus, DisputeView, RefundStatus
from finalizer.ports import PspOutcomeUnknown, PspRequestRefused
from payments_shared.ids import PaymentOrderId, RefundId
from payments_shared.money import Money

EUR_12_34 = Money(1234, "EUR")


def card(number: str) -> CardDetails:
    return CardDetails(number, 12, 2031, "Ada Lovelace")


# Stripe's documented answer per test card: (decision, decline code).
EXPECTED = {
    "4242424242424242": (PspDecision.APPROVED, None),
    "5555555555554444": (PspDecision.APPROVED, None),
    "378282246310005": (PspDecision.APPROVED, None),
    "4000056655665556": (PspDecision.APPROVED, None),
    "6011111111111117": (PspDecision.APPROVED, None),
    "4000000000000002": (PspDecision.DECLINED, "generic_decline"),
    "4000000000009995": (PspDecision.DECLINED, "insufficient_funds"),
    "4000000000000069": (PspDecision.DECLINED, "expired_card"),
    "4000000000000127": (PspDecision.DECLINED, "incorrect_cvc"),
    "4000000000000119": (PspDecision.DECLINED, "processing_error"),
    "4000002500003155": (PspDecision.REQUIRES_ACTION, None),  # 3-D Secure: the buyer authenticates first
    "4000000000005126": (PspDecision.APPROVED, None),  # charged; its refunds fail later
    "4000000000000259": (PspDecision.APPROVED, None),  # charged, then disputed
    "4111111111111111": (PspDecision.DECLINED, "test_mode_live_card"),  # not a Stripe test card
}


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_each_test_card_gets_stripes_documented_outcome(psp: FakePsp, number: str) -> None:
    key = PaymentOrderId.new()
    result = stripe_on(psp).charge(key, EUR_12_34, "merchant-1", card(number))
    decision, decline_code = EXPECTED[number]
    assert (result.decision, result.decline_code) == (decision, decline_code)
    assert result.psp_reference is not None and result.psp_reference.startswith("pi_")
    assert psp.intents[key] == 1 and psp.charges[key] == (1 if decision == PspDecision.APPROVED else 0)
    intent = psp.intent(result.psp_reference)
    assert (intent["amount"], intent["currency"], intent["metadata"]) == (
        1234,
        "eur",
        {"payment_order_id": key, "merchant_id": "merchant-1"},
    )
    if number == "4000002500003155":
        assert result.error_message is None and result.next_action is not None
        assert result.next_action.client_secret == intent["client_secret"]
    elif decision == PspDecision.DECLINED:
        documented = TEST_CARDS.get(number)
        assert result.error_message is not None and result.error_message.startswith(f"{decline_code}: ")
        assert documented is None or (documented.message or "") in result.error_message


def test_a_repeated_charge_replays_the_first_answer_without_a_second_intent(psp: FakePsp) -> None:
    key, adapter = PaymentOrderId.new(), stripe_on(psp)
    first = adapter.charge(key, EUR_12_34, "merchant-1", card("4242424242424242"))
    again = adapter.charge(key, EUR_12_34, "merchant-1", card("4242424242424242"))
    assert again == first and psp.requests[key] == 2 and psp.intents[key] == 1 and psp.charges[key] == 1


def test_a_declined_charge_replays_its_decline(psp: FakePsp) -> None:
    key, adapter = PaymentOrderId.new(), stripe_on(psp)
    first = adapter.charge(key, EUR_12_34, "merchant-1", card("4000000000000002"))
    assert adapter.charge(key, EUR_12_34, "merchant-1", card("4000000000000002")) == first
    assert psp.intents[key] == 1


def test_the_same_key_with_other_parameters_is_refused_not_charged(psp: FakePsp) -> None:
    key, adapter = PaymentOrderId.new(), stripe_on(psp)
    adapter.charge(key, EUR_12_34, "merchant-1", card("4242424242424242"))
    with pytest.raises(PspRequestRefused, match="IdempotencyError"):
        adapter.charge(key, Money(999, "EUR"), "merchant-1", card("4242424242424242"))
    assert psp.intents[key] == 1 and psp.charges[key] == 1


@pytest.mark.parametrize(
    ("script", "requests"),
    [(["503", "503"], 3), (["lost"], 2), (["timeout"], 2), (["lost", "lost"], 3), (["latency:50"], 1)],
)
def test_the_sdk_retries_passing_faults_with_the_same_key_and_charges_once(
    psp: FakePsp, script: list[str], requests: int
) -> None:
    key = PaymentOrderId.new()
    psp.script(key, script)
    result = stripe_on(psp).charge(key, EUR_12_34, "merchant-1", card("4242424242424242"))
    assert result.decision == PspDecision.APPROVED
    assert psp.requests[key] == requests and psp.intents[key] == 1 and psp.charges[key] == 1


@pytest.mark.parametrize("script", [["503"] * 3, ["timeout"] * 3, ["lost"] * 3])
def test_faults_beyond_the_retries_leave_the_outcome_unknown(psp: FakePsp, script: list[str]) -> None:
    key = PaymentOrderId.new()
    psp.script(key, script)
    with pytest.raises(PspOutcomeUnknown):
        stripe_on(psp).charge(key, EUR_12_34, "merchant-1", card("4242424242424242"))
    # Charged or not, asking again with the key (the queue's redelivery) settles it, once.
    assert stripe_on(psp).charge(key, EUR_12_34, "merchant-1", card("4242424242424242")).decision == "APPROVED"
    assert psp.intents[key] == 1 and psp.charges[key] == 1


def test_a_processing_intent_is_looked_up_once_more(psp: FakePsp) -> None:
    key = PaymentOrderId.new()
    psp.script(key, ["processing"])
    result = stripe_on(psp).charge(key, EUR_12_34, "merchant-1", card("4242424242424242"))
    assert result.decision == PspDecision.APPROVED and psp.charges[key] == 1


def test_a_wrong_api_key_is_a_refused_request_not_a_declined_payment(psp: FakePsp) -> None:
    adapter = StripePsp(lambda: "sk_test_wrong", api_base=psp.url, read_timeout_s=READ_TIMEOUT_S)
    with pytest.raises(PspRequestRefused, match="AuthenticationError"):
        adapter.charge(PaymentOrderId.new(), EUR_12_34, "merchant-1", card("4242424242424242"))
    assert sum(psp.intents.values()) == 0


def test_a_rotated_api_key_is_used_from_the_next_charge(psp: FakePsp) -> None:
    keys = iter(["sk_test_old", psp.api_key])
    adapter = StripePsp(lambda: next(keys), api_base=psp.url, read_timeout_s=READ_TIMEOUT_S)
    with pytest.raises(PspRequestRefused):
        adapter.charge(PaymentOrderId.new(), EUR_12_34, "merchant-1", card("4242424242424242"))
    result = adapter.charge(PaymentOrderId.new(), EUR_12_34, "merchant-1", card("4242424242424242"))
    assert result.decision == PspDecision.APPROVED


def test_the_sdk_never_logs_the_card_even_with_debug_logging(psp: FakePsp) -> None:
    captured, root = io.StringIO(), logging.getLogger()
    tap, level = logging.StreamHandler(captured), root.level
    root.addHandler(tap)
    root.setLevel(logging.DEBUG)
    try:
        stripe_on(psp).charge(PaymentOrderId.new(), EUR_12_34, "merchant-1", card("4242424242424242"))
    finally:
        root.removeHandler(tap)
        root.setLevel(level)
    assert "4242424242424242" not in captured.getvalue()
    assert psp.card_numbers_seen["4242424242424242"] == 1  # it did reach the PSP


def test_stripe_debug_console_logging_is_refused(monkeypatch: pytest.MonkeyPatch, psp: FakePsp) -> None:
    monkeypatch.setenv("STRIPE_LOG", "debug")
    with pytest.raises(ValueError, match="card numbers"):
        stripe_on(psp)


@pytest.mark.parametrize(
    ("money", "stripe_amount"),
    [(Money(500, "ISK"), 50_000), (Money(500, "JPY"), 500), (Money(5120, "KWD"), 5120), (Money(50, "EUR"), 50)],
)
def test_amounts_reach_stripe_in_its_own_units(psp: FakePsp, money: Money, stripe_amount: int) -> None:
    key = PaymentOrderId.new()
    result = stripe_on(psp).charge(key, money, "merchant-1", card("4242424242424242"))
    assert result.decision == PspDecision.APPROVED and result.psp_reference is not None
    intent = psp.intent(result.psp_reference)
    assert (intent["amount"], intent["currency"]) == (stripe_amount, money.currency.lower())


def test_an_amount_stripe_refuses_fails_the_payment_without_a_request(psp: FakePsp) -> None:
    key = PaymentOrderId.new()  # e.g. an order accepted before the amount rules: Stripe would refuse it each time
    result = stripe_on(psp).charge(key, Money(10, "EUR"), "merchant-1", card("4242424242424242"))
    assert (result.decision, result.decline_code, result.psp_reference) == (
        PspDecision.DECLINED,
        "amount_too_small",
        None,
    )
    assert result.error_message == "amount_too_small: Stripe's minimum charge in EUR is 0.50"
    assert psp.requests[key] == 0


def test_stripes_own_refusal_of_an_amount_fails_the_payment(psp: FakePsp, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stripe's rules may be stricter than ours (a minimum in the settlement currency, a rule changed since).
    monkeypatch.setattr(stripe_psp, "stripe_amount", lambda money: money.minor)
    key = PaymentOrderId.new()
    result = stripe_on(psp).charge(key, Money(10, "EUR"), "merchant-1", card("4242424242424242"))
    assert (result.decision, result.decline_code) == (PspDecision.DECLINED, "amount_too_small")
    assert psp.requests[key] == 1 and psp.intents[key] == 0


@pytest.mark.parametrize("token", sorted(TEST_PAYMENT_METHODS))
def test_each_test_payment_method_gets_its_cards_outcome_with_no_card_number_sent(psp: FakePsp, token: str) -> None:
    key = PaymentOrderId.new()
    seen = sum(psp.card_numbers_seen.values())
    result = stripe_on(psp).charge(key, EUR_12_34, "merchant-1", PaymentToken(token))
    assert (result.decision, result.decline_code) == EXPECTED[TEST_PAYMENT_METHODS[token]]
    assert result.psp_reference is not None and psp.intent(result.psp_reference)["payment_method"] == token
    assert sum(psp.card_numbers_seen.values()) == seen


def test_an_unknown_payment_method_is_a_refused_request(psp: FakePsp) -> None:
    with pytest.raises(PspRequestRefused, match="resource_missing"):
        stripe_on(psp).charge(PaymentOrderId.new(), EUR_12_34, "merchant-1", PaymentToken("pm_nobody"))


def test_a_card_number_is_refused_by_an_account_without_raw_card_access() -> None:
    strict = FakePsp().start()  # as every new Stripe account
    try:
        key = PaymentOrderId.new()
        with pytest.raises(PspRequestRefused, match="InvalidRequestError"):
            stripe_on(strict).charge(key, EUR_12_34, "merchant-1", card("4242424242424242"))
        assert strict.intents[key] == 0 and not strict.card_numbers_seen
        assert stripe_on(strict).charge(key, EUR_12_34, "merchant-1", PaymentToken("pm_card_visa")).decision == (
            PspDecision.APPROVED
        )
    finally:
        strict.stop()


# -- refunds


def charged(psp: FakePsp, token: str = "pm_card_visa") -> str:  # noqa: S107 - a Stripe test PaymentMethod
    result = stripe_on(psp).charge(PaymentOrderId.new(), EUR_12_34, "merchant-1", PaymentToken(token))
    assert result.decision == PspDecision.APPROVED and result.psp_reference is not None
    return result.psp_reference


def test_a_refund_is_made_once_per_key_with_our_ids_and_read_back_as_ours(psp: FakePsp) -> None:
    intent, refund_id = charged(psp), RefundId.for_idempotency_key("order", "k")
    metadata = {"refund_id": refund_id, "payment_order_id": "order"}
    adapter = stripe_on(psp)
    taken = adapter.refund(refund_id, intent, Money(500, "EUR"), "duplicate", metadata)
    assert taken.status == RefundStatus.SUCCEEDED and taken.psp_reference is not None
    assert adapter.refund(refund_id, intent, Money(500, "EUR"), "duplicate", metadata) == taken  # the key replays
    assert psp.refunds[refund_id] == 1
    assert (psp.refund(taken.psp_reference)["amount"], psp.refund(taken.psp_reference)["reason"]) == (500, "duplicate")
    assert adapter.retrieve_refund(taken.psp_reference).refund_id == refund_id
    assert adapter.find_refund(intent, refund_id) == taken
    assert adapter.find_refund(intent, RefundId.for_idempotency_key("order", "other")) is None


def test_stripes_refusal_of_a_refund_is_failed_with_its_code_and_message(psp: FakePsp) -> None:
    intent = charged(psp)
    refused = stripe_on(psp).refund("rf-big", intent, Money(1235, "EUR"), None, {"refund_id": "rf-big"})
    assert (refused.status, refused.psp_reference) == (RefundStatus.FAILED, None)
    assert refused.failure_reason == "amount_too_large: Refund amount (€12.35) is greater than charge amount (€12.34)"
    assert psp.requests["rf-big"] == 1  # a refusal is not retried


def test_stripes_refusal_of_a_refund_of_a_charged_back_payment_is_a_failed_refund(psp: FakePsp) -> None:
    # A refund that slips past the initializer's 409 (the dispute not recorded yet): Stripe answers charge_disputed
    # ("The charge you're attempting to refund has been charged back", docs.stripe.com/error-codes).
    intent = charged(psp, "pm_card_createDispute")
    refused = stripe_on(psp).refund("rf-disputed", intent, Money(100, "EUR"), None, {"refund_id": "rf-disputed"})
    assert (refused.status, refused.psp_reference) == (RefundStatus.FAILED, None)
    assert refused.failure_reason is not None and refused.failure_reason.startswith("charge_disputed: ")
    assert psp.requests["rf-disputed"] == 1 and sum(psp.refunds.values()) == 0


def test_a_refund_of_a_three_decimal_amount_stripe_cannot_take_fails_without_asking(psp: FakePsp) -> None:
    refused = stripe_on(psp).refund("rf-kwd", "pi_x", Money(1235, "KWD"), None, {"refund_id": "rf-kwd"})
    assert refused.status == RefundStatus.FAILED and psp.requests["rf-kwd"] == 0


@pytest.mark.parametrize("fault", ["503", "timeout", "lost"])
def test_a_refund_without_an_answer_is_an_unknown_outcome(psp: FakePsp, fault: str) -> None:
    intent = charged(psp)
    psp.script("rf-unknown", [fault] * 3)  # the SDK's first attempt and both retries
    with pytest.raises(PspOutcomeUnknown):
        stripe_on(psp).refund("rf-unknown", intent, Money(100, "EUR"), None, {"refund_id": "rf-unknown"})


def test_a_refund_with_a_key_stripe_refuses_is_a_refused_request_not_a_failed_refund(psp: FakePsp) -> None:
    intent = charged(psp)
    with pytest.raises(PspRequestRefused):
        StripePsp(lambda: "sk_test_revoked", api_base=psp.url).refund("rf-k", intent, Money(100, "EUR"), None, {})
    adapter = stripe_on(psp)
    adapter.refund("rf-reused", intent, Money(100, "EUR"), None, {"refund_id": "rf-reused"})
    with pytest.raises(PspRequestRefused):  # the same key with other parameters: Stripe's idempotency error
        adapter.refund("rf-reused", intent, Money(200, "EUR"), None, {"refund_id": "rf-reused"})


# -- disputes


def test_a_dispute_is_read_with_its_fee_and_our_order_id_and_its_close(psp: FakePsp) -> None:
    order_id = PaymentOrderId.new()
    result = stripe_on(psp).charge(order_id, EUR_12_34, "merchant-1", PaymentToken("pm_card_createDispute"))
    [dispute] = psp.disputes_of(str(result.psp_reference))
    adapter = stripe_on(psp)
    view = adapter.retrieve_dispute(dispute["id"])
    assert view == DisputeView(
        dispute["id"],
        result.psp_reference,
        1234,
        "EUR",
        dispute_fee("eur"),
        DisputeStatus.OPENED,
        "fraudulent",
        str(order_id),
    )
    psp._update_dispute(dispute["id"], None, {"evidence": {"uncategorized_text": "winning_evidence"}}, "req", False)
    won = adapter.retrieve_dispute(dispute["id"])
    assert won is not None and (won.status, won.fee_minor) == (DisputeStatus.WON, view.fee_minor)
    with pytest.raises(PspRequestRefused):
        adapter.retrieve_dispute("dp_nope")
