"""The run's end: once merchants are paid, the PSP pays its available balance out to our bank (Stripe's daily
payout, here the operator's `payments-ops psp-payout` per currency), its payout.paid webhook reaches the finalizer
and the ledger books it (bank DEBIT, psp_clearing CREDIT). Then the books are compared with the PSP as
`payments-ops reconcile`'s ledger/psp pair does: the ledger's psp_clearing movements against the fake's balance
transactions (ops.reconcile.clearing_differences), which must show no difference once everything has settled."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from fake_psp import FakePsp
from ops.psp_balance import Movement, movements
from ops.psp_payout import pay_out_available
from ops.read_models import STORE_SCHEMAS
from ops.reconcile import clearing_differences, gather
from ops.stores import events_by_stream, scan

from payments_shared.eventstore.port import StoredEvent
from payments_shared.topology import EVENT_STORES


@dataclass
class PspPayouts:
    """The PSP's payouts to our bank made at the run's end, and what went wrong making them."""

    made: list[dict[str, Any]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)


def pay_out_the_psp(psp: FakePsp, timeout_s: float = 30.0, bank_returns_first: bool = False) -> PspPayouts:
    """Pay out each currency's available balance, then wait until the fake has paid each payout (its timer);
    the payout.paid webhooks are then on their way to the finalizer. With bank_returns_first, the bank then
    returns the first payout (Stripe's paid, then failed): its payout.failed gives the money back."""
    done = PspPayouts()
    for currency in sorted(psp.balance()):
        made = pay_out_available(psp.api_key, currency, api_base=psp.url)
        if made is not None:
            done.made.append(asdict(made))
    deadline = time.monotonic() + timeout_s
    for payout in done.made:
        while psp.payout(payout["payout_id"])["status"] == "pending" and time.monotonic() < deadline:
            time.sleep(0.1)
        status = psp.payout(payout["payout_id"])["status"]
        if status != "paid":
            done.unexpected.append(f"{payout['payout_id']}: {status} after {timeout_s} s")
    if bank_returns_first and done.made and not done.unexpected:
        failed = psp.fail_payout(done.made[0]["payout_id"])
        done.made[0]["status"] = failed["status"]
    return done


def psp_differences(ledger: Mapping[str, list[StoredEvent]], balance_transactions: list[dict[str, Any]]) -> list[Any]:
    """Each currency where the ledger's psp_clearing differs from the PSP's balance transactions, as reconcile's
    ledger/psp pair names it (both totals, every movement one side lacks)."""
    psp = [found for txn in balance_transactions for found in movements(txn)]
    clearing: list[Movement] = gather({"ledger": ledger}, {}, psp).clearing
    return [difference for difference, _ in clearing_differences(clearing, psp)]


def ledger_events(dynamodb: Any) -> dict[str, list[StoredEvent]]:
    """The ledger's event store, read as `payments-ops reconcile` reads it."""
    return events_by_stream(scan(dynamodb, EVENT_STORES["ledger"]), STORE_SCHEMAS.get("ledger"))


def books_agree_with_the_psp(dynamodb: Any, psp: FakePsp, timeout_s: float = 60.0) -> list[Any]:
    """The differences left once the ledger has caught up with the PSP (none when it has), waiting up to
    timeout_s for the last webhooks and deliveries."""
    deadline = time.monotonic() + timeout_s
    while True:
        differences = psp_differences(ledger_events(dynamodb), psp.balance_transactions())
        if not differences or time.monotonic() > deadline:
            return differences
        time.sleep(0.5)
