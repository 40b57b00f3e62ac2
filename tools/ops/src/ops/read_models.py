"""Each read model as a function of its owning event store: the rows its events say it must hold.

The row layouts are the services' own (`<service>.read_model`), so a rebuilt row is byte for byte the row the
service writes. Timestamps of writing (`timestamp`, `updated_at`) are the clock's, not the events': a rebuilt
row takes its last event's time there, and diffs ignore them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from finalizer.domain.payment import PAYMENT_AUTHORIZED, PAYMENT_CANCELED, PAYMENT_FAILED, PAYMENT_SUCCEEDED
from finalizer.domain.streams import PAYMENT_PREFIX as FINALIZER_PAYMENT_PREFIX
from finalizer.rows import authorized_row, result_row
from initializer.domain.order import EVENT_SCHEMAS as INITIALIZER_SCHEMAS
from initializer.domain.streams import PAYMENT_PREFIX as INITIALIZER_PAYMENT_PREFIX
from initializer.rows import rebuilt_row
from ledger.domain.journal import EVENT_SCHEMAS as LEDGER_SCHEMAS
from ledger.domain.journal import JOURNAL_ENTRY_POSTED
from ledger.domain.streams import totals_marker
from ledger.rows import account_increments
from ops.stores import events_by_stream
from wallet.domain.payout import DECIDER as PAYOUTS
from wallet.domain.payout import STREAM_PREFIX as PAYOUTS_PREFIX
from wallet.domain.streams import shard_of
from wallet.domain.wallet import DECIDER as WALLET
from wallet.rows import balance_row, payouts_row

# Each event store's upcasters (payments_shared.eventstore.schemas), so old events read in today's shape.
STORE_SCHEMAS = {"initializer": INITIALIZER_SCHEMAS, "ledger": LEDGER_SCHEMAS}
Row = dict[str, Any]
Key = tuple[Any, ...]


@dataclass(frozen=True)
class ReadModel:
    name: str  # as the operator types it
    table: str
    store: str  # the service whose event store it projects
    key: tuple[str, ...]
    derive: Callable[[Sequence[Row]], list[Row]]  # the event store's items -> the rows they imply
    # Rows carry their stream's version: in place, a rebuilt row replaces a live one only if the live one is
    # not newer. Without it (the ledger's totals, sums over many streams) a row is replaced only if it has
    # not changed since it was read.
    versioned: bool = True
    volatile: frozenset[str] = frozenset({"timestamp", "updated_at"})
    zero: Callable[[Key], Row] | None = None  # an unversioned row no event explains should hold this

    def key_of(self, row: Row) -> Key:
        return tuple(row[k] for k in self.key)


def _payment_orders(items: Sequence[Row]) -> list[Row]:
    rows = []
    for stream, events in events_by_stream(iter(items), INITIALIZER_SCHEMAS).items():
        if stream.startswith(INITIALIZER_PAYMENT_PREFIX) and events:
            history = [(e.version, e.event_type, e.data) for e in events]
            row = rebuilt_row(history, events[-1].occurred_at.isoformat())
            if row is not None:
                rows.append(row)
    return rows


def _payment_results(items: Sequence[Row]) -> list[Row]:
    """A payment's row from its latest outcome: a final one, or an authorization awaiting capture (which puts it
    in the capture window's sweep index)."""
    rows = []
    for stream, events in events_by_stream(iter(items)).items():
        kept = [e for e in events if e.event_type in RESULT_EVENTS]
        if kept and stream.startswith(FINALIZER_PAYMENT_PREFIX):
            e = kept[-1]
            row = authorized_row if e.event_type == PAYMENT_AUTHORIZED else result_row
            rows.append(row(e.data, e.version, e.occurred_at.isoformat()))
    return rows


RESULT_EVENTS = (PAYMENT_SUCCEEDED, PAYMENT_FAILED, PAYMENT_CANCELED, PAYMENT_AUTHORIZED)


def _wallet_balances(items: Sequence[Row]) -> list[Row]:
    rows = []
    for stream, events in events_by_stream(iter(items)).items():
        if stream.startswith(PAYOUTS_PREFIX) and events:  # a merchant's payouts in one currency: its row
            paid = PAYOUTS.fold(PAYOUTS.initial, (PAYOUTS.events.decode(e.event_type, e.data) for e in events))
            last = events[-1]
            merchant, currency = str(last.data["merchant_id"]), str(last.data["currency"])
            rows.append(payouts_row(merchant, currency, paid.paid_out, last.version, last.occurred_at.isoformat()))
            continue
        shard = shard_of(stream)
        if shard is None or not events:
            continue
        state = WALLET.fold(WALLET.initial, (WALLET.events.decode(e.event_type, e.data) for e in events))
        at = events[-1].occurred_at.isoformat()
        rows.append(balance_row(state.merchant_id, shard, state.balances, events[-1].version, at, state.pending))
    return rows


def _ledger_totals(items: Sequence[Row]) -> list[Row]:
    """Entries the totals projection has added (their marker exists); a newer entry is added by the projection
    itself, so counting it here too would count it twice."""
    added = {str(item["stream_id"]) for item in items}  # a marker is an item of its own (stream) id
    totals: dict[Key, dict[str, int]] = defaultdict(lambda: {"debits_minor": 0, "credits_minor": 0})
    for stream, events in events_by_stream(iter(items)).items():
        if totals_marker(stream) not in added:
            continue
        for event in events:
            if event.event_type == JOURNAL_ENTRY_POSTED:
                for key, deltas in account_increments(event.data["postings"]):
                    row = totals[(key["account"], key["currency"])]
                    for name, delta in deltas.items():
                        row[name] += delta
    return [{"account": account, "currency": currency, **sums} for (account, currency), sums in totals.items()]


READ_MODELS = {
    model.name: model
    for model in (
        ReadModel("payment-orders", "ShowMeTheMoney", "initializer", ("payment_order_id",), _payment_orders),
        ReadModel("payment-results", "BreakingTheBank", "finalizer", ("payment_order_id",), _payment_results),
        ReadModel(
            "ledger-totals",
            "LedgerAccounts",
            "ledger",
            ("account", "currency"),
            _ledger_totals,
            versioned=False,
            zero=lambda key: {"account": key[0], "currency": key[1], "debits_minor": 0, "credits_minor": 0},
        ),
        ReadModel("wallet-balances", "WalletBalances", "wallet", ("merchant_id", "shard"), _wallet_balances),
    )
}
