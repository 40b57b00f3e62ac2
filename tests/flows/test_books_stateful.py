"""Any interleaving of payment outcomes, duplicates and reordering keeps the books right.

A hypothesis state machine delivers PaymentStatusUpdated events to the ledger and the wallet (in-memory
adapters, the real apps) in any order, any number of times. After every step: the ledger balances per
currency and each merchant's payable equals the SUCCESS amounts the ledger has seen; each wallet equals
the sum of its merchant's SUCCESS amounts the wallet has seen, counted once.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ledger.adapters.memory_accounts import InMemoryAccountTotals
from ledger.app import LedgerApp
from ledger.domain.journal import FeeSchedule, merchant_payable
from payments_shared.events import EventEnvelope
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.money import Money
from payments_testing.events import payment_status_updated
from wallet.adapters.memory_balances import InMemoryBalances
from wallet.app import WalletApp
from wallet.domain.errors import WalletNotFound

MERCHANTS = ["m-1", "m-2", "m-3"]
CURRENCIES = ["EUR", "JPY", "KWD"]


class Books(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        ledger_store, wallet_store = InMemoryEventStore(), InMemoryEventStore()
        self.ledger = LedgerApp(ledger_store, InMemoryAccountTotals(ledger_store, "Accounts"), FeeSchedule())
        ledger_store.subscribe(self.ledger.add_to_totals)  # the stream that feeds the totals projection
        self.wallet = WalletApp(wallet_store, InMemoryBalances(wallet_store, "Balances"), shards=3)
        self.published: list[EventEnvelope] = []
        self.ledger_seen: set[str] = set()
        self.wallet_seen: set[str] = set()

    @rule(
        merchant=st.sampled_from(MERCHANTS),
        currency=st.sampled_from(CURRENCIES),
        minor=st.integers(1, 10**9),
        success=st.booleans(),
    )
    def finalizer_publishes(self, merchant: str, currency: str, minor: int, success: bool) -> None:
        amount = Money(minor, currency).to_decimal_string()
        event = payment_status_updated(merchant, amount, currency, "SUCCESS" if success else "FAILED")
        self.published.append(EventEnvelope.from_eventbridge_event(event))

    @precondition(lambda self: self.published)
    @rule(pick=st.integers(0, 10**6))
    def deliver_to_ledger(self, pick: int) -> None:
        envelope = self.published[pick % len(self.published)]  # any order, possibly again
        self.ledger.post_payment(envelope)
        self.ledger_seen.add(str(envelope.event_id))

    @precondition(lambda self: self.published)
    @rule(pick=st.integers(0, 10**6))
    def deliver_to_wallet(self, pick: int) -> None:
        envelope = self.published[pick % len(self.published)]
        self.wallet.credit(envelope)
        self.wallet_seen.add(str(envelope.event_id))

    def _success_totals(self, seen: set[str]) -> dict[tuple[str, str], int]:
        totals: dict[tuple[str, str], int] = defaultdict(int)
        for envelope in self.published:
            data: dict[str, Any] = envelope.data
            if str(envelope.event_id) in seen and data["status"] == "SUCCESS":
                totals[(data["merchant_id"], data["currency"])] += int(data["amount_minor"])
        return totals

    @invariant()
    def ledger_is_balanced_and_payables_match(self) -> None:
        balance = self.ledger.trial_balance()
        assert balance.is_balanced(), balance.totals()
        payables = {(a.account, a.currency): a.credits_minor - a.debits_minor for a in balance.accounts}
        for (merchant, currency), total in self._success_totals(self.ledger_seen).items():
            assert payables.get((merchant_payable(merchant), currency), 0) == total

    @invariant()
    def wallets_equal_their_success_totals(self) -> None:
        expected = self._success_totals(self.wallet_seen)
        for merchant in MERCHANTS:
            try:
                balances = self.wallet.balances(merchant)["balances"]  # summed over the wallet's shards
            except WalletNotFound:
                balances = {}
            assert balances == {c: t for (m, c), t in expected.items() if m == merchant}


Books.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestBooks = Books.TestCase
