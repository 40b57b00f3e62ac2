"""The same PaymentStatusUpdated delivered to the ledger by several invocations at once posts one journal entry.

On moto with DynamoDB's strictness (StrictTransactions), the deliveries meet before their first write, then
either overlap in flight (the others are cancelled with TransactionConflict) or write one after the other (the
others find the version taken): payments_testing.racing forces each. A delivery whose retries run out is
reported, as the queue would redeliver it, and is redelivered here.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from ledger.adapters.dynamodb_accounts import DynamoDBAccountTotals
from ledger.entrypoints import post, totals
from payments_shared.eventstore.dynamodb import EVENT, DynamoDBEventStore
from payments_testing.aws import LambdaContext, SerializedClient, aws_client
from payments_testing.events import deliver, payment_status_updated
from payments_testing.racing import RacingWrites, at_once
from payments_testing.streams import read_stream, stream_event
from payments_testing.strict_dynamodb import StrictTransactions

DELIVERIES = 6


@pytest.fixture
def ledger(runtime: ModuleType, ledger_tables: tuple[Any, str], strict: StrictTransactions) -> dict[str, Any]:
    dynamodb, stream_arn = ledger_tables
    racing = RacingWrites(SerializedClient(dynamodb))  # moto's backend is not thread-safe: see SerializedClient
    runtime.container.event_store.override(DynamoDBEventStore(racing, "ledger-events"))
    runtime.container.totals.override(DynamoDBAccountTotals(racing, "LedgerAccounts"))
    return {
        "dynamodb": dynamodb,
        "stream_arn": stream_arn,
        "strict": strict,
        "racing": racing,
        "runtime": runtime,
    }


@pytest.mark.parametrize(("overlap", "losers_meet"), [(True, "TransactionConflict"), (False, "ConditionalCheckFailed")])
def test_concurrent_duplicate_deliveries_post_one_entry_and_count_it_once(
    ledger: dict[str, Any], overlap: bool, losers_meet: str
) -> None:
    runtime, racing = ledger["runtime"], ledger["racing"]
    event = payment_status_updated(amount="12.34")
    order_id = event["detail"]["data"]["payment_order_id"]

    racing.arm(ledger["strict"], DELIVERIES, overlap=overlap)
    reported = at_once([lambda: deliver(post.handler, event) for _ in range(DELIVERIES)])
    assert racing.first_outcomes == {"written": 1, losers_meet: DELIVERIES - 1}  # the race happened as forced
    assert all(failed in ([], [0]) for failed in reported), reported
    for _ in [failed for failed in reported if failed]:  # retries ran out: the queue's redelivery
        assert deliver(post.handler, event) == []

    journal = [
        item
        for item in ledger["dynamodb"].scan(TableName="ledger-events")["Items"]
        if item.get("record_type", {}).get("S") == EVENT
    ]
    assert [(i["stream_id"]["S"], i["event_type"]["S"]) for i in journal] == [
        (f"journal-{order_id}", "JournalEntryPosted")
    ]

    records = read_stream(aws_client("dynamodbstreams"), ledger["stream_arn"])
    for _ in range(2):  # the totals projection, fed by the stream (at least once)
        assert totals.handler(stream_event(records), LambdaContext()) == {"batchItemFailures": []}
    balance = runtime.container.app().trial_balance()
    assert balance.totals() == {"EUR": (1234, 1234)}
