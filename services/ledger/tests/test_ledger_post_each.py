"""A SUCCESS's capture carries the PSP's fee since 2026-12-06; before, the code posted the capture and a psp_fee entry
in one write, each on its own stream. Across the upgrade, for any deliveries (duplicates, interleaved payments, events
the old code posted redelivered to the new, passing refusals) every payment is in the books exactly once, its fee
too, in whichever shape was posted first, and the books balance."""

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
    """Today's: the capture, carrying the PSP's fee when known."""
    amount, fee = PAYMENTS[order]
    psp_fee = Money(fee, "EUR") if fee else None
    return [PostEntry(EntryType.CAPTURE, order, order, "m-1", Money(amount, "EUR"), f"e-{order}", psp_fee=psp_fee)]


def old_entries(order: str) -> list[PostEntry]:
    """What the code before 2026-12-06 posted in one write: the capture and, apart, the PSP's fee."""
    amount, fee = PAYMENTS[order]
    capture = PostEntry(EntryType.CAPTURE, order, order, "m-1", Money(amount, "EUR"), f"e-{order}")
    psp_fee = PostEntry(EntryType.PSP_FEE, order, order, "m-1", Money(fee, "EUR"), f"e-{order}")
    return [capture, psp_fee] if fee else [capture]


@settings(max_examples=100, deadline=None)
@given(
    before=st.lists(st.sampled_from(sorted(PAYMENTS)), max_size=4),
    after=st.lists(
        st.tuples(st.sampled_from(sorted(PAYMENTS)), st.sampled_from(["deliver", "refused"])), min_size=1, max_size=12
    ),
)
def test_each_payment_is_booked_once_across_the_upgrade_and_the_books_balance(
    before: list[str], after: list[tuple[str, str]]
) -> None:
    store = InMemoryEventStore(schemas=EVENT_SCHEMAS)
    stream: list[StoredEvent] = []
    store.subscribe(stream.append)
    app = LedgerApp(store, InMemoryAccountTotals(), FeeSchedule(), retry_policy=NO_PAUSE)
    for order in before:  # deliveries (and redeliveries) the old code posted
        app.post_each(old_entries(order), Cause(order, f"e-{order}"))
    for order, how in after:  # the same events redelivered, and new ones, after the upgrade
        if how == "refused":
            store.cancel_next("TransactionConflict")  # a passing refusal: retried
        posted = app.post_each(entries(order), Cause(order, f"e-{order}"))
        assert posted == [] or order not in before  # an old capture's stream is taken: nothing doubles
    for event in stream:
        app.add_to_totals(event)

    delivered = set(before) | {order for order, _ in after}
    for order in PAYMENTS:
        capture, *fee = old_entries(order)
        [capture_stream, *fee_stream] = (entry_stream(e.entry_type, order, e.entry_key) for e in (capture, *fee))
        assert len(store.load(capture_stream).events) == (order in delivered)
        assert all(len(store.load(s).events) == (order in before) for s in fee_stream)  # only the old code's
    books = app.trial_balance()
    assert all(debits == credits for debits, credits in books.totals().values())
    accounts = {(a.account, a.currency): (a.debits_minor, a.credits_minor) for a in books.accounts}
    fees = sum(PAYMENTS[order][1] for order in delivered)
    captured = sum(PAYMENTS[order][0] for order in delivered)
    assert accounts.get((PSP_FEES, "EUR"), (0, 0)) == (fees, 0)
    assert accounts.get((PSP_CLEARING, "EUR"), (0, 0)) == (captured, fees)
