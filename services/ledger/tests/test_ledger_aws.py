"""The ledger on moto: journal streams, and account totals projected from the ledger's DynamoDB stream."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

from ledger.entrypoints import api, post, totals
from payments_testing.aws import LambdaContext, aws_client
from payments_testing.events import deliver, payment_status_updated
from payments_testing.http import OPERATOR_1, api_event
from payments_testing.streams import read_stream, stream_event


def test_postings_and_trial_balance_on_dynamodb(runtime: ModuleType, ledger_tables: tuple[Any, str]) -> None:
    dynamodb, stream_arn = ledger_tables
    first = payment_status_updated(amount="12.34")
    for event in (first, first, payment_status_updated(amount="1000", currency="JPY", merchant_id="m-2")):
        assert deliver(post.handler, event) == []
    records = read_stream(aws_client("dynamodbstreams"), stream_arn)
    for _ in range(2):  # the stream delivers at least once: a replayed batch adds nothing
        assert totals.handler(stream_event(records), LambdaContext()) == {"batchItemFailures": []}
    books = api_event("GET", "/ledger/trial-balance", caller=OPERATOR_1)
    response = api.handler(books, LambdaContext())
    body = json.loads(response["body"])
    assert body["balanced"] is True
    assert body["totals"] == {
        "EUR": {"debits_minor": 1234, "credits_minor": 1234},
        "JPY": {"debits_minor": 1000, "credits_minor": 1000},
    }
    journals = dynamodb.scan(TableName="ledger-events")["Items"]
    assert sorted(i["event_type"]["S"] for i in journals if "event_type" in i) == ["JournalEntryPosted"] * 2
