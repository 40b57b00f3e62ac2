"""The WalletBalances read model on DynamoDB (rows written by the wallet's event-store transactions)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from payments_shared.eventstore.dynamodb import PutItem, query_rows
from wallet.rows import KEY, balance_row, payouts_row


def _now() -> datetime:
    return datetime.now(UTC)


class DynamoDBBalances:
    def __init__(self, client: Any, table_name: str, clock: Callable[[], datetime] = _now) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock

    def shard_credited(
        self,
        merchant_id: str,
        shard: int,
        balances: Mapping[str, int],
        version: int,
        pending: Mapping[str, Mapping[str, int]] | None = None,
    ) -> PutItem:
        fields = balance_row(merchant_id, shard, balances, version, self._clock().isoformat(), pending)
        return PutItem(self._table, {k: fields.pop(k) for k in KEY}, fields)

    def paid_out(self, merchant_id: str, currency: str, paid_out: int, version: int) -> PutItem:
        fields = payouts_row(merchant_id, currency, paid_out, version, self._clock().isoformat())
        return PutItem(self._table, {k: fields.pop(k) for k in KEY}, fields)

    def shards(self, merchant_id: str) -> list[dict[str, Any]]:
        return query_rows(self._client, self._table, "merchant_id", merchant_id)
