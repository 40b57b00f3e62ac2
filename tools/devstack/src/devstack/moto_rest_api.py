"""moto 5 hands a REST API's resource policy back as it was put; API Gateway returns it JSON-escaped
(`{\\"Version\\":…}`), and the AWS provider unescapes what it reads, so moto's form breaks its read. This
answers as API Gateway does."""

from __future__ import annotations

import json
from typing import Any

from moto.apigateway.models import RestAPI


def install() -> None:
    if getattr(RestAPI, "_escapes_policy", False):
        return
    original = RestAPI.to_dict

    def to_dict(self: Any) -> dict[str, Any]:
        described: dict[str, Any] = original(self)
        if described.get("policy"):
            described["policy"] = json.dumps(described["policy"])[1:-1]  # the string's escaped body
        return described

    RestAPI.to_dict = to_dict  # type: ignore[method-assign]
    RestAPI._escapes_policy = True  # type: ignore[attr-defined]
