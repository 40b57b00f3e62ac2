"""The balances port's contract, run on every adapter (in memory; DynamoDB on moto): the row a credit writes
with its events is the row read back, and a merchant's rows are all its shards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from payments_shared.eventstore import EventStore, NewEvent
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.stores import event_store, table
from wallet.adapters.dynamodb_balances import DynamoDBBalances
from wallet.adapters.memory_balances import InMemoryBalances
from wallet.domain.streams import stream_id
from wallet.ports import WalletBalances
from wallet.rows import balance_row

AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def plain(value: Any) -> Any:
    """A row as Python values (DynamoDB returns numbers as Decimal)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return int(value) if isinstance(value, Decimal) else value


def rows(balances: WalletBalances, merchant_id: str) -> list[tuple[str, dict[str, int], int]]:
    shards = sorted(balances.shards(merchant_id), key=lambda row: row["shard"])
    return [(r["shard"], {k: int(v) for k, v in r["balances"].items()}, int(r["version"])) for r in shards]


class WalletBalancesContract:
    @pytest.fixture
    def adapter(self) -> Iterator[tuple[EventStore, WalletBalances]]:
        """(the event store, the balances adapter whose rows commit in its appends)"""
        raise NotImplementedError

    def test_shard_rows_written_with_the_events_are_read_back_per_merchant(
        self, adapter: tuple[EventStore, WalletBalances]
    ) -> None:
        store, balances = adapter
        for shard, amounts in ((0, {"EUR": 500}), (3, {"EUR": 250, "PLN": 100})):
            event = NewEvent("WalletCredited", {"merchant_id": "m-1"}, "c")
            store.append(stream_id("m-1", shard), 0, [event], [balances.shard_credited("m-1", shard, amounts, 1)])
        event = NewEvent("WalletCredited", {"merchant_id": "m-2"}, "c")
        store.append(stream_id("m-2", 0), 0, [event], [balances.shard_credited("m-2", 0, {"EUR": 1}, 1)])
        assert rows(balances, "m-1") == [("00", {"EUR": 500}, 1), ("03", {"EUR": 250, "PLN": 100}, 1)]
        assert rows(balances, "m-2") == [("00", {"EUR": 1}, 1)]
        assert balances.shards("nobody") == []

    def test_a_shards_next_credit_replaces_its_row(self, adapter: tuple[EventStore, WalletBalances]) -> None:
        store, balances = adapter
        stream = stream_id("m-1", 7)
        store.append(
            stream, 0, [NewEvent("WalletCredited", {}, "c")], [balances.shard_credited("m-1", 7, {"EUR": 5}, 1)]
        )
        store.append(
            stream,
            1,
            [NewEvent("WalletCredited", {}, "c")],
            [balances.shard_credited("m-1", 7, {"EUR": 9, "JPY": 1}, 2)],
        )
        [row] = balances.shards("m-1")
        assert plain(row) == balance_row("m-1", 7, {"EUR": 9, "JPY": 1}, 2, AT.isoformat())
        assert set(row) == {"merchant_id", "shard", "balances", "version", "updated_at"}

    def test_a_row_is_written_only_with_its_credit(self, adapter: tuple[EventStore, WalletBalances]) -> None:
        store, balances = adapter
        balances.shard_credited("m-1", 0, {"EUR": 5}, 1)  # made, never committed
        assert balances.shards("m-1") == []


class TestInMemoryBalances(WalletBalancesContract):
    @pytest.fixture
    def adapter(self) -> Iterator[tuple[EventStore, WalletBalances]]:
        yield InMemoryEventStore(), InMemoryBalances("WalletBalances", clock=lambda: AT)


class TestDynamoDBBalances(WalletBalancesContract):
    @pytest.fixture
    def adapter(self) -> Iterator[tuple[EventStore, WalletBalances]]:
        with event_store("dynamodb", "wallet-events", table("WalletBalances", "merchant_id", "shard")) as (
            store,
            client,
        ):
            yield store, DynamoDBBalances(client, "WalletBalances", clock=lambda: AT)
