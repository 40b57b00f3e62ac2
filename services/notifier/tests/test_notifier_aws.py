"""The notifier's adapters on moto: endpoints under their limit, events once and paged newest first, deliveries
queued in batches."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from notifier_testdata import queued

from notifier.adapters.dynamodb_endpoints import DynamoDBEndpoints
from notifier.adapters.dynamodb_events import DynamoDBMerchantEvents
from notifier.adapters.sqs_deliveries import DeliveriesNotQueued, SqsDeliveries
from notifier.domain.catalog import MerchantEvent, id_bounds, merchant_event
from notifier.domain.endpoints import WebhookEndpoint, endpoint_id_for, new_endpoint, rotate
from notifier.domain.errors import TooManyEndpoints
from notifier.ports import Delivery
from payments_shared.eventstore.port import StoreUnavailable
from payments_testing.aws import SerializedClient
from payments_testing.strict_dynamodb import StrictTransactions
from payments_testing.throttling import throttle

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def endpoint(merchant: str, key: str, types: tuple[str, ...] = ("*",)) -> WebhookEndpoint:
    return new_endpoint(
        merchant, endpoint_id_for(merchant, key), "https://x.example/h", types, "d", now=1, fingerprint="f"
    )


def payout(n: int, merchant: str = "m-1", at: datetime | None = None) -> MerchantEvent:
    data = {"payout_id": f"po_{n}", "merchant_id": merchant, "amount_minor": n + 1, "currency": "EUR", "created": "t"}
    event = merchant_event("PayoutPaid", f"source-{n}", at or T0 + timedelta(seconds=n), data)
    assert event is not None
    return event


def test_an_endpoint_round_trips_and_a_second_add_of_its_id_is_refused(aws: dict[str, Any]) -> None:
    store = DynamoDBEndpoints(aws["dynamodb"], "webhook-endpoints")
    first = endpoint("m-1", "k")
    assert store.add(first, limit=16) is True
    assert store.add(first, limit=16) is False
    assert store.get("m-1", first.endpoint_id) == first
    assert store.get("m-2", first.endpoint_id) is None  # another merchant's
    assert store.of_merchant("m-1") == [first]


@pytest.mark.parametrize("reason", ["ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded"])
def test_a_write_refused_for_now_is_store_unavailable_and_nothing_was_written(
    aws: dict[str, Any], strict: StrictTransactions, reason: str
) -> None:
    # Not a 500 at the API: StoreUnavailable is its 503 with Retry-After, and the merchant's retry is safe.
    store = DynamoDBEndpoints(aws["dynamodb"], "webhook-endpoints")
    first = endpoint("m-1", "k")
    strict.cancel_next(reason)
    with pytest.raises(StoreUnavailable):
        store.add(first, limit=16)
    assert store.of_merchant("m-1") == []
    assert store.add(first, limit=16) is True
    strict.cancel_next(reason)
    with pytest.raises(StoreUnavailable):
        store.remove("m-1", first.endpoint_id, at=5)
    assert store.of_merchant("m-1") == [first] and not store.was_deleted("m-1", first.endpoint_id)
    assert store.remove("m-1", first.endpoint_id, at=5) is True
    kept = endpoint("m-1", "kept")
    assert store.add(kept, limit=16)
    throttle(aws["dynamodb"], "UpdateItem")
    with pytest.raises(StoreUnavailable):  # a single write throttled past botocore's retries
        store.rotated(kept, rotate(kept, now=2, grace_period_s=60, key="rot-1"))
    assert store.get("m-1", kept.endpoint_id) == kept


def test_a_refusal_no_retry_fixes_stays_the_error_it_is(aws: dict[str, Any], strict: StrictTransactions) -> None:
    store = DynamoDBEndpoints(aws["dynamodb"], "webhook-endpoints")
    strict.cancel_where("ValidationError", "webhook-endpoints", "merchant_id", "m-1")
    with pytest.raises(ClientError) as raised:
        store.add(endpoint("m-1", "k"), limit=16)
    assert not isinstance(raised.value, StoreUnavailable)


def test_the_limit_holds_under_racing_registrations(aws: dict[str, Any]) -> None:
    store = DynamoDBEndpoints(SerializedClient(aws["dynamodb"]), "webhook-endpoints")
    results: list[bool | str] = []
    barrier = threading.Barrier(8)

    def register(n: int) -> None:
        barrier.wait()
        try:
            results.append(store.add(endpoint("m-1", f"k{n}"), limit=5))
        except TooManyEndpoints:
            results.append("too many")

    threads = [threading.Thread(target=register, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 5 and results.count("too many") == 3
    assert len(store.of_merchant("m-1")) == 5


def test_a_removed_endpoint_frees_its_place_and_removing_it_again_finds_none(aws: dict[str, Any]) -> None:
    store = DynamoDBEndpoints(aws["dynamodb"], "webhook-endpoints")
    kept, dropped = endpoint("m-1", "a"), endpoint("m-1", "b")
    assert store.add(kept, limit=2) and store.add(dropped, limit=2)
    with pytest.raises(TooManyEndpoints):
        store.add(endpoint("m-1", "c"), limit=2)
    assert store.remove("m-1", dropped.endpoint_id, at=5) is True
    assert store.remove("m-1", dropped.endpoint_id, at=5) is False
    assert store.remove("m-2", kept.endpoint_id, at=5) is False  # another merchant's: untouched
    assert store.was_deleted("m-1", dropped.endpoint_id) and not store.was_deleted("m-1", kept.endpoint_id)
    assert not store.was_deleted("m-2", dropped.endpoint_id)
    assert store.add(endpoint("m-1", "c"), limit=2) is True
    assert {e.endpoint_id for e in store.of_merchant("m-1")} == {kept.endpoint_id, endpoint("m-1", "c").endpoint_id}


def test_a_rotation_decided_on_a_stale_read_is_refused(aws: dict[str, Any]) -> None:
    store = DynamoDBEndpoints(aws["dynamodb"], "webhook-endpoints")
    before = endpoint("m-1", "k")
    store.add(before, limit=16)
    first = rotate(before, now=100, grace_period_s=60, key="r1")
    second = rotate(before, now=100, grace_period_s=60, key="r2")
    assert store.rotated(before, first) is True
    assert store.rotated(before, second) is False  # decided on the secrets before r1
    stored = store.get("m-1", before.endpoint_id)
    assert stored is not None and stored.secrets == first.secrets and stored.rotation_key == "r1"
    assert store.rotated(stored, rotate(stored, now=200, grace_period_s=0, key="r3")) is True


def test_an_event_is_recorded_once_and_its_first_body_stays(aws: dict[str, Any]) -> None:
    events = DynamoDBMerchantEvents(aws["dynamodb"], "merchant-events")
    event = payout(1)
    assert events.record(event) is True
    assert events.record(event) is False
    assert events.get("m-1", event.event_id) == event
    assert events.get("m-2", event.event_id) is None


def test_pages_are_newest_first_filtered_and_continue_after_the_cursor(aws: dict[str, Any]) -> None:
    events = DynamoDBMerchantEvents(aws["dynamodb"], "merchant-events")
    recorded = [payout(n) for n in range(25)]
    for event in recorded:
        events.record(event)
    events.record(payout(99, merchant="m-2"))
    newest_first = [e.event_id for e in reversed(recorded)]
    low, high = id_bounds(None, None)
    seen: list[str] = []
    cursor = None
    while True:
        page = events.page("m-1", low=low, high=high, event_type=None, limit=10, starting_after=cursor)
        seen += [e.event_id for e in page.events]
        if not page.has_more:
            break
        cursor = seen[-1]
    assert seen == newest_first
    # created between the 5th and the 9th second, both included
    low, high = id_bounds(int((T0 + timedelta(seconds=5)).timestamp()), int((T0 + timedelta(seconds=9)).timestamp()))
    window = events.page("m-1", low=low, high=high, event_type=None, limit=3, starting_after=None)
    assert [e.event_id for e in window.events] == newest_first[15:18] and window.has_more
    assert (
        events.page("m-1", low=low, high=high, event_type="payment.failed", limit=3, starting_after=None).events == []
    )


def test_a_type_filter_still_fills_the_page(aws: dict[str, Any]) -> None:
    events = DynamoDBMerchantEvents(aws["dynamodb"], "merchant-events")
    for n in range(30):
        events.record(payout(n))
    refund_data = {
        "refund_id": "rf_1",
        "payment_order_id": "p",
        "merchant_id": "m-1",
        "amount": "1.00",
        "amount_minor": 100,
        "currency": "EUR",
        "status": "SUCCEEDED",
    }
    oldest = merchant_event("RefundStatusUpdated", "r", T0 - timedelta(hours=1), refund_data)
    assert oldest is not None
    events.record(oldest)
    low, high = id_bounds(None, None)
    page = events.page("m-1", low=low, high=high, event_type="refund.succeeded", limit=1, starting_after=None)
    assert page.events == [oldest] and page.has_more is False


def test_deliveries_go_in_batches_of_ten_and_all_arrive(aws: dict[str, Any]) -> None:
    queue = SqsDeliveries(aws["sqs"], aws["queue_url"])
    deliveries = [Delivery("m-1", f"evt_{n}", f"we_{n}") for n in range(23)]
    queue.enqueue(deliveries)
    got = queued(aws["sqs"], aws["queue_url"])
    assert sorted(m["endpoint_id"] for m in got) == sorted(d.endpoint_id for d in deliveries)
    assert set(got[0]) == {"merchant_id", "event_id", "endpoint_id"}


class Flaky:
    """SendMessageBatch that refuses the last entry of a batch `refusals` times."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.calls: list[list[str]] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.calls.append([e["Id"] for e in Entries])
        if self.refusals:
            self.refusals -= 1
            ok, failed = Entries[:-1], Entries[-1:]
        else:
            ok, failed = Entries, []
        return {
            "Successful": [{"Id": e["Id"]} for e in ok],
            "Failed": [{"Id": e["Id"], "Code": "InternalError", "SenderFault": False} for e in failed],
        }


def test_only_refused_entries_are_sent_again_and_lasting_refusals_raise() -> None:
    deliveries = [Delivery("m-1", "evt", f"we_{n}") for n in range(3)]
    flaky = Flaky(refusals=1)
    SqsDeliveries(flaky, "url", sleep=lambda _: None).enqueue(deliveries)
    assert flaky.calls == [["0", "1", "2"], ["2"]]
    with pytest.raises(DeliveriesNotQueued):
        SqsDeliveries(Flaky(refusals=99), "url", sleep=lambda _: None).enqueue(deliveries)
