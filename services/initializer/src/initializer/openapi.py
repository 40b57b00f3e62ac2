"""Writes the API's OpenAPI document (generated from the pydantic models) to services/initializer/openapi.json.

Run: ./pants run services/initializer/src/initializer/openapi.py -- services/initializer/openapi.json
"""

from __future__ import annotations

import sys
from pathlib import Path


def document() -> str:
    from initializer.handler import api

    return api.get_openapi_json_schema(title="Payments initializer API", version="1.0.0") + "\n"


if __name__ == "__main__":
    Path(sys.argv[1] if len(sys.argv) > 1 else "services/initializer/openapi.json").write_text(document())
