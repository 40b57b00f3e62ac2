"""A pruned model serializes and parses the kept operations exactly as botocore's whole model does."""

from __future__ import annotations

import gzip
import json
from typing import Any

import botocore.session
import pytest
from botocore.model import ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from lean_lambda.botocore_models import keep_operations, prune_model_file

LOADER = botocore.session.get_session().get_component("data_loader")


def whole(service: str) -> dict[str, Any]:
    return LOADER.load_service_model(service, "service-2")


# One request per protocol our functions speak: JSON 1.0 (DynamoDB), JSON 1.1 (SSM, KMS, EventBridge), SQS's JSON.
REQUESTS = [
    ("ssm", "GetParameter", {"Name": "/payments/finalizer/stripe-secret-key", "WithDecryption": True}),
    ("kms", "Decrypt", {"CiphertextBlob": b"sealed", "EncryptionContext": {"payment": "p1"}, "KeyId": "alias/k"}),
    ("events", "PutEvents", {"Entries": [{"Source": "s", "DetailType": "t", "Detail": "{}", "TraceHeader": "x"}]}),
    (
        "dynamodb",
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}, "n": {"N": "1"}}, "ConditionExpression": "x"}},
                {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "b"}}, "ConditionExpression": "y"}},
            ],
            "ClientRequestToken": "token",
            "ReturnConsumedCapacity": "TOTAL",
        },
    ),
    ("sqs", "SendMessageBatch", {"QueueUrl": "https://q", "Entries": [{"Id": "1", "MessageBody": "m"}]}),
]


@pytest.mark.parametrize(("service", "operation", "params"), REQUESTS, ids=[r[0] for r in REQUESTS])
def test_a_kept_operation_serializes_as_with_the_whole_model(service: str, operation: str, params: dict) -> None:
    full = ServiceModel(whole(service), service)
    lean = ServiceModel(keep_operations(whole(service), [operation]), service)
    serializer = create_serializer(full.metadata["protocol"], include_validation=True)

    assert lean.operation_names == [operation]
    assert serializer.serialize_to_request(params, lean.operation_model(operation)) == (
        serializer.serialize_to_request(params, full.operation_model(operation))
    )


def test_responses_and_modeled_errors_parse_as_with_the_whole_model() -> None:
    full = ServiceModel(whole("dynamodb"), "dynamodb")
    lean = ServiceModel(keep_operations(whole("dynamodb"), ["TransactWriteItems", "Query"]), "dynamodb")
    parser = create_parser("json")
    cancelled = {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "message": "Transaction cancelled",
        "CancellationReasons": [{"Code": "ConditionalCheckFailed", "Item": {"pk": {"S": "a"}}}, {"Code": "None"}],
    }
    page = {"Items": [{"pk": {"S": "a"}, "v": {"N": "2"}}], "Count": 1, "LastEvaluatedKey": {"pk": {"S": "a"}}}
    for operation, status, body in (("TransactWriteItems", 400, cancelled), ("Query", 200, page)):
        response = {"status_code": status, "headers": {}, "body": json.dumps(body).encode()}
        shape = lean.operation_model(operation).output_shape
        assert parser.parse(response, shape) == parser.parse(response, full.operation_model(operation).output_shape)
    # A client's `exceptions` are the model's error shapes: code catches any of them by name.
    assert {s.name for s in lean.error_shapes} == {s.name for s in full.error_shapes}


def test_the_models_shrink_to_what_the_calls_reach() -> None:
    full, lean = whole("ssm"), keep_operations(whole("ssm"), ["GetParameter"])

    assert len(lean["shapes"]) < len(full["shapes"]) / 4
    assert "documentation" not in json.dumps(lean["operations"]) and "documentation" not in lean
    assert lean["metadata"] == full["metadata"]


def test_documentation_goes_but_a_member_named_documentation_stays() -> None:
    model = {
        "metadata": {"serviceId": "Demo"},
        "documentation": "the service",
        "operations": {
            "Keep": {"input": {"shape": "In"}, "documentation": "op", "errors": [{"shape": "Oops"}]},
            "Drop": {"input": {"shape": "Unreached"}},
        },
        "shapes": {
            "In": {"type": "structure", "members": {"documentation": {"shape": "Text", "documentation": "a member"}}},
            "Text": {"type": "string", "documentation": "text"},
            "Oops": {"type": "structure", "members": {}, "exception": True},
            "Other": {"type": "structure", "members": {"Why": {"shape": "Text"}}, "exception": True},
            "Unreached": {"type": "structure", "members": {}},
        },
    }

    lean = keep_operations(model, ["Keep"])

    assert list(lean["operations"]) == ["Keep"] and "documentation" not in lean
    assert lean["operations"]["Keep"] == {"input": {"shape": "In"}, "errors": [{"shape": "Oops"}]}
    assert lean["shapes"]["In"]["members"] == {"documentation": {"shape": "Text"}}
    assert set(lean["shapes"]) == {"In", "Text", "Oops", "Other"}  # every exception, and what it reaches


def test_a_missing_operation_fails_the_build() -> None:
    with pytest.raises(ValueError, match="SSM has no operation GetParamter"):
        keep_operations(whole("ssm"), ["GetParameter", "GetParamter"])


def test_the_file_is_rewritten_reproducibly_in_its_own_encoding() -> None:
    raw = gzip.compress(json.dumps(whole("kms")).encode())

    first = prune_model_file(raw, True, ["Decrypt"])

    assert first == prune_model_file(raw, True, ["Decrypt"])
    assert list(json.loads(gzip.decompress(first))["operations"]) == ["Decrypt"]
    assert list(json.loads(prune_model_file(gzip.decompress(raw), False, ["Decrypt"]))["operations"]) == ["Decrypt"]
