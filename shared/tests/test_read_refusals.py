"""Reads DynamoDB refuses for a passing reason (throttled past botocore's retries) are StoreUnavailable: an API
answers 503 with Retry-After, never a 500, and a caller's lookup refused so is a 503 too, not a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from botocore.exceptions import ClientError

from payments_shared.callers import MERCHANT, Caller, DynamoDBCallerDirectory
from payments_shared.eventstore import NewEvent, StoreUnavailable
from payments_shared.eventstore.dynamodb import DynamoDBEventStore, get_row, query_rows, table_definition
from payments_shared.eventstore.refusals import passing_reason
from payments_shared.lambda_entry.http import http_entry
from payments_shared.observability.logging import build_logger
from payments_shared.observability.metrics import build_metrics
from payments_testing.aws import LambdaContext, aws_client
from payments_testing.throttling import throttle

PRINCIPALS, ROWS = "ApiPrincipals", "Rows"
MERCHANT_ARN = "arn:aws:iam::123456789012:user/merchant-1"


def client_error(code: str, reasons: list[str] | None = None) -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": "refused"}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": reason} for reason in reasons]
    return ClientError(response, "TransactWriteItems")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (client_error("ProvisionedThroughputExceededException"), "ProvisionedThroughputExceededException"),
        (client_error("ThrottlingException"), "ThrottlingException"),
        (client_error("TransactionCanceledException", ["None", "TransactionConflict"]), "TransactionConflict"),
        (client_error("TransactionCanceledException", ["ConditionalCheckFailed"]), None),
        (client_error("ValidationException"), None),
        (client_error("ResourceNotFoundException"), None),
    ],
)
def test_only_a_refusal_that_decided_nothing_is_passing(error: ClientError, reason: str | None) -> None:
    assert passing_reason(error) == reason


@pytest.fixture
def dynamodb(aws: None) -> Any:
    client = aws_client("dynamodb")
    client.create_table(**table_definition("events"))
    for table, key in ((PRINCIPALS, "principal_arn"), (ROWS, "id")):
        client.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    client.put_item(TableName=ROWS, Item={"id": {"S": "r-1"}, "n": {"S": "one"}})
    client.put_item(
        TableName=PRINCIPALS,
        Item={"principal_arn": {"S": MERCHANT_ARN}, "role": {"S": MERCHANT}, "merchant_id": {"S": "merchant-1"}},
    )
    return client


def test_a_throttled_read_is_store_unavailable_and_the_next_one_reads(dynamodb: Any) -> None:
    throttle(dynamodb, "GetItem")
    with pytest.raises(StoreUnavailable) as refused:
        get_row(dynamodb, ROWS, {"id": "r-1"})
    assert refused.value.reason == "ProvisionedThroughputExceededException"
    assert get_row(dynamodb, ROWS, {"id": "r-1"}) == {"id": "r-1", "n": "one"}
    throttle(dynamodb, "Query", code="ThrottlingException")
    with pytest.raises(StoreUnavailable):
        query_rows(dynamodb, ROWS, "id", "r-1")
    assert query_rows(dynamodb, ROWS, "id", "r-1") == [{"id": "r-1", "n": "one"}]


@pytest.mark.parametrize("operation", ["GetItem", "Query"])
def test_a_stream_whose_load_is_throttled_is_store_unavailable(dynamodb: Any, operation: str) -> None:
    store = DynamoDBEventStore(dynamodb, "events")
    store.append("s-1", 0, [NewEvent("Happened", {"n": 1}, correlation_id="c-1")])
    throttle(dynamodb, operation)  # the snapshot's GetItem, then the events' Query
    with pytest.raises(StoreUnavailable):
        store.load("s-1")
    assert [e.data for e in store.load("s-1").events] == [{"n": 1}]


def test_a_read_refused_for_good_stays_the_error_it_is(dynamodb: Any) -> None:
    throttle(dynamodb, "GetItem", code="ValidationException")
    with pytest.raises(ClientError) as refused:
        get_row(dynamodb, ROWS, {"id": "r-1"})
    assert not isinstance(refused.value, StoreUnavailable)


def api(directory: DynamoDBCallerDirectory, rows: Any) -> Any:
    app = APIGatewayRestResolver(enable_validation=True)

    @app.get("/rows/<row_id>")
    def row(row_id: str) -> dict[str, Any]:
        return get_row(rows, ROWS, {"id": row_id}) or {}

    return http_entry(app, logger=build_logger("api"), metrics=build_metrics("api"), callers=lambda: directory)


def get(path: str) -> dict[str, Any]:
    return {
        "httpMethod": "GET",
        "path": path,
        "resource": "/rows/{row_id}",
        "headers": {},
        "requestContext": {"requestId": "r-1", "identity": {"userArn": MERCHANT_ARN}},
        "isBase64Encoded": False,
    }


def assert_busy(response: dict[str, Any]) -> None:
    assert response["statusCode"] == 503
    headers = response.get("headers") or {}
    multi = response.get("multiValueHeaders") or {}
    assert headers.get("Retry-After") == "1" or multi.get("Retry-After") == ["1"]
    assert json.loads(response["body"])["type"] == "urn:payments:problem:busy"


def test_an_api_read_or_caller_lookup_throttled_is_a_503_with_retry_after_then_the_retry_answers(
    dynamodb: Any,
) -> None:
    directory = DynamoDBCallerDirectory(dynamodb, PRINCIPALS)
    handler = api(directory, dynamodb)
    throttle(dynamodb, "GetItem")  # the principal's lookup: before any route runs
    assert_busy(handler(get("/rows/r-1"), LambdaContext()))
    assert handler(get("/rows/r-1"), LambdaContext())["statusCode"] == 200  # the retry; its caller now cached
    assert directory.caller(MERCHANT_ARN) == Caller(MERCHANT_ARN, MERCHANT, "merchant-1")
    throttle(dynamodb, "GetItem")  # the route's own read
    assert_busy(handler(get("/rows/r-1"), LambdaContext()))
    answered = handler(get("/rows/r-1"), LambdaContext())
    assert answered["statusCode"] == 200 and json.loads(answered["body"]) == {"id": "r-1", "n": "one"}
