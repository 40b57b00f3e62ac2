"""No 5xx for a request no route matches: the deployed HTTP entry answers 404 problem+json."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from payments_shared.lambda_entry.http import http_entry
from payments_shared.observability.logging import build_logger
from payments_shared.observability.metrics import build_metrics
from payments_shared.problems import PROBLEM_CONTENT_TYPE
from payments_testing.aws import LambdaContext
from payments_testing.http import MERCHANT_1, TEST_CALLERS


def build() -> Any:
    app = APIGatewayRestResolver(enable_validation=True)

    @app.get("/payments/<payment_order_id>")
    def get(payment_order_id: str) -> dict[str, str]:
        return {"payment_order_id": payment_order_id}

    return http_entry(app, logger=build_logger("api"), metrics=build_metrics("api"), callers=lambda: TEST_CALLERS)


def request(method: str, path: str) -> dict[str, Any]:
    return {
        "httpMethod": method,
        "path": path,
        "resource": "/payments/{payment_order_id}",
        "body": None,
        "headers": {"content-type": "application/json"},
        "requestContext": {"requestId": "r-1", "identity": {"userArn": MERCHANT_1}},
        "queryStringParameters": None,
        "pathParameters": None,
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", '/payments/m-1"x'),  # characters API Gateway passes in a path parameter that no route pattern takes
        ("GET", "/payments/m-1\\x"),
        ("GET", "/payments/a/b"),
        ("GET", "/nowhere"),
        ("DELETE", "/payments/p-1"),  # a method no route has
    ],
)
def test_an_unrouted_request_is_a_404_problem_not_a_500(method: str, path: str) -> None:
    response = build()(request(method, path), LambdaContext(function_name="api"))
    body = json.loads(response["body"])
    assert (response["statusCode"], body["type"]) == (404, "urn:payments:problem:not-found"), response
    assert PROBLEM_CONTENT_TYPE in json.dumps(response.get("multiValueHeaders") or response.get("headers"))


def test_a_routed_request_still_reaches_its_route() -> None:
    response = build()(request("GET", "/payments/p-1"), LambdaContext(function_name="api"))
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"payment_order_id": "p-1"})
