"""Stripe's webhook on its Lambda function URL, in-process: the payload format 2.0 event in, the function URL
response format out (docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html). A function URL sends every path
and method to the function, so the entry point itself answers only POST on the path Stripe is registered with."""

from __future__ import annotations

import base64
import json
import time
from types import ModuleType

import pytest
from dependency_injector import providers
from fake_psp import FakePsp, stripe_signature
from finalizer_testdata import payment_initiated, webhook_request

from finalizer.entrypoints import charge, stripe_webhook
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.topology import function_urls
from payments_testing.aws import LambdaContext
from payments_testing.events import deliver


@pytest.fixture
def webhooks(runtime: ModuleType, psp: FakePsp) -> FakePsp:
    runtime.container.stripe_webhook_secret.override(providers.Object(lambda: psp.webhook_secret))
    return psp


def awaiting_success(store: InMemoryEventStore, psp: FakePsp) -> tuple[str, bytes]:
    """A payment awaiting 3-D Secure that the buyer then completed: (order id, Stripe's succeeded event body)."""
    event = payment_initiated(
        payment_details=None,
        card=None,
        payment_method="pm_card_authenticationRequired",
        return_url="https://shop.example/return",
    )
    assert deliver(charge.handler, event) == []
    order_id = str(event["detail"]["data"]["payment_order_id"])
    [action] = store.load(f"payment-{order_id}").events
    intent_id = str(action.data["psp_reference"])
    psp.authenticate(intent_id, succeed=True)
    [succeeded] = [
        e
        for e in psp.webhook_events
        if e["type"] == "payment_intent.succeeded" and e["data"]["object"]["id"] == intent_id
    ]
    return order_id, json.dumps(succeeded).encode()


def recorded(store: InMemoryEventStore, order_id: str) -> list[str]:
    return [e.event_type for e in store.load(f"payment-{order_id}").events]


def test_the_entry_point_answers_on_the_path_and_method_the_contract_names() -> None:
    url = function_urls()["finalizer-webhook"]
    assert (url.method, url.path) == ("POST", stripe_webhook.WEBHOOK_PATH)
    assert (url.qualifier, url.auth_type, url.invoke_mode) == ("live", "NONE", "BUFFERED")


def test_a_signed_webhook_is_received_in_the_function_url_response_format(
    runtime: ModuleType, store: InMemoryEventStore, webhooks: FakePsp
) -> None:
    order_id, body = awaiting_success(store, webhooks)
    signature = stripe_signature(body, webhooks.webhook_secret, int(time.time()))
    response = stripe_webhook.handler(webhook_request(body, signature), LambdaContext())
    # headers (one value each), never a REST proxy answer's multiValueHeaders, which a function URL ignores
    assert response == {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"received": True}),
        "isBase64Encoded": False,
    }
    assert recorded(store, order_id) == ["PaymentActionRequired", "PaymentSucceeded"]


def test_a_body_the_function_url_base64_encoded_is_verified_over_its_decoded_bytes(
    runtime: ModuleType, store: InMemoryEventStore, webhooks: FakePsp
) -> None:
    order_id, body = awaiting_success(store, webhooks)
    body = body.replace(b'"object": "event"', b'"object": "event", "note": "caf\xc3\xa9"')  # non-ASCII bytes signed
    assert b"caf\xc3\xa9" in body
    signature = stripe_signature(body, webhooks.webhook_secret, int(time.time()))
    request = webhook_request(body, signature, base64_body=True, content_type="application/octet-stream")
    assert request["body"] == base64.b64encode(body).decode()
    assert stripe_webhook.handler(request, LambdaContext())["statusCode"] == 200
    assert recorded(store, order_id) == ["PaymentActionRequired", "PaymentSucceeded"]


def test_a_body_that_is_not_base64_when_flagged_so_is_a_400_and_records_nothing(
    runtime: ModuleType, store: InMemoryEventStore, webhooks: FakePsp
) -> None:
    order_id, body = awaiting_success(store, webhooks)
    request = webhook_request(body, stripe_signature(body, webhooks.webhook_secret, int(time.time())))
    request["isBase64Encoded"] = True  # the JSON text itself is no base64
    response = stripe_webhook.handler(request, LambdaContext())
    assert response["statusCode"] == 400 and response["headers"]["Content-Type"] == "application/problem+json"
    assert recorded(store, order_id) == ["PaymentActionRequired"]


@pytest.mark.parametrize("path", ["/", "/webhooks", "/webhooks/stripe/", "/webhooks/stripe/x", "/payments"])
def test_any_other_path_of_the_url_is_a_404_before_the_signature_is_read(
    runtime: ModuleType, store: InMemoryEventStore, webhooks: FakePsp, path: str
) -> None:
    order_id, body = awaiting_success(store, webhooks)
    signature = stripe_signature(body, webhooks.webhook_secret, int(time.time()))
    response = stripe_webhook.handler(webhook_request(body, signature, path=path), LambdaContext())
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["type"] == "urn:payments:problem:not-found"
    assert recorded(store, order_id) == ["PaymentActionRequired"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
def test_any_other_method_on_the_path_is_a_405_naming_post(
    runtime: ModuleType, store: InMemoryEventStore, webhooks: FakePsp, method: str
) -> None:
    order_id, body = awaiting_success(store, webhooks)
    signature = stripe_signature(body, webhooks.webhook_secret, int(time.time()))
    response = stripe_webhook.handler(webhook_request(body, signature, method=method), LambdaContext())
    assert response["statusCode"] == 405 and response["headers"]["Allow"] == "POST"
    assert recorded(store, order_id) == ["PaymentActionRequired"]


def test_the_signature_is_read_from_the_lower_cased_header_a_function_url_passes(
    runtime: ModuleType, store: InMemoryEventStore, webhooks: FakePsp
) -> None:
    order_id, body = awaiting_success(store, webhooks)
    request = webhook_request(body, None)
    request["headers"]["Stripe-Signature"] = stripe_signature(body, webhooks.webhook_secret, int(time.time()))
    # A function URL never passes a name in this case: such an event carries no signature the entry point reads.
    assert stripe_webhook.handler(request, LambdaContext())["statusCode"] == 400
    assert recorded(store, order_id) == ["PaymentActionRequired"]
