"""What Lambda does with a function's printed lines under modules/lambda_service's `logging_config` (log_format
JSON, application_log_level INFO), so that the local runtime does the same.

Lambda sets AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL in the function's environment (Powertools' Logger takes
that level over its own settings), and drops every application line below the level: a JSON line is at the level
its "level" key names (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, any case) when it also carries a valid RFC 3339
timestamp; a line with no valid level or timestamp, an EMF metric or plain text, counts as INFO (Lambda's guide,
"Log-level filtering"). The timestamp is read from `timestamp`, the key Python's runtime and Powertools write.
Powertools writes WARNING, not WARN: Lambda reads that as INFO, kept at INFO.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")  # the most detailed first
LOG_FORMAT = "JSON"
APPLICATION_LOG_LEVEL = "INFO"
ENVIRONMENT = {"AWS_LAMBDA_LOG_FORMAT": LOG_FORMAT, "AWS_LAMBDA_LOG_LEVEL": APPLICATION_LOG_LEVEL}


def _rfc3339(value: Any) -> bool:
    if not isinstance(value, str) or "T" not in value.upper():
        return False
    try:
        return datetime.fromisoformat(value.upper().replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def level_of(line: str) -> str:
    """The level Lambda files a printed line under."""
    try:
        record = json.loads(line)
    except ValueError:
        return "INFO"
    if not isinstance(record, dict) or not _rfc3339(record.get("timestamp")):
        return "INFO"
    level = record.get("level")
    return level.upper() if isinstance(level, str) and level.upper() in LEVELS else "INFO"


def sent(written: Iterable[str], level: str = APPLICATION_LOG_LEVEL) -> list[str]:
    """The lines of what a function wrote (in the chunks it wrote them) that reach its log group."""
    least = LEVELS.index(level)
    lines = "".join(written).splitlines(keepends=True)
    return [line for line in lines if LEVELS.index(level_of(line)) >= least]
