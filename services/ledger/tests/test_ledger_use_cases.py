"""The ledger's use cases with the in-memory adapters: posting each business event's entry (once), the totals
projection (once per entry), the trial balance."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ledger.adapters.memory_accounts import InMemoryAccountTotals
from ledger.app import LedgerApp
from ledger.domain.journal import (
    EVENT_SCHEMAS,
    FEE_REVENUE,
    JOURNAL_ENTRY_POSTED,
    PSP_CLEARING,
    EntryType,
    JournalEntryPosted,
    PostEntry,
)
from ledger.domain.streams import entry_stream, journal_stream
from payments_shared.eventstore import NewEvent, StoredEvent, StoreUnavailable
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.repository import Cause
from payments_shared.fees import FeeSchedule
from payments_shared.money import Money
from payments_shared.retry import RetryPolicy

FEES = FeeSchedule(290, {"EUR": 30})
NO_PAUSE = RetryPolicy(attempts=3, base_delay_s=0.0, max_delay_s=0.0)


@dataclass
class Ledger:
    store: InMemoryEventStore = field(default_factory=lambda: InMemoryEventStore(schemas=EVENT_SCHEMAS))
    totals: InMemoryAccountTotals = field(default_factory=InMemoryAccountTotals)
    stream: list[StoredEvent] = field(default_factory=list)  # the journal's DynamoDB stream, not yet projected

    def __post_init__(self) -> None:
        self.store.subscribe(self.stream.append)
        self.app = LedgerApp(self.store, self.totals, FEES, retry_policy=NO_PAUSE)

    def project(self) -> list[bool]:
        added = [self.app.add_to_totals(event) for event in self.stream]
        self.stream.clear()
        return added

    def accounts(self) -> dict[tuple[str, str], tuple[int, int]]:
        return {(a.account, a.currency): (a.debits_minor, a.credits_minor) for a in self.app.trial_balance().accounts}


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()


def payment(order: str = "p-1", amount: str = "10.00", event_id: str = "e-1", merchant: str = "m-1") -> PostEntry:
    return PostEntry(EntryType.CAPTURE, order, order, merchant, Money.parse(amount, "EUR"), event_id)


def refund(refund_id: str = "rf-1", amount: str = "4.00", event_id: str = "e-r1", reversal: bool = False) -> PostEntry:
    kind = EntryType.REFUND_REVERSAL if reversal else EntryType.REFUND
    return PostEntry(kind, refund_id, "p-1", "m-1", Money.parse(amount, "EUR"), event_id)


def cause(event_id: str = "e-1") -> Cause:
    return Cause(correlation_id="corr-1", causation_id=event_id)


def test_a_successful_payment_is_posted_to_its_own_journal(ledger: Ledger) -> None:
    posted = ledger.app.post(payment(), cause())
    assert isinstance(posted, JournalEntryPosted)
    assert [p["amount_minor"] for p in posted.postings] == [1000, 941, 59]
    [stored] = ledger.store.load(journal_stream("p-1")).events
    assert (stored.event_type, stored.version, stored.data) == ("JournalEntryPosted", 1, posted.data)
    assert (stored.correlation_id, stored.causation_id) == ("corr-1", "e-1")


def test_a_payment_is_posted_once_whatever_tells_of_it_again(ledger: Ledger) -> None:
    assert ledger.app.post(payment(), cause()) is not None
    assert ledger.app.post(payment(), cause()) is None  # redelivered
    assert ledger.app.post(payment(event_id="e-2"), cause("e-2")) is None  # another event, same payment
    assert len(ledger.store.load(journal_stream("p-1")).events) == 1


def test_each_refund_and_its_reversal_is_posted_once_to_its_own_journal(ledger: Ledger) -> None:
    ledger.app.post(payment(), cause())
    posted = ledger.app.post(refund(), cause("e-r1"))
    assert isinstance(posted, JournalEntryPosted)
    assert (posted.entry_type, posted.entry_key) == ("refund", "rf-1")
    assert [(p["account"], p["side"], p["amount_minor"]) for p in posted.postings] == [
        ("merchant_payable:m-1", "DEBIT", 400),
        (PSP_CLEARING, "CREDIT", 400),
    ]
    assert ledger.app.post(refund(), cause("e-r1")) is None  # redelivered
    assert ledger.app.post(refund(event_id="e-r2"), cause("e-r2")) is None  # another event, same refund
    assert ledger.app.post(refund("rf-2", "1.00", "e-r3"), cause("e-r3")) is not None  # another refund
    reversed_ = ledger.app.post(refund(event_id="e-v1", reversal=True), cause("e-v1"))
    assert reversed_ is not None and reversed_.entry_type == "refund_reversal"
    assert ledger.app.post(refund(event_id="e-v2", reversal=True), cause("e-v2")) is None
    streams = [
        journal_stream("p-1"),
        entry_stream(EntryType.REFUND, "p-1", "rf-1"),
        entry_stream(EntryType.REFUND, "p-1", "rf-2"),
        entry_stream(EntryType.REFUND_REVERSAL, "p-1", "rf-1"),
    ]
    assert [len(ledger.store.load(stream).events) for stream in streams] == [1, 1, 1, 1]
    assert ledger.project() == [True] * 4
    # The merchant bears the refunds (net 941 - 400 - 100 + 400), our fee stays ours.
    assert ledger.accounts() == {
        (PSP_CLEARING, "EUR"): (1400, 500),
        ("merchant_payable:m-1", "EUR"): (500, 1341),
        (FEE_REVENUE, "EUR"): (0, 59),
    }
    assert ledger.app.trial_balance().is_balanced()


def test_an_entry_stored_before_refunds_were_booked_loads_as_a_capture(ledger: Ledger) -> None:
    postings = [
        {"account": PSP_CLEARING, "side": "DEBIT", "amount_minor": 1000, "currency": "EUR"},
        {"account": "merchant_payable:m-1", "side": "CREDIT", "amount_minor": 1000, "currency": "EUR"},
    ]
    old = NewEvent(
        JOURNAL_ENTRY_POSTED, {"payment_order_id": "p-0", "source_event_id": "e-0", "postings": postings}, "c"
    )
    before = InMemoryEventStore()  # no upcasters: it writes version 1, as the code before refunds did
    before.subscribe(ledger.stream.append)
    before.append(journal_stream("p-0"), 0, [old])
    [stored] = ledger.stream
    assert stored.schema_version == 1
    upcast = EVENT_SCHEMAS.event(stored)
    assert (upcast.schema_version, upcast.data["entry_type"], upcast.data["entry_key"]) == (2, "capture", "p-0")
    assert ledger.project() == [True]  # the projection reads it in today's shape
    assert ledger.accounts()[("merchant_payable:m-1", "EUR")] == (0, 1000)


def test_a_refused_write_is_retried(ledger: Ledger) -> None:
    ledger.store.cancel_next("TransactionConflict", "ThrottlingError")
    assert ledger.app.post(payment(), cause()) is not None
    assert len(ledger.store.load(journal_stream("p-1")).events) == 1


def test_refusals_outlasting_the_retries_propagate_and_write_nothing(ledger: Ledger) -> None:
    ledger.store.cancel_next(*["ThrottlingError"] * NO_PAUSE.attempts)
    with pytest.raises(StoreUnavailable):
        ledger.app.post(payment(), cause())
    assert ledger.store.load(journal_stream("p-1")).events == []
    assert ledger.app.post(payment(), cause()) is not None  # the queue's redelivery


def test_the_totals_add_each_entry_once_and_balance(ledger: Ledger) -> None:
    ledger.app.post(payment("p-1", "10.00"), cause())
    ledger.app.post(payment("p-2", "1.00", merchant="m-2", event_id="e-2"), cause("e-2"))
    entries = list(ledger.stream)
    assert ledger.project() == [True, True]
    assert [ledger.app.add_to_totals(event) for event in entries] == [False, False]  # the stream redelivers
    assert ledger.accounts() == {
        (PSP_CLEARING, "EUR"): (1100, 0),
        ("merchant_payable:m-1", "EUR"): (0, 941),
        ("merchant_payable:m-2", "EUR"): (0, 67),
        (FEE_REVENUE, "EUR"): (0, 92),
    }
    balance = ledger.app.trial_balance()
    assert balance.is_balanced() and balance.totals() == {"EUR": (1100, 1100)}


def test_the_totals_ignore_what_is_no_entry(ledger: Ledger) -> None:
    ledger.app.post(payment(), cause())
    [entry] = ledger.stream
    other = StoredEvent(
        "journal-p-9", 1, entry.event_id, "SomethingElse", {}, entry.occurred_at, "corr-1", None, entry.trace
    )
    assert ledger.app.add_to_totals(other) is False
    assert ledger.accounts() == {}


def test_a_refused_totals_write_is_retried_and_counts_once(ledger: Ledger) -> None:
    ledger.app.post(payment(), cause())
    ledger.store.cancel_next("TransactionConflict")
    assert ledger.project() == [True]
    assert ledger.accounts()[(PSP_CLEARING, "EUR")] == (1000, 0)


def test_no_entry_no_accounts_and_the_empty_books_balance(ledger: Ledger) -> None:
    balance = ledger.app.trial_balance()
    assert balance.accounts == () and balance.is_balanced()
