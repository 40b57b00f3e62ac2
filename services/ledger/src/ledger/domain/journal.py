"""The journal of each business event as a decider, its entries that always balance, and the trial balance.

Entries, each booked once by the business event that caused it (EntryType):
  capture          psp_clearing DEBIT amount; merchant_payable CREDIT amount - fee; fee_revenue CREDIT fee; and,
                   when the PSP's fee is known and > 0, psp_fees DEBIT it and psp_clearing CREDIT it (what Stripe
                   keeps of a charge, its balance transaction's `fee`: psp_clearing then nets to its `net`, "the
                   net impact of a transaction on a balance", "`amount` - `fee`"; the merchant pays our fee, the
                   platform pays the PSP's, so merchant_payable is untouched)
  psp_fee          psp_fees DEBIT the PSP's fee; psp_clearing CREDIT the PSP's fee: older payments' only. Since
                   2026-12-06 a capture carries the PSP's fee (one entry, one event item and one totals marker the
                   less per payment, issue 32); psp_fee entries are older payments', written with their capture
                   (in its transaction since 7f09341: docs/DESIGN.md, the ledger), and stay readable (the totals,
                   reconcile, the payment trace).
  refund           merchant_payable DEBIT amount; psp_clearing CREDIT amount (our fee is not returned, nor is
                   the PSP's: "the fees from the original charge are not returned", stripe.com/docs/refunds; the
                   PSP's fee booked with the capture stands)
  refund_reversal  the refund's entry reversed
  dispute          merchant_payable DEBIT amount + dispute fee; psp_clearing CREDIT amount + dispute fee (the PSP
                   takes both from our balance when a dispute opens; the merchant bears both; our fee is kept)
  dispute_won      psp_clearing DEBIT amount; merchant_payable CREDIT amount (Stripe gives the disputed amount
                   back, not its dispute fee: support.stripe.com/topics/disputes)
  payout           merchant_payable DEBIT amount; payouts_clearing CREDIT amount (the wallet's PayoutPaid)
  psp_payout       bank DEBIT amount; psp_clearing CREDIT amount (the PSP paid its balance out to our bank)
  psp_payout_failure  psp_clearing DEBIT amount; bank CREDIT amount (the bank returned it; back on the balance)
A FAILED payment or refund books nothing, nor does a LOST dispute (its dispute entry stands). The fee rule is
the kernel's (payments_shared.fees), shared with the wallet, which holds each merchant's payable.

Accounts (normal balance in brackets):
  psp_clearing               [debit]   money the PSP owes us for captured payments
  merchant_payable:<id>      [credit]  what we owe each merchant
  fee_revenue                [credit]  our fees
  psp_fees                   [debit]   the PSP's processing fees on our captures (an expense)
  payouts_clearing           [credit]  money paid out to merchants, on its way to their banks (cleared when the
                                       bank transfer settles, outside this ledger)
  bank                       [debit]   our bank account: what the PSP has paid out to it
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from payments_shared.decider import Decider
from payments_shared.domain_events import DomainEvent, EventTypes
from payments_shared.eventstore.schemas import Schemas
from payments_shared.fees import FeeSchedule
from payments_shared.money import Money

PSP_CLEARING = "psp_clearing"
FEE_REVENUE = "fee_revenue"
PSP_FEES = "psp_fees"
PAYOUTS_CLEARING = "payouts_clearing"
BANK = "bank"


JOURNAL_ENTRY_POSTED = "JournalEntryPosted"


class EntryType(StrEnum):
    """The business event an entry books; with its key (EntryType.key_of) it names the entry's stream."""

    CAPTURE = "capture"  # a SUCCESS payment; key: the payment order id
    # The PSP's processing fee on a SUCCESS payment's charge, as older payments booked it apart; key: the payment
    # order id. No longer posted (a capture carries the fee), kept to read old journals.
    PSP_FEE = "psp_fee"
    REFUND = "refund"  # a SUCCEEDED refund; key: the refund id
    REFUND_REVERSAL = "refund_reversal"  # a SUCCEEDED refund REVERSED later; key: the refund id
    DISPUTE = "dispute"  # a dispute OPENED (amount and dispute fee withdrawn); key: the dispute id (Stripe's dp_)
    DISPUTE_WON = "dispute_won"  # a dispute WON (the amount given back); key: the dispute id
    PAYOUT = "payout"  # a payout out of a merchant's available balance (the wallet's PayoutPaid); key: the payout id
    PSP_PAYOUT = "psp_payout"  # the PSP's balance paid out to our bank; key: Stripe's payout id (po_)
    PSP_PAYOUT_FAILURE = "psp_payout_failure"  # such a payout failed, its money back; key: Stripe's payout id


