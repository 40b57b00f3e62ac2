"""The local stack's moto refuses a Lambda permission whose statement id the policy already holds, as Lambda does
(ResourceConflictException), and writes a function URL's auth type as the condition Lambda writes: the AWS
provider's function URL relies on the first, and a second statement under one id would make destroy wait for a
statement that never goes."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from devstack.moto_local import MotoServer, client


def handler_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def awslambda() -> Iterator[Any]:
    moto = MotoServer().start()
    role = client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    awslambda = client("lambda")
    version = awslambda.create_function(
        FunctionName="fn",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": handler_zip()},
        Publish=True,
    )["Version"]
    awslambda.create_alias(FunctionName="fn", Name="live", FunctionVersion=version)
    yield awslambda
    moto.stop()


def public_url_access(awslambda: Any, **qualifier: str) -> dict[str, Any]:
    return awslambda.add_permission(
        FunctionName="fn",
        StatementId="FunctionURLAllowPublicAccess",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
        **qualifier,
    )


def test_a_taken_statement_id_is_refused_and_the_policy_keeps_one_statement(awslambda: Any) -> None:
    public_url_access(awslambda, Qualifier="live")
    with pytest.raises(ClientError) as refused:
        public_url_access(awslambda, Qualifier="live")
    assert refused.value.response["Error"]["Code"] == "ResourceConflictException"
    assert "(FunctionURLAllowPublicAccess) provided already exists" in refused.value.response["Error"]["Message"]
    policy = awslambda.get_policy(FunctionName="fn", Qualifier="live")["Policy"]
    assert policy.count("FunctionURLAllowPublicAccess") == 1
    [statement] = json.loads(policy)["Statement"]
    assert statement["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}  # as Lambda writes it
    assert "FunctionUrlAuthType" not in statement
    awslambda.remove_permission(FunctionName="fn", Qualifier="live", StatementId="FunctionURLAllowPublicAccess")
    public_url_access(awslambda, Qualifier="live")  # gone: the id is free again
