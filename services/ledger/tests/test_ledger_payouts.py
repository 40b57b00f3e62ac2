"""The wallet's payouts in the books: each PayoutPaid posts one entry (merchant_payable DEBIT, payouts_clearing
CREDIT) keyed by its payout id, once however often and under whichever event id it is told."""

from __future__ import annotations

from types import ModuleType

import pytest

from ledger.domain.journal import PAYOUTS_CLEARING, EntryType, Side, payout_entry
from ledger.domain.streams import entry_stream
from ledger.entrypoints import api, post
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.ids import PayoutId
from payments_shared.money import Money
from payments_testing.aws import LambdaContext
from payments_testing.events import deliver, payment_status_updated, payout_paid
from payments_testing.http import OPERATOR_1, api_event, json_body


def accounts(runtime: ModuleType) -> dict[str, tuple[int, int]]:
    response = api.handler(api_event("GET", "/ledger/trial-balance", caller=OPERATOR_1), LambdaContext())
    body = json_body(response)
    assert body["balanced"] is True
    return {a["account"]: (a["debits_minor"], a["credits_minor"]) for a in body["accounts"]}


def test_a_payout_entry_moves_the_payable_to_payouts_clearing() -> None:
    entry = payout_entry("m-1", Money(700, "EUR"))
    assert [(p.account, p.side, p.amount.minor) for p in entry.postings] == [
        ("merchant_payable:m-1", Side.DEBIT, 700),
        (PAYOUTS_CLEARING, Side.CREDIT, 700),
    ]


def test_a_payout_is_booked_once_per_payout_id(runtime: ModuleType, store: InMemoryEventStore) -> None:
    payout_id = PayoutId.for_idempotency_key("merchant-1", "k-1")
    paid = payout_paid(payout_id, amount_minor=600)
    again = payout_paid(payout_id, amount_minor=600)  # the same payout under another event id
    assert deliver(post.handler, payment_status_updated(amount="10.00"), paid, paid, again) == []
    books = accounts(runtime)
    assert books["merchant_payable:merchant-1"] == (600, 1000)  # 10.00 owed, 6.00 of it paid out
    assert books[PAYOUTS_CLEARING] == (0, 600)
    [posted] = store.load(entry_stream(EntryType.PAYOUT, "", payout_id)).events
    assert (posted.data["entry_type"], posted.data["entry_key"]) == ("payout", payout_id)
    assert entry_stream(EntryType.PAYOUT, "", payout_id) == f"journal-payout-{payout_id}"


@pytest.mark.parametrize("field", ["amount_minor", "payout_id", "merchant_id"])
def test_a_malformed_payout_raises_and_posts_nothing(
    runtime: ModuleType, store: InMemoryEventStore, field: str
) -> None:
    event = payout_paid()
    event["detail"]["data"][field] = -1 if field == "amount_minor" else "not an id!"
    assert deliver(post.handler, event) == [0]  # redelivered, then the DLQ
    assert PAYOUTS_CLEARING not in accounts(runtime)
