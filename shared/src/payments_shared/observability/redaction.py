"""Scrub card data from anything headed for a log: PANs by their digits + Luhn, secrets by field name.

PCI DSS: a primary account number must never reach a log, however it is written. A value is treated as one when
its digits form a Luhn-valid number of 13-19 digits: a string (alone, inside text, grouped by spaces, dashes,
dots, underscores, slashes, commas or apostrophes), an integer, an integral float, a dict key, at any depth.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from payments_shared.cards import luhn_valid

REDACTED = "[REDACTED]"
SENSITIVE_KEYS = frozenset(
    {
        "card_number",
        "pan",
        "cvv",
        "cvc",
        "cvv2",
        "security_code",
        "payment_details",
        "authorization",
        "client_secret",  # confirms a PaymentIntent from a browser: for the buyer's page only
        "stripe-signature",
    }
)
PAN_MIN_DIGITS, PAN_MAX_DIGITS = 13, 19
# A written card number is grouped in fours (4-6-5 for Amex, 4-4-4-4-3 for 19 digits): groups of a few digits.
# A longer group next to another is a decimal (an epoch time "1764064800.123456") or an id, not a grouped PAN.
_MAX_GROUP = 6
# Digit groups joined by up to three separator characters ("4111 1111", "4111-1111", "4111 - 1111",
# "4,111,111", "4111.1111", "4111_1111", "4'111"; tabs, no-break and thin spaces too, also as repr() and
# json.dumps() escape them inside a logged container). Digits and separators are disjoint, so matching is linear.
_ESCAPED_SPACE = r"\\(?:t|x[aA]0|u00[aA]0|u2009|u202[fF])"
_SEPARATOR = rf"(?:[ \t\u00a0\u2009\u202f.,_/'\-]|{_ESCAPED_SPACE})"
_DIGIT = re.compile(r"[0-9]")
_TOKEN = re.compile(rf"{_SEPARATOR}|([0-9]+)")  # a separator (escapes hold digits of their own) or a digit group
_TEXT = re.compile(
    # A UUID is an id, whatever digits its groups happen to hold: kept as it is.
    r"(?P<uuid>(?<![0-9A-Za-z])[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}(?![0-9A-Za-z]))"
    # A float as str() and json.dumps() write it: in exponent notation ("4.111111111111111e+18", "4e+18") it
    # shows only its first digits, and past 2**53 an integral one ("9101000100010156.0") is a card number
    # rounded; judged as the float it is. The exponent's sign is required: hex ids hold "88e15", never "e+".
    r"|(?P<float>(?<![0-9A-Za-z.])(?:[0-9]+(?:\.[0-9]+)?[eE]\+[0-9]{1,3}|[0-9]{13,19}\.0+)(?![0-9A-Za-z]))"
    # Digit groups and their separators; an escape's own digits ("\u2009") never join the group after it.
    rf"|(?P<run>(?:{_ESCAPED_SPACE})*[0-9]+(?:{_SEPARATOR}{{1,3}}[0-9]+)*)"
)
# Floats are exact integers only below 2**53: above, a float stands for a range of integers, card numbers among
# them, and its digits (what a log shows) are a card number's first ones.
_EXACT_FLOAT_LIMIT = 2**53


def _is_pan(digits: str) -> bool:
    return PAN_MIN_DIGITS <= len(digits) <= PAN_MAX_DIGITS and luhn_valid(digits)


def _int_is_pan(value: int) -> bool:
    return _is_pan(str(abs(value)))


def _float_is_pan(value: float) -> bool:
    if not math.isfinite(value) or not value.is_integer():
        return False
    magnitude = abs(value)
    if not 10 ** (PAN_MIN_DIGITS - 1) <= magnitude < 10**PAN_MAX_DIGITS:
        return False
    return magnitude >= _EXACT_FLOAT_LIMIT or _int_is_pan(int(magnitude))


def _pan_spans(run: str) -> list[tuple[int, int]]:
    """(start, end) in `run` of every card number it holds: whole groups, one group alone or several short ones."""
    groups = [m.span(1) for m in _TOKEN.finditer(run) if m.group(1)]
    spans: list[tuple[int, int]] = []
    for first, (start, first_end) in enumerate(groups):
        digits = ""
        for last in range(first, len(groups)):
            group_start, group_end = groups[last]
            if last > first and max(first_end - start, group_end - group_start) > _MAX_GROUP:
                break
            digits += run[group_start:group_end]
            if len(digits) > PAN_MAX_DIGITS:
                break
            if _is_pan(digits):
                spans.append((start, group_end))
    return spans


def _mask_run(run: str) -> str:
    if sum(c.isdigit() for c in run) < PAN_MIN_DIGITS:
        return run
    merged: list[tuple[int, int]] = []
    for start, end in sorted(_pan_spans(run)):
        if merged and start <= merged[-1][1]:  # overlapping card numbers are one redaction
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    masked, position = [], 0
    for start, end in merged:
        masked += [run[position:start], REDACTED]
        position = end
    masked.append(run[position:])
    return "".join(masked)


def _mask(match: re.Match[str]) -> str:
    text = match.group(0)
    if match.lastgroup == "float":
        return REDACTED if _float_is_pan(float(text)) else text
    if match.lastgroup == "run":
        return _mask_run(text)
    return text


def redact_text(text: str) -> str:
    if len(text) < PAN_MIN_DIGITS or _DIGIT.search(text) is None:  # most log text: nothing to look at
        return text
    return _TEXT.sub(_mask, text)


def _redact_key(key: Any) -> Any:
    if isinstance(key, str):
        return redact_text(key)
    if isinstance(key, int | float) and not isinstance(key, bool):
        return redact(key)
    return key


def redact(value: Any) -> Any:
    """A copy of value with sensitive keys masked and every card number removed, whatever its JSON type."""
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return REDACTED if _int_is_pan(value) else value
    if isinstance(value, float):
        return REDACTED if _float_is_pan(value) else value
    if isinstance(value, Mapping):
        return {
            _redact_key(k): REDACTED if isinstance(k, str) and k.lower() in SENSITIVE_KEYS else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v) for v in value]
    # Anything else reaches the log through str() (the JSON serializer's default): an exception object in
    # Powertools' stack_trace carries its message, card number included; a Decimal its digits.
    return redact_text(str(value))


# Written by Powertools and the Lambda runtime on every line, never from a request or an event: scanning them on
# every line is most of the redaction's cost and can find nothing.
TRUSTED_LOG_KEYS = frozenset(
    {
        "level",
        "location",
        "timestamp",
        "service",
        "sampling_rate",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "xray_trace_id",
    }
)


def redact_log_record(record: dict[str, Any]) -> dict[str, Any]:
    """A log record with everything but the trusted keys redacted (message, exception, every extra field)."""
    return {
        key: value if key in TRUSTED_LOG_KEYS else REDACTED if key.lower() in SENSITIVE_KEYS else redact(value)
        for key, value in record.items()
    }
