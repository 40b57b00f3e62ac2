"""notifier-api in-process on moto: endpoints (secrets shown once, rotated with grace, the limit, SSRF refusals at
registration, tenant checks) and events (listed newest first, filtered, paged, redelivered)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from notifier_testdata import call, queued

from notifier.container import build_container
from notifier.entrypoints import api, record
from payments_shared.ids import PaymentOrderId
from payments_testing.events import deliver, payment_status_updated, refund_status_updated
from payments_testing.http import MERCHANT_1, MERCHANT_2, OPERATOR_1
from payments_testing.strict_dynamodb import StrictTransactions
from payments_testing.throttling import throttle

HOOK = {"url": "https://merchant.example/hooks", "enabled_events": ["*"]}


def create(body: dict[str, Any] = HOOK, key: str = "key-1", caller: str | None = None) -> tuple[int, Any]:
    return call(api.handler, "POST", "/webhook_endpoints", body, key=key, caller=caller or MERCHANT_1)


def endpoint_call(method: str, endpoint_id: str, suffix: str = "", **kwargs: Any) -> tuple[int, Any]:
    resource = "/webhook_endpoints/{endpoint_id}" + suffix
    return call(
        api.handler,
        method,
        f"/webhook_endpoints/{endpoint_id}{suffix}",
        resource=resource,
        path_parameters={"endpoint_id": endpoint_id},
        **kwargs,
    )


def event_call(method: str, event_id: str, suffix: str = "", **kwargs: Any) -> tuple[int, Any]:
    return call(
        api.handler,
        method,
        f"/events/{event_id}{suffix}",
        resource="/events/{event_id}" + suffix,
        path_parameters={"event_id": event_id},
        **kwargs,
    )


def fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body.get("errors", [])]


def test_a_registration_shows_its_secret_once_and_a_retry_answers_the_same(runtime: ModuleType) -> None:
    status, created = create()
    assert status == 201 and created["secret"].startswith("whsec_") and created["id"].startswith("we_")
    assert created["enabled_events"] == ["*"] and created["status"] == "enabled"
    assert create() == (201, created)  # the same key: the same endpoint, nothing more written
    status, listed = call(api.handler, "GET", "/webhook_endpoints")
    assert status == 200 and listed["object"] == "list" and len(listed["data"]) == 1
    assert listed["data"][0]["secret"] is None
    status, one = endpoint_call("GET", created["id"])
    assert status == 200 and one["secret"] is None and one["url"] == HOOK["url"]


def test_another_body_under_a_used_key_is_422_naming_the_header(runtime: ModuleType) -> None:
    create()
    status, body = create({**HOOK, "url": "https://other.example/h"})
    assert status == 422 and fields(body) == ["header.idempotency-key"]


def test_posts_without_an_idempotency_key_are_400_naming_it(runtime: ModuleType) -> None:
    status, body = create(key="")
    assert status == 400 and fields(body) == ["header.idempotency-key"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.8/hook",
        "https://192.168.1.1/hook",
        "https://172.16.0.1/hook",
        "https://internal.merchant.example/hook",  # a name resolving to 10.1.2.3
        "https://rebind.example/hook",  # one of its addresses is the metadata service
        "http://merchant.example/hook",  # plain http
    ],
)
def test_registration_refuses_private_targets_with_422_naming_the_url(runtime: ModuleType, url: str) -> None:
    status, body = create({**HOOK, "url": url})
    assert status == 422 and fields(body) == ["body.url"], body
    assert call(api.handler, "GET", "/webhook_endpoints")[1]["data"] == []  # nothing written


def test_only_the_local_run_s_setting_allows_a_loopback_receiver(runtime: ModuleType) -> None:
    assert build_container({}).config.allow_loopback() is False
    assert build_container({"WEBHOOK_TARGETS_ALLOW_LOOPBACK": "true"}).config.allow_loopback() is False
    local = build_container({"WEBHOOK_TARGETS_ALLOW_LOOPBACK": "1"})
    assert local.config.allow_loopback() is True
    runtime.container.check_target.override(local.check_target)
    assert create({**HOOK, "url": "http://127.0.0.1:9000/hook"})[0] == 201
    assert create({**HOOK, "url": "https://169.254.169.254/"}, key="key-2")[0] == 422  # loopback only


def test_unknown_event_types_are_422_and_malformed_bodies_400(runtime: ModuleType) -> None:
    status, body = create({**HOOK, "enabled_events": ["payment.exploded"]})
    assert status == 422 and fields(body) == ["body.enabled_events"]
    status, body = create({"url": "https://merchant.example/h"})
    assert status == 400 and fields(body) == ["body.enabled_events"]


def test_a_merchant_may_have_sixteen_endpoints_and_the_seventeenth_is_422(runtime: ModuleType) -> None:
    for n in range(16):
        assert create(key=f"k{n}")[0] == 201
    status, body = create(key="k16")
    assert status == 422 and body["type"].endswith("too-many-webhook-endpoints")
    assert create(key="k0")[0] == 201  # a retry of one that exists still answers
    assert create(key="m2", caller=MERCHANT_2)[0] == 201  # the limit is per merchant


def test_another_merchant_s_endpoint_is_404_and_an_operator_names_the_merchant(runtime: ModuleType) -> None:
    _, created = create()
    endpoint_id = created["id"]
    assert endpoint_call("GET", endpoint_id, caller=MERCHANT_2)[0] == 404
    assert endpoint_call("DELETE", endpoint_id, caller=MERCHANT_2)[0] == 404
    assert endpoint_call("POST", endpoint_id, "/rotate_secret", body={}, caller=MERCHANT_2)[0] == 404
    status, body = endpoint_call("GET", endpoint_id, caller=OPERATOR_1)
    assert status == 400 and fields(body) == ["query.merchant_id"]
    status, body = endpoint_call("GET", endpoint_id, caller=OPERATOR_1, query={"merchant_id": "merchant-1"})
    assert status == 200 and body["id"] == endpoint_id
    status, body = call(
        api.handler, "GET", "/webhook_endpoints", caller=MERCHANT_2, query={"merchant_id": "merchant-1"}
    )
    assert status == 403
    assert endpoint_call("GET", "we_nothex", caller=OPERATOR_1, query={"merchant_id": "merchant-1"})[0] == 400


def test_deleting_removes_the_endpoint_and_again_is_404(runtime: ModuleType) -> None:
    _, created = create()
    status, body = endpoint_call("DELETE", created["id"])
    assert status == 200 and body == {"id": created["id"], "object": "webhook_endpoint", "deleted": True}
    assert endpoint_call("DELETE", created["id"])[0] == 404
    assert endpoint_call("GET", created["id"])[0] == 404
    # a late retry of its creation does not bring it back
    status, body = create()
    assert status == 422 and fields(body) == ["header.idempotency-key"] and "deleted" in body["detail"]
    assert call(api.handler, "GET", "/webhook_endpoints")[1]["data"] == []
    assert create(key="key-2")[0] == 201


def test_a_delete_the_table_refuses_for_now_is_503_and_its_retry_deletes(
    runtime: ModuleType, strict: StrictTransactions
) -> None:
    _, created = create()
    strict.cancel_next("ThrottlingError")
    status, body = endpoint_call("DELETE", created["id"])
    assert status == 503, body  # a passing refusal, nothing written: retry, not an error of ours
    assert endpoint_call("GET", created["id"])[0] == 200
    status, body = endpoint_call("DELETE", created["id"])
    assert status == 200 and body["deleted"] is True


def test_rotation_answers_a_new_secret_and_keeps_the_old_one_signing_for_its_grace(runtime: ModuleType) -> None:
    _, created = create()
    status, rotated = endpoint_call("POST", created["id"], "/rotate_secret", body={"grace_period_s": 600}, key="r1")
    assert status == 200 and rotated["secret"] != created["secret"]
    assert endpoint_call("POST", created["id"], "/rotate_secret", body={"grace_period_s": 600}, key="r1") == (
        200,
        rotated,
    )  # a retry rotates nothing more
    stored = runtime.container.app().endpoint("merchant-1", created["id"])
    assert [s.secret for s in stored.secrets] == [rotated["secret"], created["secret"]]
    assert stored.secrets[0].expires_at is None and stored.secrets[1].expires_at is not None
    status, again = endpoint_call("POST", created["id"], "/rotate_secret", body={"grace_period_s": 0}, key="r2")
    assert status == 200 and again["secret"] not in (created["secret"], rotated["secret"])
    # r1 retried late, after r2: nothing rotates again (the answer is the endpoint's current secret)
    assert endpoint_call("POST", created["id"], "/rotate_secret", body={"grace_period_s": 600}, key="r1") == (
        200,
        again,
    )
    stored = runtime.container.app().endpoint("merchant-1", created["id"])
    assert [s.secret for s in stored.secrets] == [again["secret"], created["secret"]]  # r2 dropped r1's at once
    status, body = endpoint_call("POST", created["id"], "/rotate_secret", body={"grace_period_s": 8 * 86400}, key="r3")
    assert status == 422 and fields(body) == ["body.grace_period_s"]


def test_events_are_listed_newest_first_filtered_by_type_and_paged(runtime: ModuleType) -> None:
    sources = [payment_status_updated(status="SUCCESS") for _ in range(3)]
    for n, source in enumerate(sources):
        source["detail"]["occurred_at"] = f"2026-11-25T10:00:0{n}+00:00"
    refund = refund_status_updated(PaymentOrderId.new(), "rf_" + "1" * 32, status="SUCCEEDED")
    refund["detail"]["occurred_at"] = "2026-11-25T10:00:05+00:00"
    assert deliver(record.handler, *sources, refund) == []
    status, listed = call(api.handler, "GET", "/events", query={"limit": "2"})
    assert status == 200 and listed["has_more"] is True
    assert [e["type"] for e in listed["data"]] == ["refund.succeeded", "payment.succeeded"]
    status, rest = call(api.handler, "GET", "/events", query={"limit": "2", "starting_after": listed["data"][-1]["id"]})
    assert status == 200 and len(rest["data"]) == 2 and rest["has_more"] is False
    assert [e["created"] for e in listed["data"] + rest["data"]] == sorted(
        [e["created"] for e in listed["data"] + rest["data"]], reverse=True
    )
    only = call(api.handler, "GET", "/events", query={"type": "refund.succeeded"})[1]["data"]
    assert [e["data"]["object"]["id"] for e in only] == ["rf_" + "1" * 32]
    created = rest["data"][-1]["created"]
    window = call(api.handler, "GET", "/events", query={"created_gte": str(created), "created_lte": str(created)})
    assert [e["id"] for e in window[1]["data"]] == [rest["data"][-1]["id"]]
    status, one = event_call("GET", listed["data"][0]["id"])
    assert status == 200 and one.pop("deliveries") == [] and one == listed["data"][0]


@pytest.mark.parametrize("operation", ["Query", "GetItem"])
def test_event_reads_throttled_past_botocore_s_retries_are_503_and_the_retry_answers(
    runtime: ModuleType, operation: str
) -> None:
    assert deliver(record.handler, payment_status_updated()) == []
    event_id = call(api.handler, "GET", "/events")[1]["data"][0]["id"]  # the caller is cached from here on
    if operation == "Query":  # the list; below, the one event's delivery log (GetItem: the one event)
        throttle(runtime.container.dynamodb(), operation)
        status, body = call(api.handler, "GET", "/events")
        assert status == 503 and body["type"] == "urn:payments:problem:busy", body
    throttle(runtime.container.dynamodb(), operation)
    status, body = event_call("GET", event_id)
    assert status == 503 and body["type"] == "urn:payments:problem:busy", body
    assert event_call("GET", event_id)[0] == 200
    assert call(api.handler, "GET", "/events")[0] == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [({"type": "payment.exploded"}, "query.type"), ({"limit": "0"}, "query.limit"), ({"limit": "101"}, "query.limit")],
)
def test_bad_list_queries_are_400_naming_the_parameter(runtime: ModuleType, query: dict[str, str], field: str) -> None:
    status, body = call(api.handler, "GET", "/events", query=query)
    assert status == 400 and fields(body) == [field]


def test_another_merchant_s_event_is_404(runtime: ModuleType, aws: dict[str, Any]) -> None:
    assert deliver(record.handler, payment_status_updated()) == []
    event_id = call(api.handler, "GET", "/events")[1]["data"][0]["id"]
    assert event_call("GET", event_id, caller=MERCHANT_2)[0] == 404
    assert event_call("POST", event_id, "/redeliver", body={}, caller=MERCHANT_2)[0] == 404
    assert call(api.handler, "GET", "/events", caller=MERCHANT_2)[1]["data"] == []
    assert event_call("GET", event_id, caller=OPERATOR_1, query={"merchant_id": "merchant-1"})[0] == 200


def test_redeliver_queues_to_every_subscribed_endpoint_or_to_the_one_named(
    runtime: ModuleType, aws: dict[str, Any]
) -> None:
    _, everything = create()
    _, refunds_only = create({**HOOK, "enabled_events": ["refund.failed"]}, key="key-2")
    assert deliver(record.handler, payment_status_updated()) == []
    first = queued(aws["sqs"], aws["queue_url"])
    event_id = call(api.handler, "GET", "/events")[1]["data"][0]["id"]
    assert first == [{"merchant_id": "merchant-1", "event_id": event_id, "endpoint_id": everything["id"]}]
    status, body = event_call("POST", event_id, "/redeliver", body={})
    assert status == 202 and body == {"event_id": event_id, "endpoint_ids": [everything["id"]]}
    assert queued(aws["sqs"], aws["queue_url"]) == first
    status, body = event_call("POST", event_id, "/redeliver", body={"endpoint_id": refunds_only["id"]})
    assert status == 422 and fields(body) == ["body.endpoint_id"]
    status, body = event_call("POST", event_id, "/redeliver", body={"endpoint_id": "we_" + "0" * 24})
    assert status == 404
    assert queued(aws["sqs"], aws["queue_url"]) == []


def test_an_event_shows_how_each_endpoint_s_delivery_went(runtime: ModuleType, aws: dict[str, Any]) -> None:
    _, endpoint = create()
    assert deliver(record.handler, payment_status_updated()) == []
    event_id = call(api.handler, "GET", "/events")[1]["data"][0]["id"]
    # what the deliverer writes (webhook-deliveries): a parked delivery, its endpoint's health row beside it
    aws["dynamodb"].put_item(
        TableName="webhook-deliveries",
        Item={
            "merchant_id": {"S": "merchant-1"},
            "event_id#endpoint_id": {"S": f"{event_id}#{endpoint['id']}"},
            "attempts": {"N": "12"},
            "last_attempt_at": {"N": "1800000000"},
            "last_status": {"S": "timeout"},
            "parked": {"BOOL": True},
        },
    )
    aws["dynamodb"].put_item(
        TableName="webhook-deliveries",
        Item={"merchant_id": {"S": "merchant-1"}, "event_id#endpoint_id": {"S": f"health#{endpoint['id']}"}},
    )
    status, one = event_call("GET", event_id)
    assert status == 200 and one["deliveries"] == [
        {
            "endpoint_id": endpoint["id"],
            "attempts": 12,
            "last_attempt_at": 1800000000,
            "last_status": "timeout",
            "delivered_at": None,
            "parked": True,
        }
    ]
    assert event_call("GET", event_id, caller=MERCHANT_2)[0] == 404
