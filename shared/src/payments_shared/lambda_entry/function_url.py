"""Answers in a Lambda function URL's response format.

A function URL hands its function the payload format 2.0 event and reads back {statusCode, headers, body,
cookies, isBase64Encoded} ("Invoking Lambda function URLs", docs.aws.amazon.com/lambda/latest/dg/
urls-invocation.html#urls-response-payload). It reads `headers` (one value per name), never a REST proxy answer's
multiValueHeaders; and "if your function returns valid JSON and doesn't return a statusCode", Lambda answers 200
with the whole return value as an application/json body. So every answer here sets statusCode and headers itself.
"""

from __future__ import annotations

import json
from typing import Any

from payments_shared.problems import PROBLEM_CONTENT_TYPE, Problem


def url_response(
    status: int, body: Any, content_type: str = "application/json", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """A function URL's answer with a JSON body (and any other headers)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_type, **(headers or {})},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def problem_url_response(problem: Problem, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The problem as a function URL's answer (RFC 9457 problem+json)."""
    return url_response(problem.status, problem.body(), PROBLEM_CONTENT_TYPE, headers)
