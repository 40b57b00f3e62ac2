"""Reconciliation: the four event stores and the PSP must tell the same story of every payment.

The finalizer's outcome is the decision of record; each other side is checked against it, payment by payment:
- initializer/finalizer: every accepted order is decided, and the order shows the finalizer's decision;
- finalizer/psp: a SUCCESS was charged exactly once, for its amount; nothing else was charged at all;
- finalizer/ledger: a SUCCESS is booked exactly once (the PSP clearing debit), for its amount; nothing else;
- finalizer/wallet: a SUCCESS is credited to its merchant exactly once, for its amount; nothing else.
So the ledger and the wallets agree with each other whenever both agree with the outcome.
A payment whose newest fact is younger than `settle_s` is still in flight (the queues deliver within
seconds): counted, not reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from finalizer.domain.payment import PAYMENT_FAILED, PAYMENT_SUCCEEDED
from initializer.domain.order import PAYMENT_INITIATED, PAYMENT_OUTCOME_RECORDED, PAYMENT_REJECTED
from initializer.domain.streams import PAYMENT_PREFIX
from ledger.domain.journal import JOURNAL_ENTRY_POSTED, PSP_CLEARING, Side
from ops.psp_charges import Charge
from payments_shared.eventstore.port import StoredEvent
from wallet.domain.wallet import WALLET_CREDITED

Amount = tuple[int, str]  # minor units, currency
LONG_AGO = datetime.min.replace(tzinfo=UTC)


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
    entries: list[Amount] = field(default_factory=list)
    credits: list[Amount] = field(default_factory=list)
    charges: list[Amount] = field(default_factory=list)
    newest: datetime = LONG_AGO

    def saw(self, moment: datetime) -> None:
        self.newest = max(self.newest, moment)


def gather(
    stores: Mapping[str, Mapping[str, list[StoredEvent]]], charges: Mapping[str, list[Charge]]
) -> dict[str, Facts]:
    """stores: service -> its events per stream; charges: the PSP's succeeded intents per payment."""
    facts: dict[str, Facts] = defaultdict(Facts)
    for event in _events(stores.get("initializer", {})):
        one = facts[str(event.data.get("payment_order_id") or event.stream_id.removeprefix(PAYMENT_PREFIX))]
        one.saw(event.occurred_at)
        if event.event_type in (PAYMENT_INITIATED, PAYMENT_REJECTED):
            one.order = "INITIATED" if event.event_type == PAYMENT_INITIATED else "REJECTED"
            one.amount = (int(event.data["amount_minor"]), str(event.data["currency"]))
        elif event.event_type == PAYMENT_OUTCOME_RECORDED:
            one.order = str(event.data["status"])
    for event in _events(stores.get("finalizer", {})):
        if event.event_type in (PAYMENT_SUCCEEDED, PAYMENT_FAILED):
            one = facts[str(event.data["payment_order_id"])]
            one.saw(event.occurred_at)
            one.outcome = str(event.data["status"])
            one.outcome_amount = (int(event.data["amount_minor"]), str(event.data["currency"]))
    for event in _events(stores.get("ledger", {})):
        if event.event_type == JOURNAL_ENTRY_POSTED:
            one = facts[str(event.data["payment_order_id"])]
            one.saw(event.occurred_at)
            one.entries += [
                (int(p["amount_minor"]), str(p["currency"]))
                for p in event.data["postings"]
                if p["account"] == PSP_CLEARING and p["side"] == Side.DEBIT
            ]
    for event in _events(stores.get("wallet", {})):
        if event.event_type == WALLET_CREDITED:
            one = facts[str(event.data["payment_order_id"])]
            one.saw(event.occurred_at)
            one.credits.append((int(event.data["amount_minor"]), str(event.data["currency"])))
    for order_id, found in charges.items():
        one = facts[order_id]
        one.charges += [(c.amount_minor, c.currency) for c in found]
        for charge in found:
            one.saw(datetime.fromtimestamp(charge.created, UTC))
    return dict(facts)


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
    elif facts.amount != facts.outcome_amount:
        problems.append(("initializer/finalizer", f"amount {facts.amount} ordered, {facts.outcome_amount} decided"))
    problems.append(("finalizer/psp", _once(facts.charges, success, "charged")))
    problems.append(("finalizer/ledger", _once(facts.entries, success, "booked")))
    problems.append(("finalizer/wallet", _once(facts.credits, success, "credited")))
    return [Mismatch(order_id, pair, problem) for pair, problem in problems if problem]


def reconcile(facts: Mapping[str, Facts], *, settle_s: float, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    mismatches: list[Mismatch] = []
    in_flight = 0
    for order_id in sorted(facts):
        found = check(order_id, facts[order_id])
        if found and (now - facts[order_id].newest).total_seconds() < settle_s:
            in_flight += 1
            continue
        mismatches += found
    return {"payments": len(facts), "in_flight": in_flight, "mismatches": [m.as_dict() for m in mismatches]}
