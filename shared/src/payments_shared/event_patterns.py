"""Loads the shared EventBridge patterns (contracts/event_patterns/*.json) and matches events against them.

The matcher implements the subset of EventBridge pattern syntax our patterns use (exact values in lists,
nested objects), which is enough for the local runtime to route like EventBridge does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PATTERNS_DIR = Path("contracts/event_patterns")


def load_pattern(name: str, root: Path = PATTERNS_DIR) -> dict[str, Any]:
    pattern: dict[str, Any] = json.loads((root / f"{name}.json").read_text())
    return pattern


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    for key, expected in pattern.items():
        if key not in event:
            return False
        actual = event[key]
        if isinstance(expected, dict):
            if not isinstance(actual, dict) or not matches(expected, actual):
                return False
        elif actual not in expected:
            return False
    return True
