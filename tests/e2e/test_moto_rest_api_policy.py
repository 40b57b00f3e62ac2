"""The local stack's moto patch answers a REST API's resource policy as API Gateway does: JSON-escaped."""

from __future__ import annotations

import json

from devstack.moto_local import MotoServer, client

POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}],
}


def test_the_policy_reads_back_escaped_and_unescapes_to_what_was_put() -> None:
    moto = MotoServer().start()
    try:
        gateway = client("apigateway")
        api_id = gateway.create_rest_api(name="payments")["id"]
        assert "policy" not in gateway.get_rest_api(restApiId=api_id)  # none put, none answered
        gateway.update_rest_api(
            restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(POLICY)}]
        )
        answered = gateway.get_rest_api(restApiId=api_id)["policy"]
        assert answered.startswith('{\\"Version\\"')
        assert json.loads(json.loads(f'"{answered}"')) == POLICY  # what the AWS provider does on read
    finally:
        moto.stop()
