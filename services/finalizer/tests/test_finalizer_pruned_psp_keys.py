"""Stripe prunes idempotency keys once 24 hours old; DLQs keep letters 14 days. A letter redriven after its
first charge reached Stripe must not charge again: the finalizer looks the intent up by its metadata first.

Against the fake PSP (Stripe's pruning and its lagging Search API) through the real Stripe adapter, on one
clock the test moves for both the fake and the finalizer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fake_psp import FakePsp
from finalizer_testdata import APPROVED_CARD, CARDS, DECLINED_CARD, HANG_S, READ_TIMEOUT_S, Clock

from finalizer.adapters.memory_results import InMemoryPaymentResults
from finalizer.adapters.sealed_cards import SealedCardOpener
from finalizer.adapters.stripe_psp import StripePsp
from finalizer.app import FinalizerApp
from finalizer.domain.payment import ChargePayment, PaymentStatus
from finalizer.ports import PspOutcomeUnknown
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.ids import MerchantId, PaymentOrderId
from payments_shared.money import Money
from payments_shared.retry import RetryPolicy

INITIATED = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(INITIATED)


@pytest.fixture
def stripe(clock: Clock) -> Iterator[FakePsp]:
    psp = FakePsp(hang_seconds=HANG_S, clock=clock.epoch, raw_card_access=True).start()
    yield psp
    psp.stop()


def finalizer(stripe: FakePsp, clock: Clock) -> FinalizerApp:
    """The Stripe adapter without the SDK's own retries: one lost answer leaves the outcome unknown."""
    return FinalizerApp(
        InMemoryEventStore(),
        SealedCardOpener(lambda: CARDS),
        StripePsp(lambda: stripe.api_key, api_base=stripe.url, read_timeout_s=READ_TIMEOUT_S, max_network_retries=0),
        clock,
        InMemoryPaymentResults(),
        retry_policy=RetryPolicy(attempts=2, base_delay_s=0.0, max_delay_s=0.0),
    )


def charge_command(card: str = APPROVED_CARD) -> ChargePayment:
    order_id = PaymentOrderId.new()
    sealed = CARDS.seal(
        {"card_number": card, "expiry_month": 12, "expiry_year": 2031, "holder_name": "Ada Lovelace"}, order_id
    )
    return ChargePayment(order_id, MerchantId("m-1"), Money(1234, "EUR"), sealed, "corr", "evt-1", INITIATED)


def charged_then_lost(stripe: FakePsp, clock: Clock, app: FinalizerApp, command: ChargePayment) -> None:
    """The first delivery reaches Stripe, which charges; its answer is lost, so nothing is recorded."""
    clock.now = INITIATED + timedelta(minutes=1)
    stripe.script(command.payment_order_id, ["lost"])
    with pytest.raises(PspOutcomeUnknown):
        app.charge(command)
    assert stripe.intents[command.payment_order_id] == 1


@pytest.mark.parametrize(("card", "status"), [(APPROVED_CARD, "SUCCESS"), (DECLINED_CARD, "FAILED")])
def test_a_redrive_after_the_key_was_pruned_records_the_first_charge_and_makes_no_second(
    stripe: FakePsp, clock: Clock, card: str, status: str
) -> None:
    app, command = finalizer(stripe, clock), charge_command(card)
    charged_then_lost(stripe, clock, app, command)
    clock.now = INITIATED + timedelta(days=3)  # redriven from the DLQ: the key is long pruned
    done = app.charge(command)
    assert (done.status, done.charged_now) == (PaymentStatus(status), True)
    assert stripe.intents[command.payment_order_id] == 1 and stripe.searches == 1
    assert stripe.charges[command.payment_order_id] == (1 if status == "SUCCESS" else 0)


def test_without_the_lookup_the_pruned_key_would_charge_twice(stripe: FakePsp, clock: Clock) -> None:
    """The hazard the lookup closes is real on the fake: a pruned key makes a second PaymentIntent."""
    app, command = finalizer(stripe, clock), charge_command()
    charged_then_lost(stripe, clock, app, command)
    clock.now = INITIATED + timedelta(days=3)
    app.charge(replace(command, initiated_at=None))  # an event that says nothing of its age
    assert stripe.intents[command.payment_order_id] == 2 and stripe.charges[command.payment_order_id] == 2


def test_a_young_payment_is_not_searched_and_its_live_key_replays(stripe: FakePsp, clock: Clock) -> None:
    app, command = finalizer(stripe, clock), charge_command()
    charged_then_lost(stripe, clock, app, command)
    clock.now = INITIATED + timedelta(hours=22)
    assert app.charge(command).status == PaymentStatus.SUCCESS
    assert (stripe.searches, stripe.intents[command.payment_order_id]) == (0, 1)


def test_an_old_payment_charged_moments_ago_is_not_indexed_yet_and_its_key_replays(
    stripe: FakePsp, clock: Clock
) -> None:
    """The crash window between a charge and its record, for a letter redriven after 23 h: Search lags
    writes (not read-after-write) and finds nothing, but the key is minutes old and answers."""
    app, command = finalizer(stripe, clock), charge_command()
    clock.now = INITIATED + timedelta(hours=30)
    stripe.script(command.payment_order_id, ["lost"])
    with pytest.raises(PspOutcomeUnknown):
        app.charge(command)
    clock.now += timedelta(seconds=5)
    assert app.charge(command).status == PaymentStatus.SUCCESS
    assert stripe.searches == 2 and stripe.intents[command.payment_order_id] == 1
    assert stripe.charges[command.payment_order_id] == 1
