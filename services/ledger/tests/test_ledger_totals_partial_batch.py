"""The account-totals projection when a stream batch fails part-way (moto, DynamoDB as strict as the real one).

A DynamoDB stream batch is added a group of entries at a time, each group in one transaction (as many entries as
a transaction's items allow), and stops at the first group that fails; the response names its first record, so
the event source mapping retries from there (it checkpoints at the lowest sequence number reported). What came
before is committed once and stays so; what follows is applied only by the retry; and a retry that delivers
records again (a whole batch, after a timeout) counts nothing twice.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from ledger import app as app_module
from ledger.entrypoints import post, totals
from payments_shared.eventstore.dynamodb import EVENT
from payments_shared.retry import DEFAULT_RETRY
from payments_testing.aws import LambdaContext, aws_client
from payments_testing.events import deliver, payment_status_updated
from payments_testing.streams import read_stream, stream_event
from payments_testing.strict_dynamodb import StrictTransactions

AMOUNTS = ["1.00", "20.00", "300.00"]  # one journal entry each: what each one adds is told apart in the totals


@pytest.fixture
def ledger(runtime: ModuleType, ledger_tables: tuple[Any, str], strict: StrictTransactions) -> dict[str, Any]:
    _, stream_arn = ledger_tables
    for amount in AMOUNTS:
        assert deliver(post.handler, payment_status_updated(amount=amount)) == []
    records = [
        r
        for r in read_stream(aws_client("dynamodbstreams"), stream_arn)
        if r["dynamodb"]["NewImage"].get("record_type", {}).get("S") == EVENT
    ]
    assert len(records) == len(AMOUNTS)
    return {"records": records, "strict": strict, "runtime": runtime}


def psp_clearing(runtime: ModuleType) -> int:
    """What the totals hold for psp_clearing: the sum of the entries added (each posting debits it)."""
    return sum(a.debits_minor for a in runtime.container.app().trial_balance().accounts if a.account == "psp_clearing")


def minor(amount: str) -> int:
    return int(amount.replace(".", ""))


def project(runtime: ModuleType, records: list[dict[str, Any]]) -> list[str]:
    response = totals.handler(stream_event(records), LambdaContext())
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def test_a_batch_is_one_transaction_and_a_refused_one_is_retried_whole_counting_nothing_twice(
    ledger: dict[str, Any],
) -> None:
    runtime, records, strict = ledger["runtime"], ledger["records"], ledger["strict"]
    sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
    before = strict.transactions
    strict.cancel_next(*["ThrottlingError"] * DEFAULT_RETRY.attempts)  # refused on every attempt
    assert project(runtime, records) == [sequence[0]]  # the stream retries the batch from its first record
    assert psp_clearing(runtime) == 0  # all or nothing
    assert project(runtime, records) == []
    assert psp_clearing(runtime) == sum(minor(a) for a in AMOUNTS)
    # The three entries in one transaction per attempt (markers and one increment per account row).
    assert strict.transactions - before == DEFAULT_RETRY.attempts + 1
    assert project(runtime, records) == []  # delivered again, whole: each entry is already counted
    assert psp_clearing(runtime) == sum(minor(a) for a in AMOUNTS)


def test_a_batch_failing_part_way_keeps_what_came_before_and_its_retry_counts_nothing_twice(
    ledger: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime, records, strict = ledger["runtime"], ledger["records"], ledger["strict"]
    sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
    # A transaction of four items: two entries' markers and their two account rows, so the batch is two groups.
    monkeypatch.setattr(app_module, "MAX_ITEMS_PER_APPEND", 4)

    def refuse_the_next_group() -> None:
        # Once the first group's transaction is in flight, DynamoDB throttles the next one on every attempt.
        strict.hold = lambda: None
        strict.cancel_next(*["ThrottlingError"] * DEFAULT_RETRY.attempts)

    strict.hold = refuse_the_next_group
    assert project(runtime, records) == [sequence[2]]  # the stream retries from the second group's record
    assert psp_clearing(runtime) == minor(AMOUNTS[0]) + minor(AMOUNTS[1])  # the first group is counted
    assert strict.injected["ThrottlingError"] == DEFAULT_RETRY.attempts  # every refusal was consumed

    assert project(runtime, records[2:]) == []  # the retry, from the checkpoint on
    assert psp_clearing(runtime) == sum(minor(a) for a in AMOUNTS)
    assert project(runtime, records) == []  # delivered again, whole: each entry is already counted
    balance = runtime.container.app().trial_balance()
    assert psp_clearing(runtime) == sum(minor(a) for a in AMOUNTS) and balance.is_balanced()
