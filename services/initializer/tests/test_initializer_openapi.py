from __future__ import annotations

import json
from pathlib import Path

from initializer.openapi import document

COMMITTED = Path("services/initializer/openapi.json")


def test_committed_openapi_document_matches_the_code() -> None:
    assert COMMITTED.exists(), "run: ./pants run services/initializer/src/initializer/openapi.py"
    assert json.loads(COMMITTED.read_text()) == json.loads(document()), (
        "openapi.json is stale; regenerate it with ./pants run services/initializer/src/initializer/openapi.py"
    )


def test_document_describes_both_routes_and_the_idempotency_header() -> None:
    spec = json.loads(document())
    assert set(spec["paths"]) == {"/payments", "/payments/{payment_order_id}"}
    post = spec["paths"]["/payments"]["post"]
    assert any(p["name"].lower() == "idempotency-key" and p["in"] == "header" for p in post["parameters"])
    assert "cvv" in json.dumps(spec["components"]["schemas"])  # request schema documented
