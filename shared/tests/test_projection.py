"""Projections of a DynamoDB stream batch applied a group of events at a time (one write for many)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from payments_shared.eventstore.dynamodb import SK, event_item
from payments_shared.eventstore.port import NewEvent, StoredEvent
from payments_shared.eventstore.projection import project_stream_batch_in_groups
from payments_testing.streams import stream_event, stream_record


def batch(streams: Sequence[str]) -> dict[str, Any]:
    """One event per stream, each followed by a claim item's INSERT (no event: a projection skips it)."""
    records = []
    for n, stream in enumerate(streams):
        records.append(stream_record(event_item(stream, 1, NewEvent("Posted", {"n": n}, "c")), f"{100 + 2 * n}"))
        records.append(stream_record({"stream_id": f"totals#{stream}", SK: 0}, f"{101 + 2 * n}"))
    return stream_event(records)


def at_most(n: int) -> Any:
    return lambda events: len(events) <= n


def test_events_are_applied_in_stream_order_in_groups_as_large_as_fit() -> None:
    applied: list[list[str]] = []
    response = project_stream_batch_in_groups(
        batch(["a", "b", "c", "d", "e"]), lambda group: applied.append([e.stream_id for e in group]), at_most(2)
    )
    assert response == {"batchItemFailures": []}
    assert applied == [["a", "b"], ["c", "d"], ["e"]]


def test_a_failed_group_stops_the_batch_at_its_first_record_and_keeps_the_groups_before() -> None:
    applied: list[list[str]] = []

    def apply(group: Sequence[StoredEvent]) -> None:
        if group[0].stream_id == "c":
            raise RuntimeError("refused")
        applied.append([e.stream_id for e in group])

    response = project_stream_batch_in_groups(batch(["a", "b", "c", "d", "e"]), apply, at_most(2))
    # The stream retries from c's record (sequence 104); a and b were committed and are not reported.
    assert response == {"batchItemFailures": [{"itemIdentifier": "104"}]}
    assert applied == [["a", "b"]]


def test_an_event_that_fits_no_group_is_applied_alone() -> None:
    applied: list[int] = []
    project_stream_batch_in_groups(batch(["a", "b"]), lambda group: applied.append(len(group)), at_most(0))
    assert applied == [1, 1]
