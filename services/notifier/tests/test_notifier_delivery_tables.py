"""The deliverer's table adapters, one suite for both (memory and DynamoDB on moto), in the contract's shapes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws

from notifier.delivery.adapters import dynamodb, memory
from notifier.delivery.health import HEALTHY, EndpointHealth
from notifier.delivery.ports import DeliveryRequest, Endpoint, Secret, StoredEvent
from payments_testing.aws import aws_client, fake_credentials
from payments_testing.stores import table

REQUEST = DeliveryRequest("merchant-1", "evt_0001764064800000_0123456789abcdef", "we_" + "a" * 24)


@dataclass
class Tables:
    events: Any
    endpoints: Any
    log: Any
    health: Any
    client: Any  # None for memory

    def add_event(self, merchant_id: str, event_id: str, type_: str, body: str) -> None:
        if self.client is None:
            self.events.events[(merchant_id, event_id)] = StoredEvent(type_, body.encode())
            return
        self.client.put_item(
            TableName="merchant-events",
            Item={
                "merchant_id": {"S": merchant_id},
                "event_id": {"S": event_id},
                "type": {"S": type_},
                "created": {"N": "1764064800"},
                "body": {"S": body},
                "source_event_id": {"S": "src-1"},
            },
        )

    def add_endpoint(
        self, merchant_id: str, endpoint_id: str, url: str, events: list[str], secrets: list[Secret]
    ) -> None:
        if self.client is None:
            self.endpoints.endpoints[(merchant_id, endpoint_id)] = Endpoint(
                url, tuple(events), "enabled", tuple(secrets)
            )
            return
        self.client.put_item(
            TableName="webhook-endpoints",
            Item={
                "merchant_id": {"S": merchant_id},
                "endpoint_id": {"S": endpoint_id},
                "url": {"S": url},
                "enabled_events": {"L": [{"S": e} for e in events]},
                "status": {"S": "enabled"},
                "created": {"N": "1764064800"},
                "secrets": {
                    "L": [
                        {
                            "M": {
                                "secret": {"S": s.secret},
                                **({"expires_at": {"N": str(s.expires_at)}} if s.expires_at else {}),
                            }
                        }
                        for s in secrets
                    ]
                },
            },
        )


@pytest.fixture(params=["memory", "dynamodb"])
def tables(request: pytest.FixtureRequest) -> Iterator[Tables]:
    if request.param == "memory":
        yield Tables(
            memory.InMemoryMerchantEvents(),
            memory.InMemoryWebhookEndpoints(),
            memory.InMemoryDeliveryLog(),
            memory.InMemoryEndpointHealth(),
            None,
        )
        return
    fake_credentials()
    with mock_aws():
        client = aws_client("dynamodb")
        client.create_table(**table("merchant-events", "merchant_id", "event_id"))
        client.create_table(**table("webhook-endpoints", "merchant_id", "endpoint_id"))
        client.create_table(**table("webhook-deliveries", "merchant_id", "event_id#endpoint_id"))
        yield Tables(
            dynamodb.DynamoDBMerchantEvents(client, "merchant-events"),
            dynamodb.DynamoDBWebhookEndpoints(client, "webhook-endpoints"),
            dynamodb.DynamoDBDeliveryLog(client, "webhook-deliveries"),
            dynamodb.DynamoDBEndpointHealth(client, "webhook-deliveries"),
            client,
        )


def delivery_row(tables: Tables) -> dict[str, Any]:
    if tables.client is None:
        row = tables.log.rows[(REQUEST.merchant_id, REQUEST.event_id, REQUEST.endpoint_id)]
        return {
            "attempts": row.attempts,
            "last_status": row.last_status,
            "delivered_at": row.delivered_at,
            "parked": row.parked,
        }
    item = tables.client.get_item(
        TableName="webhook-deliveries",
        Key={
            "merchant_id": {"S": REQUEST.merchant_id},
            "event_id#endpoint_id": {"S": f"{REQUEST.event_id}#{REQUEST.endpoint_id}"},
        },
    )["Item"]
    return {
        "attempts": int(item["attempts"]["N"]),
        "last_status": item["last_status"]["S"],
        "delivered_at": int(item["delivered_at"]["N"]) if "delivered_at" in item else None,
        "parked": item.get("parked", {}).get("BOOL", False),
    }


def test_an_event_reads_back_its_exact_body_and_type_and_another_merchants_is_not_found(tables: Tables) -> None:
    body = '{"id": "evt_x", "data": {"object": {"amount_minor": 1050}}}'
    tables.add_event("merchant-1", REQUEST.event_id, "payment.succeeded", body)

    assert tables.events.event("merchant-1", REQUEST.event_id) == StoredEvent("payment.succeeded", body.encode())
    assert tables.events.event("merchant-2", REQUEST.event_id) is None


def test_an_endpoint_reads_back_its_url_types_and_secrets_with_their_expiry(tables: Tables) -> None:
    secrets = [Secret("whsec_new"), Secret("whsec_old", expires_at=1_900_000_000)]
    tables.add_endpoint(
        "merchant-1", REQUEST.endpoint_id, "https://hooks.example.com/in", ["payment.succeeded"], secrets
    )

    endpoint = tables.endpoints.endpoint("merchant-1", REQUEST.endpoint_id)
    assert endpoint == Endpoint("https://hooks.example.com/in", ("payment.succeeded",), "enabled", tuple(secrets))
    assert endpoint.live_secrets(1_900_000_000) == ["whsec_new"]
    assert tables.endpoints.endpoint("merchant-2", REQUEST.endpoint_id) is None


def test_attempts_add_up_the_first_2xx_stays_the_delivery_time_and_parking_is_kept(tables: Tables) -> None:
    tables.log.record_attempt(REQUEST, 100, "500", delivered=False)
    tables.log.record_attempt(REQUEST, 200, "200", delivered=True)
    tables.log.record_attempt(REQUEST, 300, "200", delivered=True)  # a duplicate delivery

    assert delivery_row(tables) == {"attempts": 3, "last_status": "200", "delivered_at": 200, "parked": False}
    tables.log.record_parked(REQUEST, 400, "timeout")
    assert delivery_row(tables)["parked"] is True


def test_health_is_healthy_until_saved_and_healthy_again_once_cleared(tables: Tables) -> None:
    assert tables.health.health("merchant-1", REQUEST.endpoint_id) == HEALTHY
    failing = EndpointHealth(failing_since=100, retry_not_before=160, consecutive_failures=2)
    tables.health.save("merchant-1", REQUEST.endpoint_id, failing)

    assert tables.health.health("merchant-1", REQUEST.endpoint_id) == failing
    assert tables.health.health("merchant-2", REQUEST.endpoint_id) == HEALTHY
    tables.health.clear("merchant-1", REQUEST.endpoint_id)
    assert tables.health.health("merchant-1", REQUEST.endpoint_id) == HEALTHY


def test_attempts_in_flight_are_capped_released_and_a_lapsed_count_is_reset(tables: Tables) -> None:
    claim = tables.health.claim
    assert [claim("merchant-1", "we_1", now=100, cap=2, lease_s=15) for _ in range(3)] == [True, True, False]
    assert claim("merchant-2", "we_1", now=100, cap=2, lease_s=15)  # another merchant's endpoint: its own count
    tables.health.release("merchant-1", "we_1")
    assert claim("merchant-1", "we_1", now=101, cap=2, lease_s=15)
    assert not claim("merchant-1", "we_1", now=116, cap=2, lease_s=15)  # the lease was renewed at 101
    assert claim("merchant-1", "we_1", now=117, cap=2, lease_s=15)  # lapsed: the invocations holding it died

    failing = EndpointHealth(failing_since=100, retry_not_before=160, consecutive_failures=1)
    tables.health.save("merchant-1", "we_1", failing)  # health and the in-flight count share the row
    assert tables.health.health("merchant-1", "we_1") == failing
    tables.health.clear("merchant-1", "we_1")
    assert tables.health.health("merchant-1", "we_1") == HEALTHY
    assert not claim("merchant-1", "we_1", now=118, cap=1, lease_s=15)  # clearing health kept the count
