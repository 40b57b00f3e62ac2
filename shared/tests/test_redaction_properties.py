"""Log redaction as PCI DSS asks: a card number never reaches a log, whatever JSON type, grouping or depth it
arrives in; timestamps, ids and amounts that are not card numbers come through unchanged."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments_shared.cards import luhn_valid
from payments_shared.observability.logging import build_logger
from payments_shared.observability.redaction import REDACTED, redact
from payments_testing.logs import capture_logs

SEPARATORS = " -._/,'\u00a0"


def luhn_complete(prefix: str) -> str:
    return next(prefix + d for d in "0123456789" if luhn_valid(prefix + d))


def not_luhn(prefix: str) -> str:
    return next(prefix + d for d in "0123456789" if not luhn_valid(prefix + d))


card_numbers = st.text(alphabet="0123456789", min_size=12, max_size=18).map(luhn_complete)
# An integer has no leading zero to keep.
card_integers = st.text(alphabet="0123456789", min_size=11, max_size=17).flatmap(
    lambda body: st.sampled_from("123456789").map(lambda first: int(luhn_complete(first + body)))
)


@st.composite
def grouped(draw: st.DrawFn, pan: str) -> str:
    """The card number in groups of 1-6 digits, each gap one to three separator characters, possibly mixed."""
    groups, rest = [], pan
    while rest:
        size = draw(st.integers(1, 6))
        groups.append(rest[:size])
        rest = rest[size:]
    gaps = [draw(st.text(alphabet=SEPARATORS, min_size=1, max_size=3)) for _ in groups[1:]]
    return groups[0] + "".join(gap + group for gap, group in zip(gaps, groups[1:], strict=True))


@st.composite
def written_card(draw: st.DrawFn) -> tuple[str, Any]:
    """(the card's digits, the card as some code might hand it to a log call)."""
    kind = draw(st.sampled_from(["plain", "grouped", "int", "float", "decimal", "in text", "after a number"]))
    if kind in ("int", "float", "decimal"):
        number = draw(card_integers)
        return str(number), {"int": number, "float": float(number), "decimal": Decimal(number)}[kind]
    pan = draw(card_numbers)
    if kind == "plain":
        return pan, pan
    text = draw(grouped(pan))
    if kind == "in text":
        return pan, f"{draw(words)} {text} {draw(words)}"
    if kind == "after a number":  # a quantity before it, grouped the same way: "qty 12 4111 1111 1111 1111"
        return pan, f"qty 12 {text} end"
    return pan, text


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz:=#", min_size=0, max_size=12)
# Values around the card, with no digit of their own: any digit left in the output is then the card's.
fillers = st.one_of(st.none(), st.booleans(), words)


@st.composite
def nested_card(draw: st.DrawFn) -> tuple[str, Any]:
    """The written card somewhere in a nested structure of dicts, lists and tuples, or as a dict key."""
    digits, value = draw(written_card())
    for _ in range(draw(st.integers(0, 4))):
        siblings = draw(st.lists(fillers, max_size=3))
        container = draw(st.sampled_from(["dict", "list", "tuple", "key"]))
        if container == "dict":
            value = {draw(words) + "x": value, **{f"f{chr(97 + i)}": s for i, s in enumerate(siblings)}}
        elif container == "key" and isinstance(value, str | int | float):
            value = {value: draw(fillers)}
        elif container == "tuple":
            value = (*siblings, value)
        else:
            value = [*siblings, value]
    return digits, value


def digits_of(value: Any) -> str:
    return re.sub(r"[^0-9]", "", json.dumps(value, default=str))


@settings(deadline=None)  # no timing luck: a loaded CI machine may take longer than 200 ms
@given(nested_card())
def test_a_card_number_never_survives_redaction(card: tuple[str, Any]) -> None:
    digits, value = card
    redacted = redact(value)
    assert digits not in digits_of(redacted)
    assert REDACTED in json.dumps(redacted, default=str)


@settings(deadline=None)  # no timing luck: a loaded CI machine may take longer than 200 ms
@given(card_integers)
def test_a_card_number_as_a_json_number_is_redacted(number: int) -> None:
    assert redact(number) == REDACTED and redact(-number) == REDACTED
    assert redact(float(number)) == REDACTED  # past 2**53 a float is a card's first digits: still redacted
    assert redact([{"amount": number}]) == [{"amount": REDACTED}]


@pytest.mark.parametrize(
    "written",
    [
        4111111111111111,
        4111111111111111.0,
        "4111111111111111",
        "4111.1111.1111.1111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111_1111_1111_1111",
        "4,111,111,111,111,111",
        "3782 822463 10005",
        "4111 - 1111 - 1111 - 1111",
        Decimal("4111111111111111"),
    ],
)
def test_the_card_numbers_the_issue_names_are_redacted(written: Any) -> None:
    assert redact({"note": written}) == {"note": REDACTED}


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nested_card())
def test_no_log_line_carries_a_card_number_in_a_field_the_message_or_an_exception(card: tuple[str, Any]) -> None:
    digits, value = card
    logger = build_logger("redaction-properties")
    with capture_logs(logger) as logs:
        logger.info(value, extra={"detail": value, "items": [value]})
        try:
            raise ValueError(f"refused {value!s}")
        except ValueError:
            logger.exception("charge failed")
    info, error = logs.lines()
    fields = [info["message"], info["detail"], info["items"]]
    raised = error["exception"].rsplit("ValueError: ", 1)[1]  # the exception's message line
    assert digits not in digits_of(fields) and digits not in digits_of(raised)
    assert REDACTED in json.dumps(fields) and REDACTED in raised


@settings(deadline=None)  # no timing luck: a loaded CI machine may take longer than 200 ms
@given(st.text(alphabet="0123456789", min_size=12, max_size=18).map(not_luhn).filter(lambda d: d[0] != "0"))
def test_numbers_that_fail_the_luhn_check_are_kept(digits: str) -> None:
    assert redact(digits) == digits and redact(int(digits)) == int(digits)
    assert redact(f"order {digits} total 1234") == f"order {digits} total 1234"


@settings(deadline=None)  # no timing luck: a loaded CI machine may take longer than 200 ms
@given(st.datetimes(timezones=st.just(UTC)), st.uuids(), st.floats(1e9, 4e9))
def test_timestamps_ids_and_epoch_seconds_are_kept(moment: datetime, uuid: Any, epoch: float) -> None:
    record = {
        "at": moment.isoformat(),
        "when": str(moment),
        "id": str(uuid),
        "started": epoch,
        "text": f"order {uuid} at {moment.isoformat()} took {epoch}",
    }
    assert redact(record) == record


def test_amounts_counts_and_short_numbers_are_kept() -> None:
    record = {
        "amount": "1500000",
        "amount_minor": 150000000,
        "latency_ms": 12.5,
        "failures": 3,
        "date": "2026-11-25",
        "ip": "10.0.0.1",
        "version": "1.2.3",
        "negative": -42,
        "flag": True,
    }
    assert redact(record) == record
