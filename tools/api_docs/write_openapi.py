"""Writes each HTTP API's OpenAPI document, generated from its handler's routes and pydantic models, to
services/<service>/openapi.json. A test fails when a committed document is stale.

Run: ./pants run tools/api_docs/write_openapi.py
"""

from __future__ import annotations

import importlib
from pathlib import Path

APIS = {"initializer": "Payments initializer API", "ledger": "Payments ledger API", "wallet": "Payments wallet API"}


def document(service: str) -> str:
    resolver = importlib.import_module(f"{service}.handler").api
    return str(resolver.get_openapi_json_schema(title=APIS[service], version="1.0.0")) + "\n"


def committed_path(service: str) -> Path:
    return Path(f"services/{service}/openapi.json")


if __name__ == "__main__":
    for service in APIS:
        committed_path(service).write_text(document(service))
        print(f"wrote {committed_path(service)}")
