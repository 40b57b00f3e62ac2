"""API Gateway (REST, proxy integration) events as Lambda receives them."""

from __future__ import annotations

import json
import uuid
from typing import Any


def api_event(
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "pathParameters": path_parameters,
        "requestContext": {"requestId": str(uuid.uuid4()), "stage": "test", "httpMethod": method},
        "body": raw,
        "isBase64Encoded": False,
    }


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def content_type(response: dict[str, Any]) -> str:
    headers = response.get("multiValueHeaders") or {}
    return (headers.get("Content-Type") or [""])[0] or (response.get("headers") or {}).get("Content-Type", "")
