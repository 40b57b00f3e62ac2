"""Writes each HTTP API's OpenAPI document, generated from its HTTP entry point's routes and pydantic models, to
services/<service>/openapi.json. A test fails when a committed document is stale.

Powertools documents request-validation failures as its own 422 body; our entry point (the kernel's
lambda_entry.http) answers them 400 application/problem+json, and a non-JSON body 415. The documents say what
the API really returns, so clients and the fuzzing test can rely on them.

Run: ./pants run tools/api_docs/write_openapi.py
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

APIS = {
    "initializer": "Payments initializer API",
    "ledger": "Payments ledger API",
    "wallet": "Payments wallet API",
    "notifier": "Payments webhooks API",
}

# Problems a route answers beyond 400 (and 415 for a body), from its handler's domain errors.
# Every route: 403 for a principal that is not onboarded (API Gateway's own 403 comes first for an unsigned
# or wrongly signed request, with its {"message"} body).
ROUTE_PROBLEMS = {
    ("post", "/payments"): {
        "403": "The caller is not an onboarded merchant, or merchant_id is not the caller",
        "422": "The Idempotency-Key was used before with a different body",
        "503": "Busy: nothing was recorded; retry after Retry-After seconds with the same key",
    },
    ("get", "/payments/{payment_order_id}"): {
        "403": "The caller is not an onboarded principal",
        "404": "No payment order with this id for the calling merchant (another merchant's order answers the "
        "same: its existence is not disclosed)",
    },
    ("post", "/payments/{payment_order_id}/refunds"): {
        "403": "The caller is not an onboarded merchant or operator",
        "404": "No payment order with this id for the calling merchant (another merchant's order answers the "
        "same: its existence is not disclosed)",
        "409": "The payment is not refundable (not successful), a dispute of it is open (type payment-disputed, "
        "the detail names the dispute: Stripe refuses to refund a charged-back payment), or other requests were "
        "changing it: in that case (type payment-busy) nothing was recorded; retry with the same key",
        "422": "The refund exceeds what is left to refund (body.amount names the remaining amount), is in "
        "another currency than the payment, or the Idempotency-Key was used before with a different body",
        "503": "Busy: nothing was recorded; retry after Retry-After seconds with the same key",
    },
    ("post", "/payments/{payment_order_id}/capture"): {
        "403": "The caller is not an onboarded merchant or operator",
        "404": "No payment order with this id for the calling merchant (another merchant's order answers the "
        "same: its existence is not disclosed)",
        "409": "The payment is not AUTHORIZED (type payment-not-authorized; the detail says what it is: pending, "
        "captured, canceled, failed), a capture or a cancel was already requested under another key (type "
        "authorization-already-settled), or other requests were changing it (type payment-busy: nothing was "
        "recorded; retry with the same key)",
        "422": "The amount is not positive or exceeds the authorized amount (body.amount names it), is "
        "in another currency than the payment, or the Idempotency-Key was used before with a different body",
        "503": "Busy: nothing was recorded; retry after Retry-After seconds with the same key",
    },
    ("post", "/payments/{payment_order_id}/cancel"): {
        "403": "The caller is not an onboarded merchant or operator",
        "404": "No payment order with this id for the calling merchant (another merchant's order answers the "
        "same: its existence is not disclosed)",
        "409": "The payment is not AUTHORIZED (type payment-not-authorized; the detail says what it is: pending, "
        "captured, canceled, failed), a capture or a cancel was already requested under another key (type "
        "authorization-already-settled), or other requests were changing it (type payment-busy: nothing was "
        "recorded; retry with the same key)",
        "422": "The Idempotency-Key was used before with a different body",
        "503": "Busy: nothing was recorded; retry after Retry-After seconds with the same key",
    },
    ("get", "/wallets/{merchant_id}"): {
        "403": "Another merchant's wallet: a merchant reads its own only",
        "404": "No wallet for this merchant yet",
    },
    ("post", "/payouts"): {
        "403": "Another merchant's wallet: a merchant pays out its own only",
        "404": "No wallet for this merchant yet",
        "409": "Other payouts of this merchant were being decided (type payouts-busy): nothing was paid out; "
        "retry with the same key",
        "422": "More than is available, or nothing available (body.amount names the available amount), or the "
        "Idempotency-Key was used before for a payout in another currency",
        "503": "Busy: nothing was paid out; retry after Retry-After seconds with the same key",
    },
    ("get", "/ledger/trial-balance"): {"403": "Operators only: the company's books"},
    ("post", "/webhook_endpoints"): {
        "403": "merchant_id names another merchant (a merchant registers its own endpoints only)",
        "422": "The URL is refused (not https, or its host is or resolves to a private, loopback or link-local "
        "address: body.url says why), an event type is unknown (body.enabled_events), the merchant already has "
        "16 endpoints, or the Idempotency-Key was used before with a different body",
    },
    ("get", "/webhook_endpoints"): {"403": "merchant_id names another merchant"},
    ("get", "/webhook_endpoints/{endpoint_id}"): {
        "403": "merchant_id names another merchant",
        "404": "No such endpoint for this merchant (another merchant's answers the same)",
    },
    ("delete", "/webhook_endpoints/{endpoint_id}"): {
        "403": "merchant_id names another merchant",
        "404": "No such endpoint for this merchant (another merchant's, or deleted already)",
    },
    ("post", "/webhook_endpoints/{endpoint_id}/rotate_secret"): {
        "403": "merchant_id names another merchant",
        "404": "No such endpoint for this merchant (another merchant's answers the same)",
        "422": "grace_period_s is negative or over 7 days (body.grace_period_s)",
    },
    ("get", "/events"): {"403": "merchant_id names another merchant"},
    ("get", "/events/{event_id}"): {
        "403": "merchant_id names another merchant",
        "404": "No such event for this merchant (another merchant's answers the same)",
    },
    ("post", "/events/{event_id}/redeliver"): {
        "403": "merchant_id names another merchant",
        "404": "No such event, or no such endpoint, for this merchant",
        "422": "The endpoint named does not take this event's type (body.endpoint_id)",
    },
}

PROBLEM_SCHEMA = {
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
}


def _problem(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Problem"}
    return {"description": description, "content": {"application/problem+json": {"schema": schema}}}


def with_problem_responses(document: dict[str, Any]) -> dict[str, Any]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if responses.get("422", {}).get("description") == "Validation Error":
                del responses["422"]
            if operation.get("parameters") or "requestBody" in operation:
                responses["400"] = _problem("The request is invalid: errors name each field and the reason")
            if "requestBody" in operation:
                responses["415"] = _problem("The body is not application/json")
            for status, description in ROUTE_PROBLEMS.get((method, path), {}).items():
                responses[status] = _problem(description)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    # Every route requires IAM auth: an AWS Signature Version 4 (service execute-api) in Authorization.
    components["securitySchemes"] = {
        "sigv4": {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "x-amazon-apigateway-authtype": "awsSigv4",
            "description": "AWS SigV4 (execute-api). The signing principal decides the merchant; operators alone "
            "read the books.",
        }
    }
    document["security"] = [{"sigv4": []}]
    for unused in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):  # Powertools-only
        schemas.pop(unused, None)
    return document


# Said in every document: the one endpoint of ours that is not on this REST API.
STRIPE_WEBHOOK = (
    "Every route of this REST API requires IAM (SigV4). Stripe's webhooks are not on it: Stripe POSTs them to "
    "/webhooks/stripe on the finalizer-webhook function's own Lambda function URL (contracts/function_urls.json, "
    "auth type NONE; the finalizer root's stripe_webhook_endpoint output), where the function verifies "
    "Stripe-Signature."
)


def document(service: str) -> str:
    resolver = importlib.import_module(f"{service}.entrypoints.api").api
    generated = json.loads(resolver.get_openapi_json_schema(title=APIS[service], version="1.0.0"))
    generated.setdefault("info", {})["description"] = STRIPE_WEBHOOK
    return json.dumps(with_problem_responses(generated), indent=2) + "\n"


def committed_path(service: str) -> Path:
    return Path(f"services/{service}/openapi.json")


if __name__ == "__main__":
    for service in APIS:
        committed_path(service).write_text(document(service))
        print(f"wrote {committed_path(service)}")
