"""The committed OpenAPI documents are what the handlers serve (regenerate: ./pants run
tools/api_docs/write_openapi.py), and they document what clients rely on."""

from __future__ import annotations

import json

import pytest
from api_docs.write_openapi import APIS, committed_path, document

from payments_testing.aws import fake_credentials


@pytest.mark.parametrize("service", APIS)
def test_committed_document_matches_the_code(service: str) -> None:
    fake_credentials()
    assert committed_path(service).exists(), "run: ./pants run tools/api_docs/write_openapi.py"
    assert json.loads(committed_path(service).read_text()) == json.loads(
        document(service)
    ), f"{committed_path(service)} is stale; regenerate it with ./pants run tools/api_docs/write_openapi.py"


def test_documents_describe_every_route_the_api_serves() -> None:
    paths = {s: set(json.loads(committed_path(s).read_text())["paths"]) for s in APIS}
    assert paths == {
        "initializer": {
            "/payments",
            "/payments/{payment_order_id}",
            "/payments/{payment_order_id}/refunds",
            "/payments/{payment_order_id}/capture",
            "/payments/{payment_order_id}/cancel",
        },
        "ledger": {"/ledger/trial-balance"},
        "wallet": {"/wallets/{merchant_id}", "/payouts"},
        "notifier": {
            "/webhook_endpoints",
            "/webhook_endpoints/{endpoint_id}",
            "/webhook_endpoints/{endpoint_id}/rotate_secret",
            "/events",
            "/events/{event_id}",
            "/events/{event_id}/redeliver",
        },
    }
    initializer = json.loads(committed_path("initializer").read_text())
    moves = ("/payments", *(f"/payments/{{payment_order_id}}/{act}" for act in ("refunds", "capture", "cancel")))
    for moves_money in moves:
        post = initializer["paths"][moves_money]["post"]
        assert any(
            p["name"].lower() == "idempotency-key" and p["in"] == "header" and p["required"] for p in post["parameters"]
        ), moves_money
    payout = json.loads(committed_path("wallet").read_text())["paths"]["/payouts"]["post"]
    assert any(p["name"].lower() == "idempotency-key" and p["required"] for p in payout["parameters"])
    webhooks = json.loads(committed_path("notifier").read_text())["paths"]
    for post in (
        "/webhook_endpoints",
        "/webhook_endpoints/{endpoint_id}/rotate_secret",
        "/events/{event_id}/redeliver",
    ):
        parameters = webhooks[post]["post"]["parameters"]
        assert any(p["name"].lower() == "idempotency-key" and p["required"] for p in parameters), post
    assert {"201", "422"} <= set(webhooks["/webhook_endpoints"]["post"]["responses"])
    assert "cvv" in json.dumps(initializer["components"]["schemas"])  # the request schema is documented
    capture = initializer["paths"]["/payments/{payment_order_id}/capture"]["post"]["responses"]
    assert {"202", "404", "409", "422"} <= set(capture)
