"""Helpers the notifier's tests share (conftests hold fixtures only)."""

from __future__ import annotations

import json
from typing import Any

from payments_testing.aws import LambdaContext
from payments_testing.http import MERCHANT_1, api_event


def call(
    handler: Any,
    method: str,
    path: str,
    body: Any = None,
    *,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    key: str | None = "key-1",
    caller: str | None = MERCHANT_1,
) -> tuple[int, Any]:
    headers = {"Idempotency-Key": key} if key and method == "POST" else {}
    event = api_event(method, path, body, headers, resource, path_parameters, caller)
    if query:
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    response = handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


def queued(sqs: Any, queue_url: str) -> list[dict[str, str]]:
    """Every delivery message waiting on the queue (received and deleted)."""
    found: list[dict[str, str]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
