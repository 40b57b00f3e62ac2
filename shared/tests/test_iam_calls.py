"""API calls → the IAM requests AWS authorizes for them (payments_testing.iam.calls)."""

from __future__ import annotations

from typing import Any

import pytest

from payments_testing.iam.calls import Authorization, authorizations

TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/{}"


def requests(service: str, operation: str, params: dict[str, Any], response: Any = None) -> list[Authorization]:
    return authorizations(service, operation, params, response or {}, region="eu-west-1", account="123456789012")


def test_a_transaction_is_authorized_item_by_item_with_each_items_own_action() -> None:
    """DynamoDB's IAM actions have no TransactWriteItems: each Put, Update, ConditionCheck, Delete is checked
    as PutItem, UpdateItem, ConditionCheckItem, DeleteItem on its own table."""
    items = [
        {"ConditionCheck": {"TableName": "events"}},
        {"Put": {"TableName": "events"}},
        {"Put": {"TableName": "events"}},
        {"Update": {"TableName": "orders"}},
        {"Delete": {"TableName": "x"}},
    ]
    assert {(r.action, r.resource) for r in requests("dynamodb", "TransactWriteItems", {"TransactItems": items})} == {
        ("dynamodb:ConditionCheckItem", TABLE.format("events")),
        ("dynamodb:PutItem", TABLE.format("events")),
        ("dynamodb:UpdateItem", TABLE.format("orders")),
        ("dynamodb:DeleteItem", TABLE.format("x")),
    }


def test_single_item_calls_name_their_table_or_index() -> None:
    assert requests("dynamodb", "Query", {"TableName": "t", "IndexName": "by-merchant"}) == [
        Authorization("dynamodb:Query", TABLE.format("t") + "/index/by-merchant")
    ]
    assert requests("dynamodb", "GetItem", {"TableName": TABLE.format("t")}) == [
        Authorization("dynamodb:GetItem", TABLE.format("t"))
    ]


def test_a_stream_read_is_authorized_on_the_stream_its_shard_iterator_belongs_to() -> None:
    stream = TABLE.format("events") + "/stream/2026-12-04T20:56:50.051716"
    assert requests("dynamodbstreams", "GetRecords", {"ShardIterator": f"{stream}|1|AAAA"}) == [
        Authorization("dynamodb:GetRecords", stream)
    ]


def test_sqs_batch_calls_are_authorized_as_their_single_form_on_the_queue_of_the_url() -> None:
    url = "http://127.0.0.1:5000/123456789012/ledger-inbox"
    assert requests("sqs", "DeleteMessageBatch", {"QueueUrl": url, "Entries": []}) == [
        Authorization("sqs:DeleteMessage", "arn:aws:sqs:eu-west-1:123456789012:ledger-inbox")
    ]


def test_put_events_is_authorized_per_bus_with_each_entrys_source() -> None:
    entries = [{"EventBusName": "payments", "Source": "payments.finalizer", "DetailType": "PaymentStatusUpdated"}] * 3
    (request,) = requests("events", "PutEvents", {"Entries": entries})
    assert request.resource == "arn:aws:events:eu-west-1:123456789012:event-bus/payments"
    assert request.context_dict()["events:source"] == "payments.finalizer"


def test_kms_checks_the_key_the_response_names_with_the_encryption_context_and_alias() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    (request,) = requests(
        "kms", "Encrypt", {"KeyId": "alias/card", "EncryptionContext": {"purpose": "p"}}, {"KeyId": key}
    )
    assert request.resource == key
    assert request.context_dict() == {
        "kms:EncryptionContext:purpose": "p",
        "kms:EncryptionContextKeys": ("purpose",),
        "kms:RequestAlias": "alias/card",
    }
    (bare,) = requests("kms", "GenerateMac", {"KeyId": "k-1"}, {"KeyId": "k-1"})
    assert bare.resource == "arn:aws:kms:eu-west-1:123456789012:key/k-1"


def test_a_parameter_is_authorized_by_its_arn() -> None:
    assert requests("ssm", "GetParameter", {"Name": "/payments/finalizer/key", "WithDecryption": True}) == [
        Authorization("ssm:GetParameter", "arn:aws:ssm:eu-west-1:123456789012:parameter/payments/finalizer/key")
    ]


def test_a_call_nobody_mapped_is_refused_not_waved_through() -> None:
    with pytest.raises(ValueError, match=r"s3\.PutObject"):
        requests("s3", "PutObject", {"Bucket": "b", "Key": "k"})
