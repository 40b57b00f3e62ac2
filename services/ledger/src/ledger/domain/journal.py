"""A payment's journal as a decider, its entries that always balance, the fee rule and the trial balance.

Accounts (normal balance in brackets):
  psp_clearing               [debit]   money the PSP owes us for captured payments
  merchant_payable:<id>      [credit]  what we owe each merchant
  fee_revenue                [credit]  our fees
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from payments_shared.decider import Decider
from payments_shared.domain_events import DomainEvent, EventTypes
from payments_shared.money import Money

PSP_CLEARING = "psp_clearing"
FEE_REVENUE = "fee_revenue"


JOURNAL_ENTRY_POSTED = "JournalEntryPosted"


@dataclass(frozen=True)
class JournalEntryPosted(DomainEvent):
    event_type: ClassVar[str] = JOURNAL_ENTRY_POSTED
    payment_order_id: str
    source_event_id: str
    postings: list[Mapping[str, Any]]  # {account, side, amount_minor, currency}, balanced per currency


EVENTS = EventTypes(JournalEntryPosted)


def merchant_payable(merchant_id: str) -> str:
    return f"merchant_payable:{merchant_id}"


class Side(StrEnum):
    DEBIT = "DEBIT"
    CREDIT = "CREDIT"


class UnbalancedEntry(ValueError):
    pass


@dataclass(frozen=True)
class Posting:
    account: str
    side: Side
    amount: Money


@dataclass(frozen=True)
class JournalEntry:
    postings: tuple[Posting, ...]

    def posted(self, payment_order_id: str, source_event_id: str) -> JournalEntryPosted:
        """The event that books this entry, once, as the first event of the payment's journal stream."""
        return JournalEntryPosted(
            payment_order_id,
            source_event_id,
            [
                {
                    "account": p.account,
                    "side": p.side.value,
                    "amount_minor": p.amount.minor,
                    "currency": p.amount.currency,
                }
                for p in self.postings
            ],
        )

    def __post_init__(self) -> None:
        totals: dict[str, list[int]] = {}
        for posting in self.postings:
            if posting.amount.minor <= 0:
                raise UnbalancedEntry(f"posting to {posting.account} must be positive, got {posting.amount}")
            debit_credit = totals.setdefault(posting.amount.currency, [0, 0])
            debit_credit[0 if posting.side == Side.DEBIT else 1] += posting.amount.minor
        for currency, (debits, credits) in totals.items():
            if debits != credits:
                raise UnbalancedEntry(f"{currency}: debits {debits} != credits {credits}")
        if not self.postings:
            raise UnbalancedEntry("an entry needs postings")


@dataclass(frozen=True)
class FeeSchedule:
    """fee = round_half_even(amount * basis_points / 10000) + fixed, capped at the amount.

    Half-even rounding: over many payments, ties round up as often as down, so fees don't drift.
    """

    basis_points: int = 0
    fixed_minor: Mapping[str, int] | None = None

    def fee(self, amount: Money) -> Money:
        percentage = amount.scale(self.basis_points, 10_000)
        fixed = Money((self.fixed_minor or {}).get(amount.currency, 0), amount.currency)
        total = percentage + fixed
        return amount if amount < total else total


def capture_entry(merchant_id: str, amount: Money, fees: FeeSchedule) -> JournalEntry:
    """A captured payment: the PSP owes us the amount; we owe the merchant the amount less our fee."""
    fee = fees.fee(amount)
    postings = [Posting(PSP_CLEARING, Side.DEBIT, amount)]
    if (net := amount - fee).is_positive():
        postings.append(Posting(merchant_payable(merchant_id), Side.CREDIT, net))
    if fee.is_positive():
        postings.append(Posting(FEE_REVENUE, Side.CREDIT, fee))
    return JournalEntry(tuple(postings))


# -- the journal of one payment (stream `journal-<payment>`, ledger.domain.streams) as a decider

SUCCESS = "SUCCESS"  # the payment's status that books its capture; a FAILED payment books nothing


@dataclass(frozen=True)
class PostPayment:
    """Book a payment's outcome, told by the event `source_event_id`: a SUCCESS's capture entry, once."""

    payment_order_id: str
    merchant_id: str
    amount: Money
    status: str  # SUCCESS | FAILED
    source_event_id: str


@dataclass(frozen=True)
class Journal:
    """A payment's journal: the entry posted for it, or none yet."""

    posted: JournalEntryPosted | None = None


def decide(command: PostPayment, state: Journal, fees: FeeSchedule) -> Sequence[DomainEvent]:
    """The capture entry of a SUCCESS not posted yet; nothing for a FAILED payment or one already posted (the
    journal is the payment's own: another delivery, or another event telling of the same payment)."""
    if command.status != SUCCESS or state.posted is not None:
        return []
    entry = capture_entry(command.merchant_id, command.amount, fees)
    return [entry.posted(command.payment_order_id, command.source_event_id)]


def evolve(state: Journal, event: DomainEvent) -> Journal:
    if not isinstance(event, JournalEntryPosted):
        return state
    return Journal(posted=event)


def journal_decider(fees: FeeSchedule) -> Decider[Journal, PostPayment]:
    """The journal's decider under the ledger's fee schedule (configuration, so one decider per schedule)."""

    def decide_under_fees(command: PostPayment, state: Journal) -> Sequence[DomainEvent]:
        return decide(command, state, fees)

    return Decider(initial=Journal(), decide=decide_under_fees, evolve=evolve, events=EVENTS)


@dataclass(frozen=True)
class AccountBalance:
    account: str
    currency: str
    debits_minor: int
    credits_minor: int


@dataclass(frozen=True)
class TrialBalance:
    accounts: tuple[AccountBalance, ...]

    def totals(self) -> dict[str, tuple[int, int]]:
        result: dict[str, tuple[int, int]] = {}
        for row in self.accounts:
            debits, credits = result.get(row.currency, (0, 0))
            result[row.currency] = (debits + row.debits_minor, credits + row.credits_minor)
        return result

    def is_balanced(self) -> bool:
        return all(debits == credits for debits, credits in self.totals().values())

    @classmethod
    def of(cls, rows: Iterable[AccountBalance]) -> TrialBalance:
        return cls(tuple(sorted(rows, key=lambda r: (r.currency, r.account))))
