"""The committed JSON Schemas of the integration events are what the kernel's contract models say (regenerate:
./pants run tools/api_docs/write_event_schemas.py), and every rule routes one of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_docs.write_event_schemas import PRODUCERS, committed_path, document

from payments_shared.contracts import CONTRACTS


@pytest.mark.parametrize("event_type", CONTRACTS)
def test_committed_schema_matches_the_contract_model(event_type: str) -> None:
    assert committed_path(event_type).exists(), "run: ./pants run tools/api_docs/write_event_schemas.py"
    assert json.loads(committed_path(event_type).read_text()) == json.loads(
        document(event_type)
    ), f"{committed_path(event_type)} is stale; regenerate it with ./pants run tools/api_docs/write_event_schemas.py"


def test_schemas_name_every_field_a_consumer_relies_on() -> None:
    initiated = json.loads(committed_path("PaymentInitiated").read_text())["properties"]["data"]
    assert {"payment_order_id", "amount_minor", "currency"} <= set(initiated["required"])
    assert {"payment_details", "payment_method", "card"} <= set(initiated["properties"])  # one way to pay of two
    assert "buyer" not in initiated["properties"] and "request_fingerprint" not in initiated["properties"]
    updated = json.loads(committed_path("PaymentStatusUpdated").read_text())["properties"]["data"]
    assert updated["properties"]["status"]["enum"] == ["SUCCESS", "FAILED", "AUTHORIZED", "CANCELED"]
    # Optional, so events published before manual capture stay valid.
    assert "amount_authorized_minor" not in updated["required"] and "capture_method" not in initiated["required"]
    # The PSP's fee on a SUCCESS: optional too (unknown, or settled in another currency), never negative.
    assert "psp_fee_minor" not in updated["required"]
    assert updated["properties"]["psp_fee_minor"]["anyOf"][0] == {"minimum": 0, "type": "integer"}
    assert "initiated_at" not in updated["required"]  # a first charge's only: other outcomes read the order first
    capture = json.loads(committed_path("CaptureRequested").read_text())["properties"]["data"]
    assert set(capture["required"]) == {
        "payment_order_id",
        "merchant_id",
        "currency",
        "amount_minor",
        "idempotency_key",
    }
    cancel = json.loads(committed_path("CancelRequested").read_text())["properties"]["data"]
    assert cancel["properties"]["cancellation_reason"]["anyOf"][0]["enum"] == [
        "duplicate",
        "fraudulent",
        "requested_by_customer",
        "abandoned",
    ]


def test_every_rule_routes_a_contract_event_from_its_producer() -> None:
    for path in Path("contracts/event_patterns").glob("*.json"):
        pattern = json.loads(path.read_text())
        for detail_type in pattern["detail-type"]:
            assert detail_type in CONTRACTS, f"{path} routes {detail_type}, which has no contract"
        # Each source listed produces one of the types (merchant_events.json takes the finalizer's and the
        # wallet's): EventBridge matches any listed source with any listed type, and each type has one producer.
        assert sorted(pattern["source"]) == sorted({PRODUCERS[t] for t in pattern["detail-type"]}), path
