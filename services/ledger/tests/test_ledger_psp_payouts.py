"""The PSP's payouts of its balance to our bank in the books: a PspPayoutUpdated PAID posts bank DEBIT, psp_clearing
CREDIT keyed by Stripe's payout id, a FAILED one the reverse; each once however often and under whichever event id
it is told, in either order; neither touches a merchant's payable nor the wallet's payouts_clearing."""

from __future__ import annotations

from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.journal import (
    BANK,
    PAYOUTS_CLEARING,
    PSP_CLEARING,
    EntryType,
    Side,
    psp_payout_entry,
    psp_payout_failure_entry,
)
from ledger.domain.streams import entry_stream
from ledger.entrypoints import api, post
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.money import Money
from payments_testing.aws import LambdaContext
from payments_testing.events import deliver, payment_status_updated, psp_payout_updated
from payments_testing.http import OPERATOR_1, api_event, json_body


def accounts(runtime: ModuleType) -> dict[str, tuple[int, int]]:
    response = api.handler(api_event("GET", "/ledger/trial-balance", caller=OPERATOR_1), LambdaContext())
    body = json_body(response)
    assert body["balanced"] is True
    return {a["account"]: (a["debits_minor"], a["credits_minor"]) for a in body["accounts"]}


def test_a_psp_payout_moves_psp_clearing_to_the_bank_and_its_failure_back() -> None:
    paid, failed = psp_payout_entry(Money(700, "EUR")), psp_payout_failure_entry(Money(700, "EUR"))
    assert [(p.account, p.side, p.amount.minor) for p in paid.postings] == [
        (BANK, Side.DEBIT, 700),
        (PSP_CLEARING, Side.CREDIT, 700),
    ]
    assert [(p.account, p.side, p.amount.minor) for p in failed.postings] == [
        (PSP_CLEARING, Side.DEBIT, 700),
        (BANK, Side.CREDIT, 700),
    ]


@given(st.integers(min_value=1, max_value=10**12), st.sampled_from(["EUR", "JPY", "KWD"]))
def test_a_failed_payout_nets_to_nothing_in_every_account(amount: int, currency: str) -> None:
    moved: dict[str, int] = {}
    for entry in (psp_payout_entry(Money(amount, currency)), psp_payout_failure_entry(Money(amount, currency))):
        for p in entry.postings:
            moved[p.account] = moved.get(p.account, 0) + p.amount.minor * (1 if p.side == Side.DEBIT else -1)
    assert moved == {BANK: 0, PSP_CLEARING: 0}


def test_a_psp_payout_is_booked_once_per_payout_id_and_status(runtime: ModuleType, store: InMemoryEventStore) -> None:
    paid = psp_payout_updated("po_abc", "PAID", amount_minor=600)
    again = psp_payout_updated("po_abc", "PAID", amount_minor=600)  # the same payout under another event id
    failed = psp_payout_updated("po_abc", "FAILED", amount_minor=600)
    assert deliver(post.handler, payment_status_updated(amount="10.00"), paid, paid, again) == []
    books = accounts(runtime)
    assert books[BANK] == (600, 0)
    assert books[PSP_CLEARING] == (1000, 600)
    assert books["merchant_payable:merchant-1"][0] == 0 and PAYOUTS_CLEARING not in books  # the merchants' untouched
    assert deliver(post.handler, failed, failed, paid) == []
    books = accounts(runtime)
    assert books[BANK] == (600, 600) and books[PSP_CLEARING] == (1600, 600)
    [posted] = store.load(entry_stream(EntryType.PSP_PAYOUT, "", "po_abc")).events
    assert (posted.data["entry_type"], posted.data["entry_key"]) == ("psp_payout", "po_abc")
    assert entry_stream(EntryType.PSP_PAYOUT, "", "po_abc") == "journal-psp-payout-po_abc"
    assert entry_stream(EntryType.PSP_PAYOUT_FAILURE, "", "po_abc") == "journal-psp-payout-failure-po_abc"
    [back] = store.load(entry_stream(EntryType.PSP_PAYOUT_FAILURE, "", "po_abc")).events
    assert back.data["entry_type"] == "psp_payout_failure"


def test_a_failure_told_before_the_payout_books_both_once(runtime: ModuleType, store: InMemoryEventStore) -> None:
    failed, paid = psp_payout_updated("po_x", "FAILED", 250), psp_payout_updated("po_x", "PAID", 250)
    assert deliver(post.handler, failed, paid, failed) == []
    assert accounts(runtime)[BANK] == (250, 250)


@pytest.mark.parametrize(
    ("field", "value"), [("amount_minor", 0), ("payout_id", "tr_1"), ("status", "IN_TRANSIT"), ("currency", None)]
)
def test_a_malformed_psp_payout_raises_and_posts_nothing(
    runtime: ModuleType, store: InMemoryEventStore, field: str, value: object
) -> None:
    event = psp_payout_updated()
    event["detail"]["data"][field] = value
    assert deliver(post.handler, event) == [0]  # redelivered, then the DLQ
    assert BANK not in accounts(runtime)
