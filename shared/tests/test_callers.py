"""The caller of an HTTP route: the authenticated principal, through the directory onboarding keeps."""

from __future__ import annotations

from typing import Any

import pytest
from moto import mock_aws

from payments_shared.callers import MERCHANT, OPERATOR, Caller, DynamoDBCallerDirectory, principal_of
from payments_testing.aws import aws_client, fake_credentials


def event(user_arn: Any) -> dict[str, Any]:
    return {"requestContext": {"identity": {"userArn": user_arn}}}


@pytest.mark.parametrize(
    ("user_arn", "principal"),
    [
        ("arn:aws:iam::123456789012:user/merchant-1", "arn:aws:iam::123456789012:user/merchant-1"),
        # Any session of a role is that role.
        (
            "arn:aws:sts::123456789012:assumed-role/payments-merchant-m1/session-42",
            "arn:aws:sts::123456789012:assumed-role/payments-merchant-m1",
        ),
        (None, None),
        ("", None),
        ("merchant-1", None),
        (42, None),
    ],
)
def test_the_principal_comes_from_the_authenticated_identity_only(user_arn: Any, principal: str | None) -> None:
    assert principal_of(event(user_arn)) == principal
    assert principal_of({"body": '{"merchant_id": "merchant-1"}'}) is None


def test_the_directory_maps_onboarded_principals_and_caches_them_for_a_while() -> None:
    fake_credentials()
    with mock_aws():
        dynamodb = aws_client("dynamodb")
        key = "principal_arn"
        dynamodb.create_table(
            TableName="ApiPrincipals",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        )
        rows = {
            "m": {"role": MERCHANT, "merchant_id": "merchant-1"},
            "o": {"role": OPERATOR},
            "half": {"role": MERCHANT},
            "odd": {"role": "admin"},
        }
        for principal, row in rows.items():
            item = {"principal_arn": {"S": principal}} | {k: {"S": v} for k, v in row.items()}
            dynamodb.put_item(TableName="ApiPrincipals", Item=item)
        now = [0.0]
        directory = DynamoDBCallerDirectory(dynamodb, "ApiPrincipals", max_age_s=60, clock=lambda: now[0])
        assert directory.caller("m") == Caller("m", MERCHANT, "merchant-1")
        assert directory.caller("o") == Caller("o", OPERATOR)
        # An incomplete or unknown row grants nothing.
        assert directory.caller("half") is None and directory.caller("odd") is None and directory.caller("x") is None
        dynamodb.delete_item(TableName="ApiPrincipals", Key={"principal_arn": {"S": "m"}})  # offboarded
        assert directory.caller("m") is not None  # still cached
        now[0] += 60
        assert directory.caller("m") is None  # seen within max_age_s
