"""Scrub card data from anything headed for a log: PANs by pattern + Luhn, secrets by field name."""

from __future__ import annotations

import re
from typing import Any

from payments_shared.cards import luhn_valid

REDACTED = "[REDACTED]"
SENSITIVE_KEYS = frozenset(
    {"card_number", "pan", "cvv", "cvc", "cvv2", "security_code", "payment_details", "authorization"}
)
# 13-19 digits, optionally grouped by single spaces or dashes, not glued to other digits.
_PAN_CANDIDATE = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")


def _mask_pan(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    return REDACTED if luhn_valid(digits) else match.group(0)


def redact_text(text: str) -> str:
    return _PAN_CANDIDATE.sub(_mask_pan, text)


def redact(value: Any) -> Any:
    """A copy of value with sensitive keys masked and card numbers removed from every string."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and k.lower() in SENSITIVE_KEYS else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else reaches the log through str() (the JSON serializer's default): an exception object in
    # Powertools' stack_trace carries its message, card number included.
    return redact_text(str(value))


# Written by Powertools and the Lambda runtime on every line, never from a request or an event: scanning them on
# every line is most of the redaction's cost and can find nothing.
TRUSTED_LOG_KEYS = frozenset({
    "level", "location", "timestamp", "service", "sampling_rate", "cold_start", "function_name",
    "function_memory_size", "function_arn", "function_request_id", "xray_trace_id",
})  # fmt: skip


def redact_log_record(record: dict[str, Any]) -> dict[str, Any]:
    """A log record with everything but the trusted keys redacted (message, exception, every extra field)."""
    return {
        key: value if key in TRUSTED_LOG_KEYS else REDACTED if key.lower() in SENSITIVE_KEYS else redact(value)
        for key, value in record.items()
    }
