"""API Gateway (REST, proxy integration) events as Lambda receives them."""

from __future__ import annotations

import json
import uuid
from typing import Any

from payments_shared.callers import MERCHANT, OPERATOR, Caller, StaticCallerDirectory

ACCOUNT = "123456789012"


def principal(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


# The principals the handler tests call as: two merchants and an operator (what onboarding would record).
MERCHANT_1, MERCHANT_2, OPERATOR_1 = principal("merchant-1"), principal("merchant-2"), principal("operator-1")
TEST_CALLERS = StaticCallerDirectory(
    {
        MERCHANT_1: Caller(MERCHANT_1, MERCHANT, "merchant-1"),
        MERCHANT_2: Caller(MERCHANT_2, MERCHANT, "merchant-2"),
        OPERATOR_1: Caller(OPERATOR_1, OPERATOR),
    }
)


def api_event(
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    caller: str | None = MERCHANT_1,
) -> dict[str, Any]:
    """caller: the principal API Gateway authenticated (None: a request that carries no identity)."""
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "pathParameters": path_parameters,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "test",
            "httpMethod": method,
            "identity": {"userArn": caller, "accountId": ACCOUNT} if caller else {},
        },
        "body": raw,
        "isBase64Encoded": False,
    }


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def content_type(response: dict[str, Any]) -> str:
    headers = response.get("multiValueHeaders") or {}
    return (headers.get("Content-Type") or [""])[0] or (response.get("headers") or {}).get("Content-Type", "")
