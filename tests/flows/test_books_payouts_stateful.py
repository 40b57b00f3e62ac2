"""Payouts in the books: the refunds state machine (test_books_refunds_stateful) with time passing and merchants
paying themselves out.

Besides captures, refunds and reversals delivered in any order and any number of times, the clock moves (each
capture settles after the settlement delay) and a merchant asks for a payout of part of, all of, or more than its
available balance, or asks again under a key it used (a retry). A payout is decided by the wallet at once and
published as PayoutPaid, which reaches the ledger later, in any order, any number of times.

After every step, besides the refund machine's invariants (the PSP's fees among them: a payout moves nothing at
psp_clearing): each payout paid no more than the wallet showed
available just before, and exactly the amount asked (all available without one); a retry moved nothing; the
ledger posts each payout once; and each merchant's wallet equals the ledger's merchant_payable less the payouts
the ledger has not been told of yet (both equal the model: captures net of fees, less refunds, plus reversals,
less payouts); pending + available = balance in every wallet.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from flows.test_books_refunds_stateful import MERCHANTS, RefundBooks
from ledger.entrypoints.post import post_commands
from payments_shared.events import EventEnvelope
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.repository import Cause
from payments_shared.fees import from_env
from payments_shared.ids import PayoutId
from payments_shared.money import Money
from payments_testing.events import payout_paid
from wallet.adapters.memory_balances import InMemoryBalances
from wallet.app import WalletApp
from wallet.domain.errors import PayoutExceedsAvailable, WalletNotFound
from wallet.domain.settlement import Figures

CURRENCIES = ["EUR", "JPY", "KWD"]
DELAY_S = 100
T0 = datetime(2026, 12, 1, tzinfo=UTC)


class PayoutBooks(RefundBooks):
    @initialize(
        basis_points=st.integers(0, 1000), fixed=st.dictionaries(st.sampled_from(CURRENCIES), st.integers(0, 300))
    )
    def open_books(self, basis_points: int, fixed: dict[str, int]) -> None:
        super().open_books(basis_points, fixed)
        self.now = T0
        fees = from_env({"FEE_BASIS_POINTS": str(basis_points), "FEE_FIXED_MINOR": json.dumps(fixed)})
        self.wallet = WalletApp(
            InMemoryEventStore(),
            InMemoryBalances("Balances"),
            shards=3,
            fees=fees,
            settlement_delay_s=DELAY_S,
            clock=lambda: self.now,
        )
        self.payouts: dict[str, tuple[str, str, int]] = {}  # payout id -> merchant, currency, minor
        self.keys: list[tuple[str, str, str]] = []  # (merchant, currency, key) used so far

    # -- time and payouts
    @rule(seconds=st.integers(0, 3 * DELAY_S))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    def _figures(self, merchant: str, currency: str) -> Figures | None:
        try:
            return self.wallet.wallet(merchant)["figures"].get(currency, Figures())
        except WalletNotFound:
            return None

    @rule(
        merchant=st.sampled_from(MERCHANTS),
        currency=st.sampled_from(CURRENCIES),
        share=st.one_of(st.none(), st.integers(1, 150)),
    )
    def payout_asked(self, merchant: str, currency: str, share: int | None) -> None:
        """Part of (share < 100), all of, or more than (share > 100) what is available; None: all of it."""
        before = self._figures(merchant, currency)
        available = before.available if before else 0
        amount = None if share is None else Money(max(1, available * share // 100), currency)
        key = str(uuid.uuid4())
        payout_id = PayoutId.for_idempotency_key(merchant, key)
        try:
            payout, created = self.wallet.pay_out(merchant, currency, payout_id, amount, Cause(str(uuid.uuid4())))
        except WalletNotFound:
            assert before is None
            return
        except PayoutExceedsAvailable as refused:
            assert available <= 0 or (amount is not None and amount.minor > available)
            assert refused.available.minor == max(available, 0)
            event("payout refused")
            return
        assert created and 0 < payout.amount_minor <= available  # never more than was available
        assert payout.amount_minor == (available if amount is None else amount.minor)
        self.payouts[payout_id] = (merchant, currency, payout.amount_minor)
        event("payout paid")
        self.keys.append((merchant, currency, key))
        self.pending.append(payout_paid(payout_id, merchant, payout.amount_minor, currency))  # the relay's

    @precondition(lambda self: self.keys)
    @rule(pick=st.integers(0, 10**6))
    def payout_asked_again(self, pick: int) -> None:
        """A retry under a used key (the client lost the answer): the first payout, nothing moved."""
        merchant, currency, key = self.keys[pick % len(self.keys)]
        payout_id = PayoutId.for_idempotency_key(merchant, key)
        before = self._figures(merchant, currency)
        payout, created = self.wallet.pay_out(merchant, currency, payout_id, None, Cause(str(uuid.uuid4())))
        assert not created and payout.amount_minor == self.payouts[payout_id][2]
        assert self._figures(merchant, currency) == before

    def _deliver(self, event: dict[str, Any], *, ledger: bool, wallet: bool) -> None:
        envelope = EventEnvelope.from_eventbridge_event(event)
        if envelope.event_type != "PayoutPaid":
            super()._deliver(event, ledger=ledger, wallet=wallet)
            return
        if ledger:  # the wallet wrote it: only the ledger
            commands, cause = post_commands(envelope)
            for command in commands:
                self.ledger.post(command, cause)
                self.booked.add((command.entry_type.value, command.entry_key))

    # -- the model
    def _owed(self) -> dict[tuple[str, str], int]:
        booked = self.booked
        self.booked = {b for b in booked if b[0] != "payout"}
        try:
            owed = defaultdict(int, super()._owed())
        finally:
            self.booked = booked
        for entry_type, key in booked:
            if entry_type == "payout":
                merchant, currency, minor = self.payouts[key]
                owed[(merchant, currency)] -= minor
        return owed

    def _in_flight(self) -> dict[tuple[str, str], int]:
        """Payouts the wallet made that the ledger has not booked yet."""
        flying: dict[tuple[str, str], int] = defaultdict(int)
        for payout_id, (merchant, currency, minor) in self.payouts.items():
            if ("payout", payout_id) not in self.booked:
                flying[(merchant, currency)] += minor
        return flying

    @invariant()
    def each_wallet_equals_its_ledger_payable_net_of_fees(self) -> None:
        def nonzero(books: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
            return {key: minor for key, minor in books.items() if minor}

        payables, flying = defaultdict(int, self._payables()), self._in_flight()
        for key, minor in flying.items():
            payables[key] -= minor
        assert nonzero(self._wallets()) == nonzero(payables), (self._wallets(), payables)
        assert nonzero(self._owed()) == nonzero({k: v + flying.get(k, 0) for k, v in payables.items()})

    @invariant()
    def pending_and_available_make_the_balance(self) -> None:
        for merchant in MERCHANTS:
            for currency in CURRENCIES:
                shown = self._figures(merchant, currency)
                if shown is not None:
                    assert shown.pending + shown.available == shown.balance and shown.pending >= 0


PayoutBooks.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestPayoutBooks = PayoutBooks.TestCase
