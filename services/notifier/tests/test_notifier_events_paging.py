"""Property: whatever the events' times and the page size, paging GET /events's way (starting_after the last id)
lists every event of the merchant exactly once, newest first, and a time window holds exactly its events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from notifier.adapters.dynamodb_events import DynamoDBMerchantEvents
from notifier.app import NotifierApp
from notifier.domain.catalog import MerchantEvent, merchant_event
from payments_testing.aws import aws_client, fake_credentials
from payments_testing.stores import table

T0 = datetime(2026, 11, 25, tzinfo=UTC)


def payout(n: int, offset_ms: int) -> MerchantEvent:
    data = {"payout_id": f"po_{n}", "merchant_id": "m-1", "amount_minor": 1, "currency": "EUR", "created": "t"}
    event = merchant_event("PayoutPaid", f"source-{n}", T0 + timedelta(milliseconds=offset_ms), data)
    assert event is not None
    return event


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 20_000), min_size=0, max_size=30),
    st.integers(1, 7),
    st.integers(0, 20),
    st.integers(0, 20),
)
def test_pages_list_each_event_once_newest_first(offsets: list[int], limit: int, gte_s: int, span_s: int) -> None:
    fake_credentials()
    with mock_aws():
        dynamodb = aws_client("dynamodb")
        dynamodb.create_table(**table("merchant-events", "merchant_id", "event_id"))
        events = DynamoDBMerchantEvents(dynamodb, "merchant-events")
        recorded = [payout(n, offset) for n, offset in enumerate(offsets)]
        for event in recorded:
            events.record(event)
        app = NotifierApp(endpoints=None, events=events, deliveries=None, check_target=print)  # type: ignore[arg-type]

        def all_pages(gte: int | None = None, lte: int | None = None) -> list[str]:
            seen: list[str] = []
            cursor = None
            while True:
                page = app.events("m-1", created_gte=gte, created_lte=lte, limit=limit, starting_after=cursor)
                assert len(page.events) <= limit
                seen += [e.event_id for e in page.events]
                if not page.has_more:
                    return seen
                cursor = seen[-1]

        newest_first = sorted((e.event_id for e in recorded), reverse=True)
        assert all_pages() == newest_first
        gte = int(T0.timestamp()) + gte_s
        lte = gte + span_s
        inside = sorted((e.event_id for e in recorded if gte <= e.created <= lte), reverse=True)
        assert all_pages(gte, lte) == inside
