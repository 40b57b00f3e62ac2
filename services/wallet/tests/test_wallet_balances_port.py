"""The balances port's contract, run on every adapter (in memory, DynamoDB on moto): the row a credit writes
with its events is the row read back, and a merchant's rows are all its shards."""

from __future__ import annotations

import pytest

from payments_shared.eventstore import NewEvent
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.stores import ADAPTERS, event_store, table
from wallet.adapters.dynamodb_balances import DynamoDBBalances
from wallet.adapters.memory_balances import InMemoryBalances
from wallet.domain.wallet import Wallet


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_shard_rows_written_with_the_events_are_read_back_per_merchant(adapter: str) -> None:
    with event_store(adapter, "wallet-events", table("WalletBalances", "merchant_id", "shard")) as (store, client):
        balances = (
            InMemoryBalances(store, "WalletBalances")
            if isinstance(store, InMemoryEventStore)
            else DynamoDBBalances(client, "WalletBalances")
        )
        for shard, amounts in ((0, {"EUR": 500}), (3, {"EUR": 250, "PLN": 100})):
            wallet = Wallet("m-1", amounts, 1)
            event = NewEvent("WalletCredited", {"merchant_id": "m-1"}, "c")
            store.append(f"wallet-m-1#{shard:02d}", 0, [event], [balances.shard_written(wallet, shard, "t")])
        store.append(
            "wallet-m-2#00",
            0,
            [NewEvent("WalletCredited", {}, "c")],
            [balances.shard_written(Wallet("m-2", {"EUR": 1}, 1), 0, "t")],
        )
        rows = sorted(balances.shards("m-1"), key=lambda row: row["shard"])
        assert [
            (row["shard"], {k: int(v) for k, v in row["balances"].items()}, int(row["version"])) for row in rows
        ] == [("00", {"EUR": 500}, 1), ("03", {"EUR": 250, "PLN": 100}, 1)]
        assert balances.shards("nobody") == []
