"""One ledger, one truth: any sequence of captures, refunds, reversals, disputes and failures, delivered in any
order and any number of times, keeps each merchant's wallet equal to the ledger's merchant_payable, net of fees.

A hypothesis state machine opens the books under a random fee schedule (read as the ledger's and the wallet's
containers read it) and publishes the finalizer's events: payments (SUCCESS or FAILED, random merchants, currencies
and amounts, a SUCCESS with or without the PSP's processing fee), refunds of a captured payment (partial or full,
never above what is left of it; SUCCEEDED or FAILED), reversals of SUCCEEDED refunds, and disputes of a captured
payment (OPENED with the PSP's dispute fee, then WON or LOST). Each event waits for delivery and is delivered, in
any order, to the ledger's and the wallet's consumers (their entry points' commands, the real apps on in-memory
stores; the ledger's totals projection fed by its store's stream); a delivered event comes back to either consumer
again, or is published again under a new event id.

After every step: every journal entry balances; each business event (a capture, carrying the PSP's fee on it when
known and > 0, a refund, a reversal, a dispute, a dispute won) the ledger was told of is posted exactly once, and
nothing else is (no psp_fee entry of its own since 2026-12-06); the trial balance balances; psp_fees holds the PSP's
fees of the captures delivered, and psp_clearing what the PSP owes us for them (net of its fees, less refunds and
disputes' withdrawals, plus their reversals); and each merchant's wallet equals the ledger's merchant_payable for
that merchant and currency, and both equal the model: captures net of fees, less refunds, plus reversals, less
disputes' amounts and fees, plus won disputes' amounts (fees computed here with Decimal's half-even rounding).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ledger.adapters.memory_accounts import InMemoryAccountTotals
from ledger.app import LedgerApp
from ledger.domain.journal import EVENT_SCHEMAS, JOURNAL_ENTRY_POSTED, PSP_CLEARING, PSP_FEES
from ledger.entrypoints.post import post_commands
from payments_shared.events import EventEnvelope
from payments_shared.eventstore import StoredEvent
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.fees import from_env
from payments_shared.ids import PaymentOrderId, RefundId
from payments_shared.money import Money
from payments_testing.events import dispute_status_updated, payment_status_updated, refund_status_updated
from wallet.adapters.memory_balances import InMemoryBalances
from wallet.app import WalletApp
from wallet.domain.errors import WalletNotFound
from wallet.entrypoints.credit import credit_command, dispute_command, refund_command

MERCHANTS = ["m-1", "m-2"]
CURRENCIES = ["EUR", "JPY", "KWD"]
PAYABLE = "merchant_payable:"


@dataclass
class Payment:
    merchant: str
    currency: str
    minor: int
    succeeded: bool
    refundable: int  # what is left to refund: the captured amount less SUCCEEDED refunds not reversed
    psp_fee: int | None = None  # what the PSP kept of the charge, as the finalizer learned it (None: unknown)


@dataclass(frozen=True)
class RefundFacts:
    payment_order_id: str
    minor: int


@dataclass(frozen=True)
class DisputeFacts:
    payment_order_id: str
    minor: int
    fee: int


def fee_of(minor: int, basis_points: int, fixed: int) -> int:
    """The fee rule, stated independently: half-even rounding of the percentage, plus the fixed part, capped."""
    percentage = (Decimal(minor) * basis_points / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return min(minor, int(percentage) + fixed)


class RefundBooks(RuleBasedStateMachine):
    @initialize(
        basis_points=st.integers(0, 1000), fixed=st.dictionaries(st.sampled_from(CURRENCIES), st.integers(0, 300))
    )
    def open_books(self, basis_points: int, fixed: dict[str, int]) -> None:
        self.basis_points, self.fixed = basis_points, fixed
        # One configuration for both services, as Terraform sets it on both (contracts/fees.json).
        fees = from_env({"FEE_BASIS_POINTS": str(basis_points), "FEE_FIXED_MINOR": json.dumps(fixed)})
        self.ledger_store = InMemoryEventStore(schemas=EVENT_SCHEMAS)
        self.ledger = LedgerApp(self.ledger_store, InMemoryAccountTotals("Accounts"), fees)
        self.entries: list[StoredEvent] = []
        self.ledger_store.subscribe(self._projected)  # the journal's stream feeds the totals projection
        self.wallet = WalletApp(InMemoryEventStore(), InMemoryBalances("Balances"), shards=3, fees=fees)
        self.payments: dict[str, Payment] = {}
        self.refunds: dict[str, RefundFacts] = {}
        self.succeeded_refunds: list[str] = []  # SUCCEEDED, not reversed yet: may be REVERSED
        self.disputes: dict[str, DisputeFacts] = {}
        self.open_disputes: list[str] = []  # OPENED, not closed yet: may be WON or LOST
        self.pending: list[dict[str, Any]] = []  # published, not delivered yet
        self.delivered: list[dict[str, Any]] = []
        self.booked: set[tuple[str, str]] = set()  # business events delivered: (entry type, key)

    def _projected(self, stored: StoredEvent) -> None:
        self.entries.append(stored)
        assert self.ledger.add_to_totals(stored) is True
        assert self.ledger.add_to_totals(stored) is False  # the stream delivers it again: counted once

    # -- the finalizer publishes
    @rule(
        merchant=st.sampled_from(MERCHANTS),
        currency=st.sampled_from(CURRENCIES),
        minor=st.integers(1, 10**7),
        succeeded=st.booleans(),
        psp_fee=st.one_of(st.none(), st.integers(0, 5000)),
    )
    def payment_decided(self, merchant: str, currency: str, minor: int, succeeded: bool, psp_fee: int | None) -> None:
        order_id = PaymentOrderId.new()
        fee = psp_fee if succeeded else None  # only a charge that succeeded has a balance transaction
        self.payments[order_id] = Payment(merchant, currency, minor, succeeded, minor if succeeded else 0, fee)
        amount = Money(minor, currency).to_decimal_string()
        status = "SUCCESS" if succeeded else "FAILED"
        self.pending.append(
            payment_status_updated(merchant, amount, currency, status, order_id=order_id, psp_fee_minor=fee)
        )

    @precondition(lambda self: any(p.refundable for p in self.payments.values()))
    @rule(pick=st.integers(0, 10**6), share=st.integers(1, 100), full=st.booleans(), succeeded=st.booleans())
    def refund_answered(self, pick: int, share: int, full: bool, succeeded: bool) -> None:
        """A refund of a captured payment, partial or full, within what is left of it: taken or refused."""
        order_id = sorted(o for o, p in self.payments.items() if p.refundable)[pick % self._refundable()]
        payment = self.payments[order_id]
        minor = payment.refundable if full else max(1, payment.refundable * share // 100)
        refund_id = RefundId.for_idempotency_key(order_id, str(uuid.uuid4()))
        self.refunds[refund_id] = RefundFacts(order_id, minor)
        if succeeded:
            payment.refundable -= minor
            self.succeeded_refunds.append(refund_id)
        self.pending.append(self._refund_event(refund_id, "SUCCEEDED" if succeeded else "FAILED"))

    @precondition(lambda self: self.succeeded_refunds)
    @rule(pick=st.integers(0, 10**6))
    def refund_reversed(self, pick: int) -> None:
        """A SUCCEEDED refund failed at the card network: the money comes back (refundable again)."""
        refund_id = self.succeeded_refunds.pop(pick % len(self.succeeded_refunds))
        self.payments[self.refunds[refund_id].payment_order_id].refundable += self.refunds[refund_id].minor
        self.pending.append(self._refund_event(refund_id, "REVERSED"))

    @precondition(lambda self: any(p.succeeded for p in self.payments.values()))
    @rule(pick=st.integers(0, 10**6), share=st.integers(1, 100), fee=st.integers(0, 2000))
    def dispute_opened(self, pick: int, share: int, fee: int) -> None:
        """The cardholder's bank disputes (part of) a captured payment: the PSP takes the amount and its fee."""
        captured = sorted(o for o, p in self.payments.items() if p.succeeded)
        order_id = captured[pick % len(captured)]
        minor = max(1, self.payments[order_id].minor * share // 100)
        dispute_id = f"dp_{uuid.uuid4().hex}"
        self.disputes[dispute_id] = DisputeFacts(order_id, minor, fee)
        self.open_disputes.append(dispute_id)
        self.pending.append(self._dispute_event(dispute_id, "OPENED"))

    @precondition(lambda self: self.open_disputes)
    @rule(pick=st.integers(0, 10**6), won=st.booleans())
    def dispute_closed(self, pick: int, won: bool) -> None:
        """The bank decides: WON gives the amount back (not the fee), LOST moves nothing more."""
        dispute_id = self.open_disputes.pop(pick % len(self.open_disputes))
        self.pending.append(self._dispute_event(dispute_id, "WON" if won else "LOST"))

    def _dispute_event(self, dispute_id: str, status: str) -> dict[str, Any]:
        facts = self.disputes[dispute_id]
        payment = self.payments[facts.payment_order_id]
        return dispute_status_updated(
            facts.payment_order_id, dispute_id, status, payment.merchant, facts.minor, facts.fee, payment.currency
        )

    def _refundable(self) -> int:
        return sum(1 for p in self.payments.values() if p.refundable)

    def _refund_event(self, refund_id: str, status: str) -> dict[str, Any]:
        facts = self.refunds[refund_id]
        payment = self.payments[facts.payment_order_id]
        amount = Money(facts.minor, payment.currency).to_decimal_string()
        return refund_status_updated(
            facts.payment_order_id, refund_id, status, payment.merchant, amount, payment.currency
        )

    # -- the queues deliver, in any order, at least once
    @precondition(lambda self: self.pending)
    @rule(pick=st.integers(0, 10**6))
    def delivered_to_both(self, pick: int) -> None:
        event = self.pending.pop(pick % len(self.pending))
        self._deliver(event, ledger=True, wallet=True)
        self.delivered.append(event)

    @precondition(lambda self: self.delivered)
    @rule(pick=st.integers(0, 10**6), to_ledger=st.booleans(), new_event_id=st.booleans())
    def delivered_again(self, pick: int, to_ledger: bool, new_event_id: bool) -> None:
        """A redelivery to one consumer, or the same business event published again under a new event id."""
        event = self.delivered[pick % len(self.delivered)]
        if new_event_id:
            event = {**event, "detail": {**event["detail"], "event_id": str(uuid.uuid4())}}
        self._deliver(event, ledger=to_ledger, wallet=not to_ledger)

    def _deliver(self, event: dict[str, Any], *, ledger: bool, wallet: bool) -> None:
        envelope = EventEnvelope.from_eventbridge_event(event)
        if ledger:
            commands, cause = post_commands(envelope)
            for command in commands:
                self.ledger.post(command, cause)
                self.booked.add((command.entry_type.value, command.entry_key))
        if wallet:
            if envelope.event_type == "DisputeStatusUpdated":
                if (dispute := dispute_command(envelope)) is not None:
                    self.wallet.dispute(*dispute)
            elif envelope.event_type == "RefundStatusUpdated":
                if (refund := refund_command(envelope)) is not None:
                    self.wallet.refund(*refund)
            elif (credit := credit_command(envelope)) is not None:
                self.wallet.credit(*credit)

    # -- the model: what each merchant is owed for the business events delivered
    def _owed(self) -> dict[tuple[str, str], int]:
        owed: dict[tuple[str, str], int] = defaultdict(int)
        for entry_type, key in self.booked:
            if entry_type == "capture":  # the platform pays the PSP's fee on it: the merchant is owed as much
                p = self.payments[key]
                owed[(p.merchant, p.currency)] += p.minor - fee_of(
                    p.minor, self.basis_points, self.fixed.get(p.currency, 0)
                )
            elif entry_type in ("dispute", "dispute_won"):
                d = self.disputes[key]
                p = self.payments[d.payment_order_id]
                owed[(p.merchant, p.currency)] += -(d.minor + d.fee) if entry_type == "dispute" else d.minor
            else:
                p = self.payments[self.refunds[key].payment_order_id]
                owed[(p.merchant, p.currency)] += self.refunds[key].minor * (-1 if entry_type == "refund" else 1)
        return owed

    def _psp_owes(self) -> tuple[dict[str, int], dict[str, int]]:
        """The model's psp_clearing (debit-normal) and psp_fees per currency, for the business events delivered."""
        clearing: dict[str, int] = defaultdict(int)
        fees: dict[str, int] = defaultdict(int)
        for entry_type, key in self.booked:
            if entry_type == "capture":  # the PSP keeps its fee of it: it owes us the net
                p = self.payments[key]
                moved = p.minor - (p.psp_fee or 0)
                fees[p.currency] += p.psp_fee or 0
            elif entry_type in ("dispute", "dispute_won"):
                d = self.disputes[key]
                p = self.payments[d.payment_order_id]
                moved = -(d.minor + d.fee) if entry_type == "dispute" else d.minor
            elif entry_type in ("refund", "refund_reversal"):
                p = self.payments[self.refunds[key].payment_order_id]
                moved = self.refunds[key].minor * (-1 if entry_type == "refund" else 1)
            else:
                continue  # a payout moves what we owe a merchant, not what the PSP owes us
            clearing[p.currency] += moved
        return clearing, fees

    def _payables(self) -> dict[tuple[str, str], int]:
        return {
            (a.account.removeprefix(PAYABLE), a.currency): a.credits_minor - a.debits_minor
            for a in self.ledger.trial_balance().accounts
            if a.account.startswith(PAYABLE)
        }

    def _wallets(self) -> dict[tuple[str, str], int]:
        wallets: dict[tuple[str, str], int] = {}
        for merchant in MERCHANTS:
            try:
                balances = self.wallet.balances(merchant)["balances"]  # summed over the wallet's shards
            except WalletNotFound:
                continue
            wallets.update({(merchant, currency): minor for currency, minor in balances.items()})
        return wallets

    # -- after every step
    @invariant()
    def every_entry_balances(self) -> None:
        for stored in self.entries:
            assert stored.event_type == JOURNAL_ENTRY_POSTED
            sides: dict[tuple[str, str], int] = Counter()
            for posting in stored.data["postings"]:
                assert posting["amount_minor"] > 0
                sides[(posting["currency"], posting["side"])] += posting["amount_minor"]
            for currency in {c for c, _ in sides}:
                assert sides[(currency, "DEBIT")] == sides[(currency, "CREDIT")], stored

    @invariant()
    def each_business_event_is_posted_exactly_once(self) -> None:
        posted = Counter((e.data["entry_type"], e.data["entry_key"]) for e in self.entries)
        assert set(posted.values()) <= {1}, posted
        assert set(posted) == self.booked

    @invariant()
    def the_trial_balance_balances(self) -> None:
        assert self.ledger.trial_balance().is_balanced()

    @invariant()
    def the_psp_keeps_its_fees_of_what_it_owes_us(self) -> None:
        for stored in self.entries:  # a capture carries the fee only when known and more than nothing
            assert stored.data["entry_type"] != "psp_fee"
            fee = [p["amount_minor"] for p in stored.data["postings"] if p["account"] == PSP_FEES]
            if stored.data["entry_type"] == "capture":
                known = self.payments[stored.data["entry_key"]].psp_fee
                assert fee == ([known] if known else []), stored
            else:
                assert fee == [], stored
        accounts = {(a.account, a.currency): a for a in self.ledger.trial_balance().accounts}
        clearing, fees = self._psp_owes()
        for currency in CURRENCIES:
            at_psp, expense = accounts.get((PSP_CLEARING, currency)), accounts.get((PSP_FEES, currency))
            assert (at_psp.debits_minor - at_psp.credits_minor if at_psp else 0) == clearing.get(currency, 0)
            assert (expense.debits_minor - expense.credits_minor if expense else 0) == fees.get(currency, 0)

    @invariant()
    def each_wallet_equals_its_ledger_payable_net_of_fees(self) -> None:
        def nonzero(books: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
            return {key: minor for key, minor in books.items() if minor}

        wallets, payables = nonzero(self._wallets()), nonzero(self._payables())
        assert wallets == payables, (wallets, payables)
        assert payables == nonzero(self._owed())


RefundBooks.TestCase.settings = settings(max_examples=80, stateful_step_count=40, deadline=None)
TestRefundBooks = RefundBooks.TestCase
