"""Writes the JSON Schema of each integration event — the EventBridge `detail` another service receives — to
contracts/events/<EventType>.schema.json, generated from the kernel's envelope and contract models
(payments_shared.events, payments_shared.contracts), which consumers validate every event with on receipt.
A test fails when a committed schema is stale.

Run: ./pants run tools/api_docs/write_event_schemas.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from payments_shared.contracts import CONTRACTS
from payments_shared.events import ENVELOPE_SCHEMA_VERSION, EventEnvelope

SCHEMAS_DIR = Path("contracts/events")
PRODUCERS = {
    "PaymentInitiated": "payments.initializer",
    "PaymentStatusUpdated": "payments.finalizer",
    "PaymentActionRequired": "payments.finalizer",
    "RefundRequested": "payments.initializer",
    "RefundStatusUpdated": "payments.finalizer",
    "CaptureRequested": "payments.initializer",
    "CancelRequested": "payments.initializer",
    "DisputeStatusUpdated": "payments.finalizer",
    "PayoutPaid": "payments.wallet",
    "PspPayoutUpdated": "payments.finalizer",
}


def committed_path(event_type: str) -> Path:
    return SCHEMAS_DIR / f"{event_type}.schema.json"


def schema(event_type: str) -> dict[str, Any]:
    envelope = EventEnvelope.model_json_schema()
    data = CONTRACTS[event_type].model_json_schema()
    definitions = {**envelope.pop("$defs", {}), **data.pop("$defs", {})}
    envelope["properties"]["event_type"] = {"const": event_type, "title": "Event Type", "type": "string"}
    envelope["properties"]["schema_version"] = {
        "const": ENVELOPE_SCHEMA_VERSION,
        "title": "Schema Version",
        "type": "integer",
    }
    envelope["properties"]["data"] = data
    envelope["required"] = sorted({*envelope.get("required", []), "event_type", "data"})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:payments:event:{event_type}:v{ENVELOPE_SCHEMA_VERSION}",
        **envelope,
        "title": event_type,
        "description": f"The `detail` of an EventBridge event with source {PRODUCERS[event_type]!r} and "
        f"detail-type {event_type!r}. {CONTRACTS[event_type].__doc__ or ''}".strip(),
        "$defs": definitions,
    }


def document(event_type: str) -> str:
    return json.dumps(schema(event_type), indent=2, sort_keys=True) + "\n"


def main() -> None:
    SCHEMAS_DIR.mkdir(parents=True, exist_ok=True)
    for event_type in CONTRACTS:
        committed_path(event_type).write_text(document(event_type))
        print(f"wrote {committed_path(event_type)}")


if __name__ == "__main__":
    main()
