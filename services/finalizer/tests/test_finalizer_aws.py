"""The finalizer on moto: results in DynamoDB, PaymentStatusUpdated published through the relay."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from dependency_injector import providers
from fake_psp import FakePsp
from finalizer_testdata import DECLINED_CARD, payment_initiated
from moto import mock_aws
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from finalizer.entrypoints import charge, relay
from payments_shared.event_patterns import load_pattern
from payments_shared.events import EventEnvelope, utc_now
from payments_shared.eventstore.dynamodb import table_definition
from payments_shared.sealed_cards import KmsCardCipher
from payments_testing.aws import CountingClient, LambdaContext, aws_client
from payments_testing.events import deliver
from payments_testing.streams import read_stream

INSUFFICIENT = "insufficient_funds: Your card has insufficient funds."


@pytest.fixture
def world(runtime: ModuleType, psp: FakePsp) -> Iterator[dict[str, Any]]:
    with mock_aws():
        dynamodb, events, sqs = aws_client("dynamodb"), aws_client("events"), aws_client("sqs")
        stream_arn = dynamodb.create_table(**table_definition("finalizer-events"))["TableDescription"][
            "LatestStreamArn"
        ]
        dynamodb.create_table(
            TableName="BreakingTheBank",
            KeySchema=[{"AttributeName": "payment_order_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "payment_order_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        events.create_event_bus(Name="payments")
        queue_url = sqs.create_queue(QueueName="ledger-inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        pattern = json.dumps(load_pattern("payment_status_updated"))
        events.put_rule(Name="status", EventBusName="payments", EventPattern=pattern)
        events.put_targets(Rule="status", EventBusName="payments", Targets=[{"Id": "q", "Arn": queue_arn}])
        # The composition root as deployed: the card key in KMS, Stripe's secret key in SSM (SecureString).
        kms, ssm = aws_client("kms"), aws_client("ssm")
        card_key = kms.create_key(Description="card data")["KeyMetadata"]["KeyId"]
        ssm.put_parameter(Name="/payments/finalizer/stripe-secret-key", Value=psp.api_key, Type="SecureString")
        container = runtime.container
        container.card_cipher.reset_override()
        container.psp.reset_override()
        deployed_base = container.config.psp_api_base()
        container.config.psp_api_base.from_value(psp.url)
        yield {
            "dynamodb": dynamodb,
            "sqs": sqs,
            "sealer": KmsCardCipher(kms, card_key),
            "queue_url": queue_url,
            "stream_arn": stream_arn,
            "streams": aws_client("dynamodbstreams"),
        }
        container.config.psp_api_base.from_value(deployed_base)


def test_a_first_delivery_is_one_conditional_write_and_a_duplicate_reads_only_after_its_write_is_refused(
    runtime: ModuleType, world: dict[str, Any], psp: FakePsp
) -> None:
    counting = CountingClient(world["dynamodb"])
    runtime.container.dynamodb.override(providers.Object(counting))
    runtime.container.reset_singletons()  # the store and the results rows built on the counting client
    try:
        event = payment_initiated(payment_details=None, card=None, payment_method="pm_card_visa")
        event["detail"]["occurred_at"] = utc_now().isoformat()  # just published: its first delivery
        assert deliver(charge.handler, event) == []
        assert dict(counting.calls) == {"transact_write_items": 1}  # no Query of the stream, no KMS either
        counting.calls.clear()
        assert deliver(charge.handler, event) == []  # a duplicate publish, seconds later
        assert dict(counting.calls) == {"transact_write_items": 1, "query": 1}  # refused, then read: nothing new
        order_id = str(event["detail"]["data"]["payment_order_id"])
        assert psp.intents[order_id] == 1 and psp.charges[order_id] == 1
    finally:
        runtime.container.dynamodb.reset_override()
        runtime.container.reset_singletons()


def test_outcomes_are_stored_and_published_as_payment_status_updated(
    world: dict[str, Any], psp: FakePsp, spans: InMemorySpanExporter
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    approved = payment_initiated(traceparent=f"00-{trace_id}-00f067aa0ba902b7-01", cipher=world["sealer"])
    declined = payment_initiated(DECLINED_CARD, cipher=world["sealer"])
    for event in (approved, declined, approved):
        assert deliver(charge.handler, event) == []

    rows = {
        item["payment_order_id"]["S"]: item for item in world["dynamodb"].scan(TableName="BreakingTheBank")["Items"]
    }
    ok, ko = (str(e["detail"]["data"]["payment_order_id"]) for e in (approved, declined))
    assert rows[ok]["payment_status"]["S"] == "SUCCESS" and rows[ko]["payment_status"]["S"] == "FAILED"
    assert rows[ko]["error_message"]["S"] == INSUFFICIENT and rows[ok]["amount"]["S"] == "12.34"
    assert rows[ko]["decline_code"]["S"] == "insufficient_funds" and rows[ok]["psp_reference"]["S"].startswith("pi_")

    records = read_stream(world["streams"], world["stream_arn"])
    assert relay.handler({"Records": records}, LambdaContext()) == {"batchItemFailures": []}
    messages = world["sqs"].receive_message(QueueUrl=world["queue_url"], MaxNumberOfMessages=10)["Messages"]
    published = {
        e.data["payment_order_id"]: e
        for e in (EventEnvelope.from_eventbridge_event(json.loads(m["Body"])) for m in messages)
    }
    assert set(published) == {ok, ko}
    assert all(e.event_type == "PaymentStatusUpdated" for e in published.values())
    assert {k: published[ko].data[k] for k in ("status", "error_message", "merchant_id", "amount", "currency")} == {
        "status": "FAILED",
        "error_message": INSUFFICIENT,
        "merchant_id": "merchant-1",
        "amount": "12.34",
        "currency": "EUR",
    }
    # The incoming trace runs through the PSP call and on into the published event.
    psp_span = next(
        s
        for s in spans.get_finished_spans()
        if s.kind == SpanKind.CLIENT and s.name == "psp charge" and f"{s.context.trace_id:032x}" == trace_id
    )
    assert psp_span is not None
    assert (published[ok].trace.traceparent or "").startswith(f"00-{trace_id}-")
