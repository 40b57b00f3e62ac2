"""A SUCCESS's capture and the PSP's fee on it are posted in one write, each still once by its own stream: for any
deliveries (duplicates, interleaved payments, a capture posted alone before by code that wrote entries one at a
time, passing refusals) every entry is in the books exactly once and the books balance."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.adapters.memory_accounts import InMemoryAccountTotals
from ledger.app import LedgerApp
from ledger.domain.journal import EVENT_SCHEMAS, PSP_CLEARING, PSP_FEES, EntryType, PostEntry
from ledger.domain.streams import entry_stream
from payments_shared.eventstore import StoredEvent
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.repository import Cause
from payments_shared.fees import FeeSchedule
from payments_shared.money import Money
from payments_shared.retry import RetryPolicy

NO_PAUSE = RetryPolicy(attempts=3, base_delay_s=0.0, max_delay_s=0.0)
PAYMENTS = {"p-1": (1000, 59), "p-2": (2500, 103), "p-3": (700, 0)}  # amount, the PSP's fee (0: none known)


def entries(order: str) -> list[PostEntry]:
    amount, fee = PAYMENTS[order]
    capture = PostEntry(EntryType.CAPTURE, order, order, "m-1", Money(amount, "EUR"), f"e-{order}")
    psp_fee = PostEntry(EntryType.PSP_FEE, order, order, "m-1", Money(fee, "EUR"), f"e-{order}")
    return [capture, psp_fee] if fee else [capture]


@settings(max_examples=100, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(sorted(PAYMENTS)), st.sampled_from(["deliver", "capture-alone", "refused"])),
        min_size=1,
        max_size=12,
    )
)
def test_each_entry_is_booked_once_whatever_was_delivered_and_the_books_balance(steps: list[tuple[str, str]]) -> None:
    store = InMemoryEventStore(schemas=EVENT_SCHEMAS)
    stream: list[StoredEvent] = []
    store.subscribe(stream.append)
    app = LedgerApp(store, InMemoryAccountTotals(), FeeSchedule(), retry_policy=NO_PAUSE)
    delivered: set[str] = set()
    for order, how in steps:
        cause = Cause(order, f"e-{order}")
        if how == "capture-alone":  # posted by code that wrote one entry per transaction
            app.post(entries(order)[0], cause)
            continue
        if how == "refused":
            store.cancel_next("TransactionConflict")  # a passing refusal: retried
        posted = app.post_each(entries(order), cause)
        assert len(posted) <= len(entries(order))
        delivered.add(order)
    for event in stream:
        app.add_to_totals(event)

    for order in PAYMENTS:
        for entry in entries(order):
            events = store.load(entry_stream(entry.entry_type, entry.payment_order_id, entry.entry_key)).events
            posted_alone = entry.entry_type == EntryType.CAPTURE and (order, "capture-alone") in steps
            assert len(events) == (1 if order in delivered or posted_alone else 0)
    books = app.trial_balance()
    assert all(debits == credits for debits, credits in books.totals().values())
    accounts = {(a.account, a.currency): (a.debits_minor, a.credits_minor) for a in books.accounts}
    fees = sum(PAYMENTS[order][1] for order in delivered)
    captured = sum(PAYMENTS[o][0] for o in PAYMENTS if o in delivered or (o, "capture-alone") in steps)
    assert accounts.get((PSP_FEES, "EUR"), (0, 0)) == (fees, 0)
    assert accounts.get((PSP_CLEARING, "EUR"), (0, 0)) == (captured, fees)
