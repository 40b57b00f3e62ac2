"""Reconciliation: the four event stores and the PSP must tell the same story of every payment.

The finalizer's outcome is the decision of record; each other side is checked against it, payment by payment:
- initializer/finalizer: every accepted order is decided, and the order shows the finalizer's decision;
- finalizer/psp: a SUCCESS was charged exactly once, for its amount; nothing else was charged at all;
- finalizer/ledger: a SUCCESS's capture is booked exactly once (the PSP clearing debit), for its amount; nothing
  else;
- finalizer/wallet: a SUCCESS is credited to its merchant exactly once; nothing else.
And merchant by merchant, currency by currency, the wallet (net of fees, less refunds, plus reversed refunds)
must equal the ledger's merchant_payable: the two books of what we owe each merchant (`balances`, each
difference with both figures).
And currency by currency, the ledger's psp_clearing must move as the PSP's balance transactions do (`ledger/psp`:
captures and the PSP's processing fee on each, so the net Stripe owes; refunds, failed refunds, disputes and their
reversals; the PSP's payouts to our bank and their failures; each difference with both totals and every movement
one side has and the other has not, matched by kind and amount: a capture whose fee is missing is named "the
ledger has no psp_fee of -<fee>"; the fee is the capture entry's psp_clearing credit, or an older payment's psp_fee
entry).
A payment, merchant balance or currency whose newest fact is younger than `settle_s` is still in flight (the queues
deliver within seconds): counted, not reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from finalizer.domain.payment import PAYMENT_AUTHORIZED, PAYMENT_CANCELED, PAYMENT_FAILED, PAYMENT_SUCCEEDED
from initializer.domain.order import PAYMENT_INITIATED, PAYMENT_OUTCOME_RECORDED, PAYMENT_REJECTED
from initializer.domain.streams import PAYMENT_PREFIX
from ledger.domain.journal import JOURNAL_ENTRY_POSTED, PSP_CLEARING, EntryType, Side
from ops.psp_balance import PSP_FEE, Movement
from ops.psp_charges import Charge
from payments_shared.eventstore.port import StoredEvent
from wallet.domain.payout import PAYOUT_PAID
from wallet.domain.wallet import (
    WALLET_CREDITED,
    WALLET_DEBITED,
    WALLET_DISPUTE_DEBITED,
    WALLET_DISPUTE_WON,
    WALLET_REFUND_REVERSED,
)

Amount = tuple[int, str]  # minor units, currency
LONG_AGO = datetime.min.replace(tzinfo=UTC)
PAYABLE_PREFIX = "merchant_payable:"
# The ledger's entries at psp_clearing under the PSP's reporting category for the same move.
CLEARING_KINDS = {
    EntryType.CAPTURE: "charge",
    EntryType.PSP_FEE: PSP_FEE,  # the fee Stripe kept of a charge (its `fee`): older payments' entry, now the capture's
    EntryType.REFUND: "refund",
    EntryType.REFUND_REVERSAL: "refund_failure",
    EntryType.DISPUTE: "dispute",
    EntryType.DISPUTE_WON: "dispute_reversal",
    EntryType.PSP_PAYOUT: "payout",
    EntryType.PSP_PAYOUT_FAILURE: "payout_reversal",
}
# How each wallet event moves the merchant's balance.
# A payout (its own stream in the wallet's store) is out of what the wallet owes, as the ledger books it.
WALLET_SIGNS = {
    WALLET_CREDITED: 1,
    WALLET_REFUND_REVERSED: 1,
    WALLET_DEBITED: -1,
    WALLET_DISPUTE_DEBITED: -1,  # its amount_minor is the disputed amount and the dispute fee
    WALLET_DISPUTE_WON: 1,
    PAYOUT_PAID: -1,
}


@dataclass(frozen=True)
class Mismatch:
    payment_order_id: str
    pair: str
    problem: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Facts:
    """What each side says about one payment."""

    order: str | None = None  # INITIATED | REJECTED | SUCCESS | FAILED
    amount: Amount | None = None
    outcome: str | None = None  # SUCCESS | FAILED, the finalizer's
    outcome_amount: Amount | None = None
    ordered_amount: Amount | None = None  # the amount the finalizer's outcome says was ordered (authorized)
    entries: list[Amount] = field(default_factory=list)
    credits: list[Amount] = field(default_factory=list)
    charges: list[Amount] = field(default_factory=list)
    newest: datetime = LONG_AGO

    def saw(self, moment: datetime) -> None:
        self.newest = max(self.newest, moment)


@dataclass
class Owed:
    """What each book says one merchant is owed in one currency (minor units)."""

    wallet: int = 0
    ledger: int = 0
    newest: datetime = LONG_AGO

    def saw(self, moment: datetime) -> None:
        self.newest = max(self.newest, moment)


@dataclass(frozen=True)
class Gathered:
    payments: dict[str, Facts]
    owed: dict[tuple[str, str], Owed]  # (merchant, currency)
    clearing: list[Movement] = field(default_factory=list)  # the ledger's psp_clearing movements
    balance: list[Movement] | None = None  # the PSP's balance transactions (None: not read, not compared)


def gather(
    stores: Mapping[str, Mapping[str, list[StoredEvent]]],
    charges: Mapping[str, list[Charge]],
    balance: list[Movement] | None = None,
) -> Gathered:
    """stores: service -> its events per stream (in today's shapes: upcast); charges: the PSP's succeeded
    intents per payment; balance: the PSP's balance transactions as psp_clearing movements."""
    facts: dict[str, Facts] = defaultdict(Facts)
    owed: dict[tuple[str, str], Owed] = defaultdict(Owed)
    clearing: list[Movement] = []
    for event in _events(stores.get("initializer", {})):
        one = facts[str(event.data.get("payment_order_id") or event.stream_id.removeprefix(PAYMENT_PREFIX))]
        one.saw(event.occurred_at)
        if event.event_type in (PAYMENT_INITIATED, PAYMENT_REJECTED):
            one.order = "INITIATED" if event.event_type == PAYMENT_INITIATED else "REJECTED"
            one.amount = (int(event.data["amount_minor"]), str(event.data["currency"]))
        elif event.event_type == PAYMENT_OUTCOME_RECORDED:
            one.order = str(event.data["status"])
    for event in _events(stores.get("finalizer", {})):
        if event.event_type in (PAYMENT_SUCCEEDED, PAYMENT_FAILED, PAYMENT_AUTHORIZED, PAYMENT_CANCELED):
            one = facts[str(event.data["payment_order_id"])]  # a stream's events in order: the latest stands
            one.saw(event.occurred_at)
            one.outcome = str(event.data["status"])
            one.outcome_amount = (int(event.data["amount_minor"]), str(event.data["currency"]))
            # A manual capture's SUCCESS is of what was captured: the order's amount is what was authorized.
            authorized = event.data.get("amount_authorized_minor")
            one.ordered_amount = (int(authorized), str(event.data["currency"])) if authorized else None
    for event in _events(stores.get("ledger", {})):
        if event.event_type != JOURNAL_ENTRY_POSTED:
            continue
        postings = event.data["postings"]
        kind = CLEARING_KINDS.get(event.data["entry_type"], str(event.data["entry_type"]))
        ref = str(event.data.get("entry_key") or event.data["payment_order_id"])
        clearing += [
            Movement(
                _clearing_kind(kind, p),
                int(p["amount_minor"]) * (1 if p["side"] == Side.DEBIT else -1),
                str(p["currency"]),
                ref,
                event.occurred_at,
            )
            for p in postings
            if p["account"] == PSP_CLEARING
        ]
        if event.data["entry_type"] == EntryType.CAPTURE:
            one = facts[str(event.data["payment_order_id"])]
            one.saw(event.occurred_at)
            one.entries += [
                (int(p["amount_minor"]), str(p["currency"]))
                for p in postings
                if p["account"] == PSP_CLEARING and p["side"] == Side.DEBIT
            ]
        for p in postings:
            if str(p["account"]).startswith(PAYABLE_PREFIX):
                books = owed[(str(p["account"]).removeprefix(PAYABLE_PREFIX), str(p["currency"]))]
                books.ledger += int(p["amount_minor"]) * (1 if p["side"] == Side.CREDIT else -1)
                books.saw(event.occurred_at)
    for event in _events(stores.get("wallet", {})):
        if event.event_type not in WALLET_SIGNS:
            continue
        books = owed[(str(event.data["merchant_id"]), str(event.data["currency"]))]
        books.wallet += WALLET_SIGNS[event.event_type] * int(event.data["amount_minor"])
        books.saw(event.occurred_at)
        if event.event_type == WALLET_CREDITED:
            one = facts[str(event.data["payment_order_id"])]
            one.saw(event.occurred_at)
            one.credits.append((int(event.data["amount_minor"]), str(event.data["currency"])))
    for order_id, found in charges.items():
        one = facts[order_id]
        one.charges += [(c.amount_minor, c.currency) for c in found]
        for charge in found:
            one.saw(datetime.fromtimestamp(charge.created, UTC))
    return Gathered(dict(facts), dict(owed), clearing, balance)


def _clearing_kind(kind: str, posting: Mapping[str, Any]) -> str:
    """A charge credits psp_clearing only with the fee the PSP kept: a capture carries it since 2026-12-06 (older
    payments booked it as a psp_fee entry of its own), matched against Stripe's `fee` either way."""
    return PSP_FEE if kind == CLEARING_KINDS[EntryType.CAPTURE] and posting["side"] == Side.CREDIT else kind


def _events(streams: Mapping[str, list[StoredEvent]]) -> Iterable[StoredEvent]:
    return (event for events in streams.values() for event in events)


def _once(found: list[Amount], expected: Amount | None, what: str) -> str | None:
    """None when `found` is exactly one `expected` (or nothing, when nothing is expected)."""
    if expected is None:
        return f"{what} {len(found)}x without a SUCCESS" if found else None
    if not found:
        return f"no {what}"
    if len(found) > 1:
        return f"{what} {len(found)}x"
    return None if found[0] == expected else f"{what} {found[0][0]} {found[0][1]}, expected {expected[0]} {expected[1]}"


def _credited_once(credits: list[Amount], success: Amount | None) -> str | None:
    """The wallet credits a SUCCESS once, in its currency; its amount is the net of fees, which the
    merchant's balance against the ledger checks (`balances`)."""
    if success is None:
        return f"credited {len(credits)}x without a SUCCESS" if credits else None
    if not credits:
        return "no credited"
    if len(credits) > 1:
        return f"credited {len(credits)}x"
    return None if credits[0][1] == success[1] else f"credited in {credits[0][1]}, expected {success[1]}"


def check(order_id: str, facts: Facts) -> list[Mismatch]:
    problems: list[tuple[str, str | None]] = []
    success = facts.outcome_amount if facts.outcome == "SUCCESS" else None
    if facts.outcome is None:
        problems.append(
            (
                "initializer/finalizer",
                {
                    None: None,  # known only to the PSP, the ledger or a wallet: reported by their pair
                    "INITIATED": "accepted, never decided by the finalizer",
                    "REJECTED": None,
                }.get(facts.order, f"order says {facts.order}, the finalizer decided nothing"),
            )
        )
    elif facts.order in (None, "REJECTED"):
        problems.append(
            (
                "initializer/finalizer",
                f"the finalizer decided {facts.outcome} on an order "
                f"{'never accepted' if facts.order is None else 'rejected at initiation'}",
            )
        )
    elif facts.order != facts.outcome:
        problems.append(("initializer/finalizer", f"order says {facts.order}, the finalizer {facts.outcome}"))
    elif facts.amount != (facts.ordered_amount or facts.outcome_amount):
        decided = facts.ordered_amount or facts.outcome_amount
        problems.append(("initializer/finalizer", f"amount {facts.amount} ordered, {decided} decided"))
    problems.append(("finalizer/psp", _once(facts.charges, success, "charged")))
    problems.append(("finalizer/ledger", _once(facts.entries, success, "booked")))
    problems.append(("finalizer/wallet", _credited_once(facts.credits, success)))
    return [Mismatch(order_id, pair, problem) for pair, problem in problems if problem]


def clearing_differences(ledger: list[Movement], psp: list[Movement]) -> list[tuple[dict[str, Any], datetime]]:
    """Per currency whose two sides differ: both totals, what each has that the other has not (matched by kind
    and amount), and the newest movement among those (to tell one in flight)."""
    found: list[tuple[dict[str, Any], datetime]] = []
    for currency in sorted({m.currency for m in ledger} | {m.currency for m in psp}):
        ours = [m for m in ledger if m.currency == currency]
        theirs = [m for m in psp if m.currency == currency]
        unmatched_psp = list(theirs)
        unmatched_ledger: list[Movement] = []
        for m in ours:
            twin = next((t for t in unmatched_psp if (t.kind, t.amount_minor) == (m.kind, m.amount_minor)), None)
            if twin is None:
                unmatched_ledger.append(m)
            else:
                unmatched_psp.remove(twin)
        ledger_minor, psp_minor = sum(m.amount_minor for m in ours), sum(m.amount_minor for m in theirs)
        if ledger_minor == psp_minor and not unmatched_ledger and not unmatched_psp:
            continue
        problems = [
            f"the PSP has no {m.kind} of {m.amount_minor} {currency} (ledger {m.ref})" for m in unmatched_ledger
        ] + [f"the ledger has no {m.kind} of {m.amount_minor} {currency} (PSP {m.ref})" for m in unmatched_psp]
        newest = max((m.at for m in unmatched_ledger + unmatched_psp), default=LONG_AGO)
        difference = {"currency": currency, "ledger_minor": ledger_minor, "psp_minor": psp_minor, "problems": problems}
        found.append((difference, newest))
    return found


def reconcile(gathered: Gathered, *, settle_s: float, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    facts = gathered.payments
    mismatches: list[Mismatch] = []
    differences: list[dict[str, Any]] = []
    in_flight = 0

    def settled(newest: datetime) -> bool:
        return (now - newest).total_seconds() >= settle_s

    for order_id in sorted(facts):
        found = check(order_id, facts[order_id])
        if found and not settled(facts[order_id].newest):
            in_flight += 1
            continue
        mismatches += found
    for (merchant_id, currency), books in sorted(gathered.owed.items()):
        if books.wallet == books.ledger:
            continue
        if not settled(books.newest):
            in_flight += 1
            continue
        differences.append(
            {
                "merchant_id": merchant_id,
                "currency": currency,
                "wallet_minor": books.wallet,
                "ledger_minor": books.ledger,
            }
        )
    clearing: list[dict[str, Any]] = []
    if gathered.balance is not None:
        for difference, newest in clearing_differences(gathered.clearing, gathered.balance):
            if settled(newest):
                clearing.append(difference)
            else:
                in_flight += 1
    return {
        "payments": len(facts),
        "in_flight": in_flight,
        "mismatches": [m.as_dict() for m in mismatches],
        "balances": differences,  # each merchant and currency whose wallet differs from its ledger payable
        "psp_balance": clearing,  # each currency whose psp_clearing differs from the PSP's balance transactions
    }