# What each status books: a FAILED payment or refund moved no money, so it books nothing.
PAYMENT_ENTRIES = {"SUCCESS": EntryType.CAPTURE}
REFUND_ENTRIES = {"SUCCEEDED": EntryType.REFUND, "REVERSED": EntryType.REFUND_REVERSAL}
# A dispute's: OPENED takes the amount and the fee, WON gives the amount back, LOST moves nothing more.
DISPUTE_ENTRIES = {"OPENED": EntryType.DISPUTE, "WON": EntryType.DISPUTE_WON}
# A payout of the PSP's balance to our bank: PAID moves it to the bank, FAILED brings it back.
PSP_PAYOUT_ENTRIES = {"PAID": EntryType.PSP_PAYOUT, "FAILED": EntryType.PSP_PAYOUT_FAILURE}


@dataclass(frozen=True)
class JournalEntryPosted(DomainEvent):
    event_type: ClassVar[str] = JOURNAL_ENTRY_POSTED
    payment_order_id: str
    source_event_id: str
    postings: list[Mapping[str, Any]]  # {account, side, amount_minor, currency}, balanced per currency
    entry_type: str  # EntryType: which business event this entry books (since schema version 2)
    entry_key: str  # the payment order id of a capture or an old payment's PSP fee, the refund id of a refund or
    # its reversal, the dispute id


