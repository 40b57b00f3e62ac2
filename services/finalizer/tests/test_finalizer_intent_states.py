"""A PaymentIntent that stays `processing`, and one that ends `canceled`, through the handler and the fake PSP.

`processing` says nothing yet about the money: the finalizer records nothing, reports the record for redelivery,
and asks again on the next delivery, however many it takes (the queue parks it in the DLQ in the end); once
settled, approved or declined, it is recorded as an immediate answer is. A `canceled` intent moved no money and
never will: the payment is FAILED, with the intent as its reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from fake_psp import FakePsp
from finalizer_testdata import APPROVED_CARD, DECLINED_CARD, payment_initiated

from finalizer.adapters.memory_results import InMemoryPaymentResults
from finalizer.adapters.stripe_psp import StripePsp
from finalizer.entrypoints import charge
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.events import deliver

# Far above any answer of the fake on loopback: no request here is retried by the SDK, so counts are exact.
READ_TIMEOUT_S = 30.0


@pytest.fixture
def finalizer(runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp) -> Iterator[ModuleType]:
    runtime.container.psp.override(StripePsp(lambda: psp.api_key, api_base=psp.url, read_timeout_s=READ_TIMEOUT_S))
    yield runtime


def order_id_of(event: dict[str, Any]) -> str:
    return str(event["detail"]["data"]["payment_order_id"])


def recorded(store: InMemoryEventStore, event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(e.event_type, dict(e.data)) for e in store.load(f"payment-{order_id_of(event)}").events]


def only_intent(psp: FakePsp) -> dict[str, Any]:
    [intent_id] = psp._intents  # one PaymentIntent, whatever the deliveries
    return psp.intent(intent_id)


@pytest.mark.parametrize(("card", "status"), [(APPROVED_CARD, "SUCCESS"), (DECLINED_CARD, "FAILED")])
def test_an_intent_still_processing_when_looked_up_again_is_retried_until_it_settles(
    finalizer: ModuleType,
    store: InMemoryEventStore,
    results: InMemoryPaymentResults,
    psp: FakePsp,
    card: str,
    status: str,
) -> None:
    event = payment_initiated(card)
    key = order_id_of(event)
    psp.script(key, ["processing:2"])  # still `processing` on the first two look-ups
    for _ in range(2):
        assert deliver(charge.handler, event) == [0]  # reported: the queue redelivers
        assert recorded(store, event) == [] and results.all() == []
        assert only_intent(psp)["status"] == "processing" and psp.charges[key] == 0

    assert deliver(charge.handler, event) == []  # the third look-up finds it settled
    [(_, data)] = recorded(store, event)
    assert data["status"] == status and data["psp_reference"] == only_intent(psp)["id"]
    if status == "FAILED":  # as a decline answered at once is recorded
        assert data["decline_code"] == "insufficient_funds"
        assert data["error_message"] == "insufficient_funds: Your card has insufficient funds."
    assert psp.intents[key] == 1 and psp.charges[key] == (1 if status == "SUCCESS" else 0)
    assert psp.requests[key] == 3  # one create, then the same create replayed by each redelivery


def test_an_intent_that_never_settles_is_never_guessed(
    finalizer: ModuleType, store: InMemoryEventStore, results: InMemoryPaymentResults, psp: FakePsp
) -> None:
    event = payment_initiated()
    psp.script(order_id_of(event), ["processing:100"])
    for _ in range(5):  # the queue's receives before its DLQ
        assert deliver(charge.handler, event) == [0]
    assert recorded(store, event) == [] and results.all() == []
    assert psp.intents[order_id_of(event)] == 1 and only_intent(psp)["status"] == "processing"


@pytest.mark.parametrize("reason", ["requested_by_customer", "fraudulent", "duplicate"])
def test_a_canceled_intent_fails_the_payment_without_a_charge(
    finalizer: ModuleType, store: InMemoryEventStore, results: InMemoryPaymentResults, psp: FakePsp, reason: str
) -> None:
    event = payment_initiated()
    key = order_id_of(event)
    psp.script(key, [f"canceled:{reason}"])
    assert deliver(charge.handler, event) == []
    intent = only_intent(psp)
    assert (intent["status"], intent["cancellation_reason"], intent["amount_received"]) == ("canceled", reason, 0)
    assert isinstance(intent["canceled_at"], int) and psp.charges[key] == 0

    [(event_type, data)] = recorded(store, event)
    assert event_type == "PaymentFailed" and data["status"] == "FAILED"
    assert (data["decline_code"], data["psp_reference"]) == ("canceled", intent["id"])
    assert data["error_message"] == "canceled: the intent was canceled"
    row = results.result(key)
    assert row is not None and (row["payment_status"], row["psp_reference"]) == ("FAILED", intent["id"])

    assert deliver(charge.handler, event) == []  # a redelivery finds the decision and asks nobody
    assert psp.requests[key] == 1 and len(recorded(store, event)) == 1


def test_the_fake_refuses_a_cancellation_reason_stripe_does_not_have(psp: FakePsp) -> None:
    with pytest.raises(ValueError, match="cancellation_reason"):
        psp.script("any", ["canceled:because"])
