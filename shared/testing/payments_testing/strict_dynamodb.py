"""moto's DynamoDB transactions, as strict as DynamoDB's.

moto applies a TransactWriteItems at once, one call at a time: two transactions never overlap, so
`TransactionConflict` never happens and code that mishandles it passes every test. DynamoDB runs a
transaction over tens of milliseconds and cancels any other transaction that touches one of its items
meanwhile. This gives moto's transactions that duration: a transaction holds its items for
`hold_seconds` before it applies, letting go of moto's lock meanwhile so other calls proceed; one that
names a held item is cancelled with `TransactionConflict` at that item (the CancellationReasons DynamoDB
answers) and nothing of it is written. Calls made one after another never conflict, as in DynamoDB. It
can also cancel a share of all transactions with DynamoDB's passing reasons (`fault_rate`), or the next
few with a chosen one. A test that needs an overlap for certain replaces `hold` (what a transaction does
while it holds its items) with a wait on a signal of its own: the overlap is then forced, not timed.

Only transactions are checked: the services write nothing outside them.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend

PASSING_REASONS = ("TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded")
_MESSAGES = {
    "TransactionConflict": "Transaction is ongoing for the item",
    "ThrottlingError": "Throughput exceeds the current capacity for one or more global secondary indexes.",
    "ProvisionedThroughputExceeded": "The level of configured provisioned throughput for the table was exceeded.",
}


class BackendLock:
    """moto's backends are not thread-safe: every call into them holds this lock (the local server's
    requests, SerializedClient's calls). A transaction in flight lets go of it while it holds its items."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None

    def __enter__(self) -> None:
        self._lock.acquire()
        self._owner = threading.get_ident()

    def __exit__(self, *_: object) -> None:
        self._owner = None
        self._lock.release()

    @contextmanager
    def released(self) -> Iterator[None]:
        if self._owner != threading.get_ident():
            yield  # not called through the lock (single-threaded use): nothing to let go of
            return
        self.__exit__()
        try:
            yield
        finally:
            self.__enter__()


MOTO_LOCK = BackendLock()


class StrictTransactions:
    def __init__(self, hold_seconds: float = 0.015, fault_rate: float = 0.0, seed: int = 0) -> None:
        self.hold_seconds = hold_seconds
        # Called while a transaction holds its items, with moto's lock let go: DynamoDB's time in flight.
        self.hold: Callable[[], object] = lambda: time.sleep(self.hold_seconds)
        self.fault_rate = fault_rate
        self.cancelled: Counter[str] = Counter()  # reason -> transactions cancelled for it (injected or not)
        self.injected: Counter[str] = Counter()  # reason -> of those, cancelled by fault_rate / cancel_next
        self.transactions = 0
        self._held: Counter[tuple[str, str]] = Counter()  # (table, key) -> transactions in flight on it
        self._next: list[str] = []
        self._where: list[tuple[str, str, str, str]] = []  # (reason, table, attribute, string value), in order
        self._random = random.Random(seed)  # noqa: S311 - fault injection, not security
        self._lock = threading.Lock()
        self._original: Any = None

    def install(self) -> StrictTransactions:
        """Wrap moto's TransactWriteItems (whatever it is now, e.g. with the row-level backup)."""
        self._original = DynamoDBBackend.transact_write_items
        strict = self

        def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
            keys = strict._admit(self, transact_items)
            try:
                with MOTO_LOCK.released():
                    strict.hold()
                strict._original(self, transact_items)
            finally:
                with strict._lock:
                    strict._held.subtract(keys)

        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        return self

    def uninstall(self) -> None:
        if self._original is not None:
            DynamoDBBackend.transact_write_items = self._original  # type: ignore[method-assign]
            self._original = None

    def cancel_next(self, *reasons: str) -> None:
        with self._lock:
            self._next.extend(reasons)

    def cancel_where(self, reason: str, table: str, attribute: str, value: str) -> None:
        """Cancel the next transaction naming an item of `table` whose key `attribute` is the string `value`, with
        `reason` at those items only (e.g. "ValidationError"): what DynamoDB answers when one item of a transaction
        is at fault and the others are not."""
        with self._lock:
            self._where.append((reason, table, attribute, value))

    def _admit(self, backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """Cancel the transaction, or take its items; returns the items taken."""
        keys = [_item_key(backend, entry) for entry in transact_items]
        with self._lock:
            self.transactions += 1
            reason = self._next.pop(0) if self._next else None
            if reason is None and self.fault_rate and self._random.random() < self.fault_rate:
                reason = self._random.choice(PASSING_REASONS)
            if reason is not None:
                self.injected[reason] += 1
                self._cancel(reason, [i == 0 for i in range(len(keys))])
            for n, (where, table, attribute, value) in enumerate(self._where):
                hits = [_names(entry, table, attribute, value) for entry in transact_items]
                if any(hits):
                    del self._where[n]
                    self.injected[where] += 1
                    self._cancel(where, hits)
            held = [key is not None and self._held[key] > 0 for key in keys]
            if any(held):
                self._cancel("TransactionConflict", held)
            taken = [key for key in keys if key is not None]
            self._held.update(taken)
            return taken

    def _cancel(self, reason: str, at: list[bool]) -> None:
        self.cancelled[reason] += 1
        raise TransactionCanceledException(
            [(reason, _MESSAGES.get(reason, reason), None) if hit else (None, None, None) for hit in at]
        )


def _names(entry: dict[str, Any], table: str, attribute: str, value: str) -> bool:
    operation = next(iter(entry.values()))
    attributes = operation.get("Key") or operation.get("Item") or {}
    return bool(operation.get("TableName") == table and attributes.get(attribute) == {"S": value})


def _item_key(backend: DynamoDBBackend, entry: dict[str, Any]) -> tuple[str, str] | None:
    operation = next(iter(entry.values()))
    table = backend.tables.get(operation.get("TableName"))
    if table is None:
        return None  # moto answers the unknown table itself
    attributes = operation.get("Key") or operation.get("Item") or {}
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return table.name, json.dumps([attributes.get(name) for name in names], sort_keys=True)