def _a_capture(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 entries were all captures: one per payment, before refunds were booked."""
    return {"entry_type": EntryType.CAPTURE.value, "entry_key": data["payment_order_id"], **data}


EVENTS = EventTypes(JournalEntryPosted)
# The stored events' schema versions and their upcasters (payments_shared.eventstore.schemas).
EVENT_SCHEMAS = Schemas({(JOURNAL_ENTRY_POSTED, 1): _a_capture})


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

    def posted(self, command: PostEntry) -> JournalEntryPosted:
        """The event that books this entry, once, as the only event of its business event's journal stream."""
        return JournalEntryPosted(
            command.payment_order_id,
            command.source_event_id,
            [
                {
                    "account": p.account,
                    "side": p.side.value,
                    "amount_minor": p.amount.minor,
                    "currency": p.amount.currency,
                }
                for p in self.postings
            ],
            command.entry_type.value,
            command.entry_key,
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


def capture_entry(merchant_id: str, amount: Money, fees: FeeSchedule, psp_fee: Money | None = None) -> JournalEntry:
    """A captured payment: the PSP owes us the amount; we owe the merchant the amount less our fee. With the PSP's
    fee, the PSP keeps that much (psp_clearing CREDIT, an expense of ours at psp_fees): psp_clearing is moved by
    Stripe's gross `amount` and its `fee` as two postings, as its balance transaction reports them, so the
    accounts' debits and credits are those the older capture and psp_fee entries booked."""
    fee = fees.fee(amount)
    postings = [Posting(PSP_CLEARING, Side.DEBIT, amount)]
    if (net := amount - fee).is_positive():
        postings.append(Posting(merchant_payable(merchant_id), Side.CREDIT, net))
    if fee.is_positive():
        postings.append(Posting(FEE_REVENUE, Side.CREDIT, fee))
    if psp_fee is not None and psp_fee.is_positive():
        postings += psp_fee_entry(psp_fee).postings
    return JournalEntry(tuple(postings))


def psp_fee_entry(fee: Money) -> JournalEntry:
    """The PSP's processing fee on a capture: it keeps that much of what it owes us, an expense of ours. Its own
    entry in older payments' journals; today's captures carry these postings."""
    return JournalEntry((Posting(PSP_FEES, Side.DEBIT, fee), Posting(PSP_CLEARING, Side.CREDIT, fee)))


def refund_entry(merchant_id: str, amount: Money) -> JournalEntry:
    """A refund the PSP took: the merchant bears it (we owe them less) and the PSP keeps it from what it owes us.
    Our fee on the capture is not returned: fee_revenue is untouched."""
    return JournalEntry(
        (Posting(merchant_payable(merchant_id), Side.DEBIT, amount), Posting(PSP_CLEARING, Side.CREDIT, amount))
    )


def refund_reversal_entry(merchant_id: str, amount: Money) -> JournalEntry:
    """A refund that failed after it was taken: the money comes back, the refund's entry reversed."""
    return JournalEntry(
        (Posting(PSP_CLEARING, Side.DEBIT, amount), Posting(merchant_payable(merchant_id), Side.CREDIT, amount))
    )


def dispute_entry(merchant_id: str, amount: Money, fee: Money) -> JournalEntry:
    """A dispute opened: the PSP took the amount and its dispute fee from what it owes us; the merchant bears
    both (we owe them less). Our fee on the capture is kept."""
    withdrawn = amount + fee
    return JournalEntry(
        (Posting(merchant_payable(merchant_id), Side.DEBIT, withdrawn), Posting(PSP_CLEARING, Side.CREDIT, withdrawn))
    )


def dispute_won_entry(merchant_id: str, amount: Money) -> JournalEntry:
    """A dispute won: the PSP gives the disputed amount back (not the dispute fee), and so do we."""
    return JournalEntry(
        (Posting(PSP_CLEARING, Side.DEBIT, amount), Posting(merchant_payable(merchant_id), Side.CREDIT, amount))
    )


def payout_entry(merchant_id: str, amount: Money) -> JournalEntry:
    """A payout: we owe the merchant that much less, and the money is on its way to its bank."""
    return JournalEntry(
        (Posting(merchant_payable(merchant_id), Side.DEBIT, amount), Posting(PAYOUTS_CLEARING, Side.CREDIT, amount))
    )


def psp_payout_entry(amount: Money) -> JournalEntry:
    """The PSP paid (part of) its balance out to our bank: it owes us that much less, and the bank holds it."""
    return JournalEntry((Posting(BANK, Side.DEBIT, amount), Posting(PSP_CLEARING, Side.CREDIT, amount)))


def psp_payout_failure_entry(amount: Money) -> JournalEntry:
    """A payout to our bank failed: the bank returned it, and the PSP owes it to us again."""
    return JournalEntry((Posting(PSP_CLEARING, Side.DEBIT, amount), Posting(BANK, Side.CREDIT, amount)))


# -- the journal of one business event (its own stream, ledger.domain.streams) as a decider


@dataclass(frozen=True)
class PostEntry:
    """Book the business event `entry_type` keyed `entry_key`, told by the event `source_event_id`, once.

    A capture's amount is the payment's (our fee is taken here), with the PSP's processing fee in `psp_fee` when
    known; an old PSP fee entry's the PSP's fee; a refund's or reversal's the refund's; a dispute's the disputed
    amount, with the PSP's dispute fee in `fee`.
    """

    entry_type: EntryType
    entry_key: str
    payment_order_id: str
    merchant_id: str
    amount: Money
    source_event_id: str
    fee: Money | None = None  # a dispute's: the PSP's dispute fee
    psp_fee: Money | None = None  # a capture's: the PSP's processing fee (its balance transaction's `fee`)


@dataclass(frozen=True)
class Journal:
    """A business event's journal: the entry posted for it, or none yet."""

    posted: JournalEntryPosted | None = None


def entry_for(command: PostEntry, fees: FeeSchedule) -> JournalEntry:
    if command.entry_type == EntryType.CAPTURE:
        return capture_entry(command.merchant_id, command.amount, fees, command.psp_fee)
    if command.entry_type == EntryType.PSP_FEE:  # no longer asked for (older journals' shape, rebuilt by tests)
        return psp_fee_entry(command.amount)
    if command.entry_type == EntryType.REFUND:
        return refund_entry(command.merchant_id, command.amount)
    if command.entry_type == EntryType.DISPUTE:
        return dispute_entry(command.merchant_id, command.amount, command.fee or Money.zero(command.amount.currency))
    if command.entry_type == EntryType.DISPUTE_WON:
        return dispute_won_entry(command.merchant_id, command.amount)
    if command.entry_type == EntryType.PAYOUT:
        return payout_entry(command.merchant_id, command.amount)
    if command.entry_type == EntryType.PSP_PAYOUT:
        return psp_payout_entry(command.amount)
    if command.entry_type == EntryType.PSP_PAYOUT_FAILURE:
        return psp_payout_failure_entry(command.amount)
    return refund_reversal_entry(command.merchant_id, command.amount)


def decide(command: PostEntry, state: Journal, fees: FeeSchedule) -> Sequence[DomainEvent]:
    """The entry of a business event not posted yet; nothing once posted (the journal is the business event's
    own: another delivery, or another event telling of the same business event)."""
    if state.posted is not None:
        return []
    return [entry_for(command, fees).posted(command)]


def evolve(state: Journal, event: DomainEvent) -> Journal:
    if not isinstance(event, JournalEntryPosted):
        return state
    return Journal(posted=event)


def journal_decider(fees: FeeSchedule) -> Decider[Journal, PostEntry]:
    """The journal's decider under the fee schedule (configuration, so one decider per schedule)."""

    def decide_under_fees(command: PostEntry, state: Journal) -> Sequence[DomainEvent]:
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
