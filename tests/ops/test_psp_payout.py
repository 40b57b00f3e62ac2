"""payments-ops psp-payout against the fake PSP (through Stripe's SDK): it pays out exactly what the balance has
available in the currency, the payout's balance transaction is what reconcile's ledger/psp pair then compares, and a
run with nothing available makes no payout."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_psp import FakePsp
from fake_psp.balance import card_fee
from ops.psp_balance import balance_movements
from ops.psp_payout import pay_out_available

from payments_testing.psp import charge_directly

NOW = 1_800_000_000.0


@pytest.fixture
def psp() -> Iterator[FakePsp]:
    clock = [NOW]
    running = FakePsp(raw_card_access=True, clock=lambda: clock[0], settlement_delay_s=60, pay_payouts_after_s=None)
    running.test_clock = clock  # type: ignore[attr-defined]
    yield running.start()
    running.stop()


def test_the_available_balance_is_paid_out_once_and_nothing_pending_is(psp: FakePsp) -> None:
    charge_directly(psp.url, psp.api_key, "p-1", 1000, "EUR", idempotency_key="p-1")
    assert pay_out_available(psp.api_key, "EUR", api_base=psp.url) is None  # all of it pending
    psp.test_clock[0] += 60  # type: ignore[attr-defined]
    charge_directly(psp.url, psp.api_key, "p-2", 500, "EUR", idempotency_key="p-2")  # pending: not paid out
    made = pay_out_available(psp.api_key, "eur", api_base=psp.url)
    assert made is not None
    net = 1000 - card_fee(1000, 290, 30)
    assert (made.amount_minor, made.currency, made.status) == (net, "EUR", "pending")
    assert psp.balance()["eur"] == {"available": 0, "pending": 500 - card_fee(500, 290, 30)}
    assert pay_out_available(psp.api_key, "EUR", api_base=psp.url) is None  # nothing left to pay out
    psp.test_clock[0] = made.arrival_date  # type: ignore[attr-defined]  # paid: ledger/psp now compares it
    moved = balance_movements(psp.api_key, api_base=psp.url)
    assert [(m.kind, m.amount_minor, m.ref.split()[0]) for m in moved if m.kind == "payout"] == [
        ("payout", -net, made.payout_id)
    ]


def test_a_currency_the_balance_has_nothing_in_pays_out_nothing(psp: FakePsp) -> None:
    assert pay_out_available(psp.api_key, "USD", api_base=psp.url) is None
    assert psp.balance() == {}
