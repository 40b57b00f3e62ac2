"""The initializer's handlers on moto: DynamoDB, KMS, and EventBridge through the outbox relay."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from dependency_injector import providers
from initializer_testdata import payment_method_order, valid_order
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from initializer.entrypoints import api, outcome, relay
from payments_shared.contracts import PaymentInitiatedData
from payments_shared.events import EventEnvelope
from payments_shared.sealed_cards import KmsCardCipher
from payments_testing.aws import CountingClient, LambdaContext, aws_client
from payments_testing.events import deliver, dispute_status_updated, payment_action_required, payment_status_updated
from payments_testing.http import api_event, json_body
from payments_testing.streams import read_stream
from payments_testing.strict_dynamodb import StrictTransactions

CARD = "4111111111111111"


@pytest.fixture
def world(runtime: ModuleType, initializer_tables: tuple[Any, str]) -> Iterator[dict[str, Any]]:
    dynamodb, stream_arn = initializer_tables
    kms, events, sqs = (aws_client(s) for s in ("kms", "events", "sqs"))
    data_key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/payments-card-data", TargetKeyId=data_key)
    mac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/payments-card-fingerprint", TargetKeyId=mac_key)
    events.create_event_bus(Name="payments")
    queue_url = sqs.create_queue(QueueName="finalizer-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="initiated",
        EventBusName="payments",
        EventPattern=json.dumps({"source": ["payments.initializer"], "detail-type": ["PaymentInitiated"]}),
    )
    events.put_targets(Rule="initiated", EventBusName="payments", Targets=[{"Id": "q", "Arn": queue_arn}])
    yield {
        "dynamodb": dynamodb,
        "kms": kms,
        "sqs": sqs,
        "queue_url": queue_url,
        "stream_arn": stream_arn,
        "streams": aws_client("dynamodbstreams"),
    }


def relay_all(world: dict[str, Any]) -> list[EventEnvelope]:
    records = read_stream(world["streams"], world["stream_arn"])
    response = relay.handler({"Records": records}, LambdaContext())
    assert response == {"batchItemFailures": []}
    messages = world["sqs"].receive_message(QueueUrl=world["queue_url"], MaxNumberOfMessages=10).get("Messages", [])
    return [EventEnvelope.from_eventbridge_event(json.loads(m["Body"])) for m in messages]


def test_order_is_stored_encrypted_and_published_with_its_trace(
    world: dict[str, Any], spans: InMemorySpanExporter
) -> None:
    response = api.handler(api_event("POST", "/payments", valid_order(), {"Idempotency-Key": "k1"}), LambdaContext())
    assert response["statusCode"] == 201, response["body"]
    order_id = json_body(response)["payment_order_id"]

    row = world["dynamodb"].get_item(TableName="ShowMeTheMoney", Key={"payment_order_id": {"S": order_id}})["Item"]
    assert row["status"]["S"] == "INITIATED" and row["amount"]["S"] == "12.34" and row["currency"]["S"] == "EUR"
    assert row["payment_details"]["S"].startswith("kms1.") and CARD not in json.dumps(row)
    opened = KmsCardCipher(world["kms"]).open(row["payment_details"]["S"], order_id)
    assert opened["card_number"] == CARD and "cvv" not in opened
    stored = world["dynamodb"].query(
        TableName="initializer-events",
        KeyConditionExpression="stream_id = :s",
        ExpressionAttributeValues={":s": {"S": f"payment-{order_id}"}},
    )["Items"]
    assert [item["event_type"]["S"] for item in stored] == ["PaymentInitiated"]
    assert CARD not in json.dumps(stored)

    [published] = relay_all(world)
    assert published.event_type == "PaymentInitiated" and published.aggregate_id == f"payment-{order_id}"
    assert published.data["payment_order_id"] == order_id and published.data["amount"] == "12.34"
    assert set(published.data["card"]) == {"brand", "last4", "fingerprint"}
    # Only the contract leaves the service: the stored event's buyer and request fingerprint stay.
    assert set(published.data) == set(PaymentInitiatedData.model_fields)
    assert json.loads(stored[0]["data"]["S"])["buyer"]["email"] and "buyer" not in published.data
    assert CARD not in published.model_dump_json()
    sealed_for_finalizer = KmsCardCipher(world["kms"]).open(published.data["payment_details"], order_id)
    assert sealed_for_finalizer["card_number"] == CARD and "cvv" not in sealed_for_finalizer

    server = next(s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER)
    producer = next(s for s in spans.get_finished_spans() if s.kind == SpanKind.PRODUCER)
    assert producer.context.trace_id == server.context.trace_id
    traceparent = published.trace.traceparent or ""
    assert traceparent.startswith(f"00-{producer.context.trace_id:032x}-{producer.context.span_id:016x}-")
    aws_calls = {
        s.attributes.get("rpc.method") for s in spans.get_finished_spans() if s.kind == SpanKind.CLIENT and s.attributes
    }
    assert {"GenerateMac", "Encrypt", "TransactWriteItems"} <= aws_calls  # botocore is instrumented


def test_outcome_projection_updates_the_read_model_once(world: dict[str, Any]) -> None:
    created = api.handler(api_event("POST", "/payments", valid_order(), {"Idempotency-Key": "k2"}), LambdaContext())
    order_id = json_body(created)["payment_order_id"]
    failed = payment_status_updated(order_id=order_id, status="FAILED")
    assert deliver(outcome.handler, failed) == []
    assert deliver(outcome.handler, failed) == []  # duplicate delivery
    late_flip = payment_status_updated(order_id=order_id, status="SUCCESS")  # another event, too late
    assert deliver(outcome.handler, late_flip) == []

    event = api_event(
        "GET",
        f"/payments/{order_id}",
        resource="/payments/{payment_order_id}",
        path_parameters={"payment_order_id": order_id},
    )
    body = json_body(api.handler(event, LambdaContext()))
    assert (body["status"], body["failure_reason"]) == ("FAILED", "insufficient funds")
    stored = world["dynamodb"].query(
        TableName="initializer-events",
        KeyConditionExpression="stream_id = :s",
        ExpressionAttributeValues={":s": {"S": f"payment-{order_id}"}},
    )["Items"]
    assert [item["event_type"]["S"] for item in stored] == ["PaymentInitiated", "PaymentOutcomeRecorded"]


def test_an_authentication_to_do_shows_until_the_outcome_and_never_after_it(world: dict[str, Any]) -> None:
    body = {**valid_order(), "return_url": "https://shop.example/paid"}
    created = api.handler(api_event("POST", "/payments", body, {"Idempotency-Key": "k3"}), LambdaContext())
    order_id = json_body(created)["payment_order_id"]
    [published] = relay_all(world)
    assert published.data["return_url"] == "https://shop.example/paid"  # the finalizer hands it to Stripe

    def shown() -> dict[str, Any]:
        event = api_event(
            "GET",
            f"/payments/{order_id}",
            resource="/payments/{payment_order_id}",
            path_parameters={"payment_order_id": order_id},
        )
        return json_body(api.handler(event, LambdaContext()))

    action = payment_action_required(order_id)
    assert deliver(outcome.handler, action, action) == []  # twice: recorded once
    awaiting = shown()
    assert awaiting["status"] == "REQUIRES_ACTION"
    assert awaiting["next_action"] == {
        "type": "redirect_to_url",
        "redirect_url": "https://hooks.stripe.com/3d_secure_2/hosted?payment_intent=pi_3ds",
        "client_secret": "pi_3ds_secret_x",
    }
    assert deliver(outcome.handler, payment_status_updated(order_id=order_id, status="SUCCESS")) == []
    done = shown()
    assert (done["status"], done.get("next_action")) == ("SUCCESS", None)
    assert deliver(outcome.handler, payment_action_required(order_id)) == []  # overtaken on the bus: ignored
    assert shown()["status"] == "SUCCESS"
    stored = world["dynamodb"].query(
        TableName="initializer-events",
        KeyConditionExpression="stream_id = :s",
        ExpressionAttributeValues={":s": {"S": f"payment-{order_id}"}},
    )["Items"]
    assert [item["event_type"]["S"] for item in stored] == [
        "PaymentInitiated",
        "PaymentActionRecorded",
        "PaymentOutcomeRecorded",
    ]


def test_a_dispute_round_trips_through_the_dynamodb_row(world: dict[str, Any]) -> None:
    created = api.handler(api_event("POST", "/payments", valid_order(), {"Idempotency-Key": "k-dp"}), LambdaContext())
    order_id = json_body(created)["payment_order_id"]
    assert deliver(outcome.handler, payment_status_updated(order_id=order_id, status="SUCCESS")) == []
    opened = dispute_status_updated(order_id, "dp_9", status="OPENED", amount_minor=250, fee_minor=1500)
    assert deliver(outcome.handler, opened) == []
    assert deliver(outcome.handler, opened) == []  # a redelivery

    event = api_event(
        "GET",
        f"/payments/{order_id}",
        resource="/payments/{payment_order_id}",
        path_parameters={"payment_order_id": order_id},
    )
    body = json_body(api.handler(event, LambdaContext()))
    assert body["status"] == "DISPUTED"
    assert body["disputes"] == [
        {
            "dispute_id": "dp_9",
            "amount": "2.50",
            "currency": "EUR",
            "fee": "15.00",
            "status": "OPENED",
            "reason": "fraudulent",
        }
    ]
    assert deliver(outcome.handler, dispute_status_updated(order_id, "dp_9", status="LOST", amount_minor=250)) == []
    body = json_body(api.handler(event, LambdaContext()))
    assert (body["status"], body["disputes"][0]["status"]) == ("SUCCESS", "LOST")


def test_the_outcome_of_a_first_charge_is_one_write_without_a_read_and_a_duplicate_reads_after_its_refusal(
    runtime: ModuleType, world: dict[str, Any]
) -> None:
    created = api.handler(api_event("POST", "/payments", valid_order(), {"Idempotency-Key": "k3"}), LambdaContext())
    order_id = json_body(created)["payment_order_id"]
    counting = CountingClient(world["dynamodb"])
    runtime.container.dynamodb.override(providers.Object(counting))
    runtime.container.reset_singletons()  # the store and the orders' rows built on the counting client
    try:
        succeeded = payment_status_updated(order_id=order_id, initiated_at="2026-11-25T10:00:00+00:00")
        assert deliver(outcome.handler, succeeded) == []
        assert dict(counting.calls) == {"transact_write_items": 1}  # no Query of the order's stream
        # The event and the row, whose guard on the order's version stands for the version check.
        assert dict(counting.items) == {"Put": 1, "Update": 1}
        counting.clear()
        assert deliver(outcome.handler, succeeded) == []  # a duplicate: refused by its condition, then read
        assert dict(counting.calls) == {"transact_write_items": 1, "query": 1}
        counting.calls.clear()
        late = payment_status_updated(order_id=order_id, status="FAILED")  # no first-charge facts: reads first
        assert deliver(outcome.handler, late) == []
        assert dict(counting.calls) == {"query": 1}  # nothing new: nothing written
    finally:
        runtime.container.dynamodb.reset_override()
        runtime.container.reset_singletons()
    row = world["dynamodb"].get_item(TableName="ShowMeTheMoney", Key={"payment_order_id": {"S": order_id}})["Item"]
    assert (row["status"]["S"], row["version"]["N"]) == ("SUCCESS", "2")
    stored = world["dynamodb"].query(
        TableName="initializer-events",
        KeyConditionExpression="stream_id = :s",
        ExpressionAttributeValues={":s": {"S": f"payment-{order_id}"}},
    )["Items"]
    assert [item["event_type"]["S"] for item in stored] == ["PaymentInitiated", "PaymentOutcomeRecorded"]


def test_an_unread_outcome_on_an_order_not_as_presumed_is_refused_by_the_row_and_decided_on_the_order_read(
    runtime: ModuleType, world: dict[str, Any]
) -> None:
    manual = valid_order(capture_method="manual")
    created = api.handler(api_event("POST", "/payments", manual, {"Idempotency-Key": "k4"}), LambdaContext())
    order_id = json_body(created)["payment_order_id"]
    declined = payment_status_updated(order_id=order_id, status="FAILED", initiated_at="2026-11-25T10:00:00+00:00")
    assert deliver(outcome.handler, declined) == []
    stored = world["dynamodb"].query(
        TableName="initializer-events",
        KeyConditionExpression="stream_id = :s",
        ExpressionAttributeValues={":s": {"S": f"payment-{order_id}"}},
    )["Items"]
    recorded = json.loads(stored[-1]["data"]["S"])
    assert recorded["status"] == "FAILED" and recorded["amount_minor"] == 1234  # the manual order's, as read


def place(count: int, prefix: str) -> list[str]:
    """Orders paid with a PaymentMethod (no card for KMS to seal), by the API."""
    keys = [{"Idempotency-Key": f"{prefix}-{n}"} for n in range(count)]
    requests = [api_event("POST", "/payments", payment_method_order(), key) for key in keys]
    created = [api.handler(request, LambdaContext()) for request in requests]
    return [json_body(response)["payment_order_id"] for response in created]


def first_outcome(order_id: str) -> dict[str, Any]:
    return payment_status_updated(order_id=order_id, initiated_at="2026-11-25T10:00:00+00:00")


def recorded(world: dict[str, Any], order_id: str) -> tuple[str, str, list[str]]:
    """The order's row (status, version) and its stream's event types."""
    row = world["dynamodb"].get_item(TableName="ShowMeTheMoney", Key={"payment_order_id": {"S": order_id}})["Item"]
    stored = world["dynamodb"].query(
        TableName="initializer-events",
        KeyConditionExpression="stream_id = :s",
        ExpressionAttributeValues={":s": {"S": f"payment-{order_id}"}},
    )["Items"]
    return row["status"]["S"], row["version"]["N"], [item["event_type"]["S"] for item in stored]


def test_a_batch_of_ten_first_charges_outcomes_is_one_write_and_a_redelivered_one_a_refused_write_and_its_read(
    runtime: ModuleType, world: dict[str, Any]
) -> None:
    orders, more = place(10, "b"), place(10, "c")
    assert deliver(outcome.handler, first_outcome(more[4])) == []  # recorded before: the next batch redelivers it
    counting = CountingClient(world["dynamodb"])
    runtime.container.dynamodb.override(providers.Object(counting))
    runtime.container.reset_singletons()
    try:
        assert deliver(outcome.handler, *(first_outcome(order) for order in orders)) == []
        assert dict(counting.calls) == {"transact_write_items": 1}  # ten orders' outcomes, no Query
        assert dict(counting.items) == {"Put": 10, "Update": 10}  # an event and a guarded row each
        counting.clear()
        assert deliver(outcome.handler, *(first_outcome(order) for order in more)) == []
        # Refused at the redelivered one's guard, the nine written without it, then it alone is read: nothing new.
        assert dict(counting.calls) == {"transact_write_items": 2, "query": 1}
    finally:
        runtime.container.dynamodb.reset_override()
        runtime.container.reset_singletons()
    final = ("SUCCESS", "2", ["PaymentInitiated", "PaymentOutcomeRecorded"])
    assert all(recorded(world, order) == final for order in orders + more)


def test_only_the_outcome_whose_write_is_refused_for_its_own_reason_comes_back(
    runtime: ModuleType, world: dict[str, Any]
) -> None:
    orders = place(3, "d")
    strict = StrictTransactions().install()
    try:
        strict.cancel_where("ValidationError", "ShowMeTheMoney", "payment_order_id", orders[1])
        assert deliver(outcome.handler, *(first_outcome(order) for order in orders)) == [1]
        assert [recorded(world, order)[0] for order in orders] == ["SUCCESS", "INITIATED", "SUCCESS"]
        assert deliver(outcome.handler, first_outcome(orders[1])) == []  # redelivered: recorded now
    finally:
        strict.uninstall()
    assert recorded(world, orders[1]) == ("SUCCESS", "2", ["PaymentInitiated", "PaymentOutcomeRecorded"])


def test_two_outcomes_of_one_order_in_a_batch_go_in_order_and_the_others_in_one_write(
    runtime: ModuleType, world: dict[str, Any]
) -> None:
    orders = place(3, "e")
    counting = CountingClient(world["dynamodb"])
    runtime.container.dynamodb.override(providers.Object(counting))
    runtime.container.reset_singletons()
    try:
        twice = first_outcome(orders[0])
        batch = [twice, first_outcome(orders[1]), twice, first_outcome(orders[2])]
        assert deliver(outcome.handler, *batch) == []
        # Round one: the three orders in one write; round two: the copy, refused by its guard, then read.
        assert dict(counting.calls) == {"transact_write_items": 2, "query": 1}
    finally:
        runtime.container.dynamodb.reset_override()
        runtime.container.reset_singletons()
    assert all(recorded(world, order)[:2] == ("SUCCESS", "2") for order in orders)
