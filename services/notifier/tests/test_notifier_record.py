"""notifier-record in-process on moto: each merchant-visible event recorded once, a delivery queued per endpoint of
its merchant that wants its type; a redelivered source records nothing more but may queue again."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

from notifier_testdata import call, queued

from notifier.adapters.dynamodb_endpoints import DynamoDBEndpoints
from notifier.adapters.sqs_deliveries import SqsDeliveries
from notifier.entrypoints import api, record
from payments_shared.ids import PaymentOrderId
from payments_testing.aws import CountingClient
from payments_testing.events import deliver, dispute_status_updated, payment_status_updated, payout_paid
from payments_testing.http import MERCHANT_1, MERCHANT_2


def register(types: list[str], key: str, caller: str | None = None) -> str:
    status, body = call(
        api.handler,
        "POST",
        "/webhook_endpoints",
        {"url": "https://merchant.example/h", "enabled_events": types},
        key=key,
        caller=caller or MERCHANT_1,
    )
    assert status == 201
    return str(body["id"])


def events(caller: str | None = None) -> list[dict[str, Any]]:
    return call(api.handler, "GET", "/events", query={"limit": "100"}, caller=caller or MERCHANT_1)[1]["data"]


def test_a_duplicated_source_event_records_once_and_may_queue_again(runtime: ModuleType, aws: dict[str, Any]) -> None:
    endpoint = register(["*"], "k1")
    source = payment_status_updated()
    assert deliver(record.handler, source, source) == []  # twice in one batch
    assert deliver(record.handler, source) == []  # and redelivered later
    recorded = events()
    assert len(recorded) == 1 and recorded[0]["type"] == "payment.succeeded"
    sent = queued(aws["sqs"], aws["queue_url"])
    assert {json.dumps(m, sort_keys=True) for m in sent} == {
        json.dumps(
            {"endpoint_id": endpoint, "event_id": recorded[0]["id"], "merchant_id": "merchant-1"}, sort_keys=True
        )
    }
    assert len(sent) == 3  # at least once: every receipt queued it


def test_only_the_merchant_s_endpoints_that_want_the_type_get_a_delivery(
    runtime: ModuleType, aws: dict[str, Any]
) -> None:
    every = register(["*"], "k1")
    disputes = register(["dispute.opened", "dispute.closed"], "k2")
    register(["payout.paid"], "k3")
    other = register(["*"], "k4", caller=MERCHANT_2)
    assert (
        deliver(
            record.handler,
            dispute_status_updated(PaymentOrderId.new(), status="OPENED"),
            payout_paid(merchant_id="merchant-2"),
        )
        == []
    )
    sent = queued(aws["sqs"], aws["queue_url"])
    by_endpoint = sorted((m["endpoint_id"], m["merchant_id"]) for m in sent)
    assert by_endpoint == sorted([(every, "merchant-1"), (disputes, "merchant-1"), (other, "merchant-2")])
    assert [e["type"] for e in events()] == ["dispute.opened"]
    assert [e["type"] for e in events(MERCHANT_2)] == ["payout.paid"]


def test_a_deleted_endpoint_gets_nothing_more(runtime: ModuleType, aws: dict[str, Any]) -> None:
    endpoint = register(["*"], "k1")
    path = f"/webhook_endpoints/{endpoint}"
    status, _ = call(
        api.handler,
        "DELETE",
        path,
        resource="/webhook_endpoints/{endpoint_id}",
        path_parameters={"endpoint_id": endpoint},
    )
    assert status == 200
    assert deliver(record.handler, payment_status_updated()) == []
    assert queued(aws["sqs"], aws["queue_url"]) == [] and len(events()) == 1  # recorded all the same


def test_an_event_breaking_its_contract_fails_its_record_alone(runtime: ModuleType, aws: dict[str, Any]) -> None:
    broken = payment_status_updated()
    del broken["detail"]["data"]["currency"]
    assert deliver(record.handler, payment_status_updated(), broken) == [1]
    assert len(events()) == 1


class RefusingQueue:
    def send_message_batch(self, **_: Any) -> dict[str, Any]:
        return {"Successful": [], "Failed": [{"Id": "0", "Code": "InternalError", "SenderFault": False}]}


def test_when_deliveries_cannot_be_queued_the_record_fails_and_its_retry_queues_them(
    runtime: ModuleType, aws: dict[str, Any]
) -> None:
    endpoint = register(["*"], "k1")
    source = payment_status_updated()
    runtime.container.deliveries.override(SqsDeliveries(RefusingQueue(), "url", sleep=lambda _: None))
    runtime.container.app.reset()
    assert deliver(record.handler, source) == [0]  # the queue brings it back
    assert len(events()) == 1  # recorded already; the retry will not record it again
    runtime.container.deliveries.override(SqsDeliveries(aws["sqs"], aws["queue_url"]))
    runtime.container.app.reset()
    assert deliver(record.handler, source) == []
    assert [m["endpoint_id"] for m in queued(aws["sqs"], aws["queue_url"])] == [endpoint]
    assert len(events()) == 1


def test_a_body_is_the_source_s_state_in_minor_units(runtime: ModuleType) -> None:
    assert deliver(record.handler, payment_status_updated(amount="500", currency="JPY", status="FAILED")) == []
    [event] = events()
    obj = event["data"]["object"]
    assert event["type"] == "payment.failed" and event["api_version"] == "2026-12-01"
    assert obj["object"] == "payment" and obj["amount"] == "500" and obj["amount_minor"] == 500
    assert obj["currency"] == "JPY" and obj["status"] == "FAILED" and obj["failure_message"] == "insufficient funds"


def test_a_batch_looks_up_each_merchant_s_endpoints_once_and_the_next_batch_afresh(
    runtime: ModuleType, aws: dict[str, Any]
) -> None:
    first = register(["*"], "k1")
    other = register(["*"], "k2", caller=MERCHANT_2)
    counting = CountingClient(aws["dynamodb"])
    runtime.container.endpoints.override(DynamoDBEndpoints(counting, "webhook-endpoints"))
    runtime.container.app.reset()
    merchant_1 = [payment_status_updated() for _ in range(3)]
    assert deliver(record.handler, *merchant_1, payout_paid(merchant_id="merchant-2"), payout_paid()) == []
    assert counting.calls["query"] == 2  # one per merchant, not one per event
    by_endpoint = sorted(m["endpoint_id"] for m in queued(aws["sqs"], aws["queue_url"]))
    assert by_endpoint == sorted([first] * 4 + [other])

    # An endpoint registered between batches gets the next batch's events: each batch looks its merchants up anew.
    counting.clear()
    second = register(["payment.succeeded"], "k3")
    assert deliver(record.handler, payment_status_updated()) == []
    assert counting.calls["query"] == 1
    assert sorted(m["endpoint_id"] for m in queued(aws["sqs"], aws["queue_url"])) == sorted([first, second])
