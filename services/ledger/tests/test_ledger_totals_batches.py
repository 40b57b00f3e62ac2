"""Property: the account totals, added a stream batch at a time, equal the sum of the journal's postings — each
entry once — whatever batches the stream delivers (overlapping, repeated, refused part-way and retried)."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.adapters.memory_accounts import InMemoryAccountTotals
from ledger.app import LedgerApp
from ledger.domain.journal import EVENT_SCHEMAS, EntryType, PostEntry
from payments_shared.eventstore import StoredEvent, StoreUnavailable
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.repository import Cause
from payments_shared.fees import FeeSchedule
from payments_shared.money import Money
from payments_shared.retry import RetryPolicy

NO_PAUSE = RetryPolicy(attempts=3, base_delay_s=0.0, max_delay_s=0.0)
FEES = FeeSchedule(290, {"EUR": 30, "JPY": 0})

payments = st.lists(
    st.tuples(st.sampled_from(["m-1", "m-2", "m-3"]), st.integers(50, 100_000), st.sampled_from(["EUR", "JPY"])),
    min_size=1,
    max_size=25,
)
# A delivery: a slice of the stream [start, start + length) and how many passing refusals DynamoDB answers first
# (as many as the retry policy's attempts: the batch fails and the stream delivers it again later).
deliveries = st.lists(st.tuples(st.integers(0, 24), st.integers(1, 25), st.integers(0, NO_PAUSE.attempts)), max_size=12)


def expected(stream: list[StoredEvent]) -> Counter[tuple[str, str, str]]:
    """Each entry's postings, once: (account, currency, side) -> minor units."""
    sums: Counter[tuple[str, str, str]] = Counter()
    for event in stream:
        for p in event.data["postings"]:
            sums[(p["account"], p["currency"], p["side"])] += p["amount_minor"]
    return sums


def totals(app: LedgerApp) -> Counter[tuple[str, str, str]]:
    found: Counter[tuple[str, str, str]] = Counter()
    for a in app.trial_balance().accounts:
        found[(a.account, a.currency, "DEBIT")] += a.debits_minor
        found[(a.account, a.currency, "CREDIT")] += a.credits_minor
    return +found  # zeros dropped


@settings(max_examples=150, deadline=None)
@given(payments, deliveries)
def test_totals_after_any_batches_equal_the_sum_of_postings_each_entry_once(
    paid: list[tuple[str, int, str]], batches: list[tuple[int, int, int]]
) -> None:
    store = InMemoryEventStore(schemas=EVENT_SCHEMAS)
    stream: list[StoredEvent] = []
    store.subscribe(stream.append)  # the journal's DynamoDB stream
    app = LedgerApp(store, InMemoryAccountTotals(), FEES, retry_policy=NO_PAUSE)
    for n, (merchant, minor, currency) in enumerate(paid):
        command = PostEntry(EntryType.CAPTURE, f"p-{n}", f"p-{n}", merchant, Money(minor, currency), f"e-{n}")
        app.post(command, Cause("c"))
    counted: set[str] = set()
    for start, length, refusals in batches:
        batch = stream[start : start + length]
        if batch:  # an empty batch writes nothing, so nothing could refuse it
            store.cancel_next(*["ThrottlingError"] * refusals)
        try:
            added = app.add_batch_to_totals(batch)
        except StoreUnavailable:
            assert refusals == NO_PAUSE.attempts  # refused on every attempt: nothing of it was written
            added = []
        else:
            assert set(added).isdisjoint(counted)  # never counted twice
            assert set(added) | counted >= {event.stream_id for event in batch}
        counted |= set(added)
        # At every point the totals are exactly the entries counted so far, and they balance.
        assert totals(app) == +expected([e for e in stream if e.stream_id in counted])
        assert app.trial_balance().is_balanced()
    app.add_batch_to_totals(stream)  # the stream catches up from its last checkpoint
    assert totals(app) == +expected(stream)


def test_a_batch_too_large_for_one_transaction_is_refused_by_fits_not_by_the_store() -> None:
    store = InMemoryEventStore(schemas=EVENT_SCHEMAS)
    stream: list[StoredEvent] = []
    store.subscribe(stream.append)
    app = LedgerApp(store, InMemoryAccountTotals(), FEES, retry_policy=NO_PAUSE)
    for n in range(60):  # 60 merchants: 60 markers and 62 rows
        app.post(PostEntry(EntryType.CAPTURE, f"p-{n}", f"p-{n}", f"m-{n}", Money(1000, "EUR"), f"e-{n}"), Cause("c"))
    assert app.totals_fit(stream[:30]) and not app.totals_fit(stream)
    with pytest.raises(ValueError, match="at most 100 items"):
        app.add_batch_to_totals(stream)
