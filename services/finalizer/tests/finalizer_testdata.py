"""Events the finalizer's tests deliver, their card sealed as the initializer seals it."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fake_psp import FakePsp, stripe_signature

from finalizer.adapters.stripe_psp import StripePsp
from payments_shared.ids import PaymentOrderId
from payments_shared.sealed_cards import CardCipher
from payments_testing.aws import LambdaContext
from payments_testing.cards import LocalCardCipher
from payments_testing.events import eventbridge_delivery

# Stripe's test cards (the fake PSP answers as Stripe documents them).
APPROVED_CARD = "4242424242424242"
DECLINED_CARD = "4000000000009995"  # insufficient_funds
# The cipher the tests seal with; conftest hands the same one to the finalizer's card opener.
CARDS = LocalCardCipher()
# The deployed read timeout (PSP_READ_TIMEOUT_S): far above any answer of the fake on loopback, so the SDK
# retries only where a test scripts a fault, and request counts are exact even on a busy machine.
READ_TIMEOUT_S = 5.0
# The fake's scripted hangs ("timeout", "lost") outlast the read timeout by far: the client always gives up first.
HANG_S = 60.0


def payment_initiated(
    card_number: str = APPROVED_CARD,
    order_id: str | None = None,
    traceparent: str | None = None,
    cipher: CardCipher = CARDS,
    **data: Any,
) -> dict[str, Any]:
    """An EventBridge delivery of PaymentInitiated, as the initializer's relay publishes it."""
    order_id = order_id or PaymentOrderId.new()
    sealed = cipher.seal(
        {"card_number": card_number, "expiry_month": 12, "expiry_year": 2031, "holder_name": "Ada Lovelace"}, order_id
    )
    detail = {
        "event_id": str(uuid.uuid4()),
        "event_type": "PaymentInitiated",
        "schema_version": 1,
        "occurred_at": "2026-11-25T10:00:00+00:00",
        "aggregate_id": f"payment-{order_id}",
        "aggregate_version": 1,
        "correlation_id": order_id,
        "causation_id": None,
        "trace": {"traceparent": traceparent, "tracestate": None},
        "data": {
            "payment_order_id": order_id,
            "merchant_id": "merchant-1",
            "amount": "12.34",
            "amount_minor": 1234,
            "currency": "EUR",
            "buyer_country": "GB",
            "card": {"brand": "visa", "last4": card_number[-4:], "fingerprint": "f" * 64},
            "payment_details": sealed,
            "request_fingerprint": "r",
            "created_at": "2026-11-25T10:00:00+00:00",
            **data,
        },
    }
    return eventbridge_delivery(detail, "payments.initializer")


def stripe_on(psp: FakePsp) -> StripePsp:
    """The real Stripe adapter pointed at the fake, with the deployed read timeout (only scripted hangs exceed it)."""
    return StripePsp(lambda: psp.api_key, api_base=psp.url, read_timeout_s=READ_TIMEOUT_S)


class Clock:
    """One clock for the finalizer and the fake PSP, moved by a test (Stripe's 24 h key pruning, late deliveries)."""

    def __init__(self, now: datetime = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()


def webhook_request(
    body: bytes,
    signature: str | None,
    *,
    method: str = "POST",
    path: str = "/webhooks/stripe",
    base64_body: bool = False,
    content_type: str = "application/json; charset=utf-8",
) -> dict[str, Any]:
    """The function URL's event (payload format 2.0) for Stripe's POST of a webhook: header names lower-cased, no
    principal (auth type NONE); the body base64-encoded when Lambda deems it binary."""
    headers = {"content-type": content_type, "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}
    if signature is not None:
        headers["stripe-signature"] = signature
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "webhookurlid",
            "domainName": "webhookurlid.lambda-url.eu-west-1.on.aws",
            "domainPrefix": "webhookurlid",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "3.18.12.63",
                "userAgent": headers["user-agent"],
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "06/Dec/2026:12:00:00 +0000",
            "timeEpoch": 1796558400000,
        },
        "body": base64.b64encode(body).decode() if base64_body else body.decode(),
        "isBase64Encoded": base64_body,
    }


def signed_webhook(
    psp: FakePsp, stripe_event: dict[str, Any], *, secret: str | None = None, at: float | None = None
) -> dict[str, Any]:
    """The function URL's event for Stripe's POST of this event, signed as Stripe signs it (with the endpoint's
    secret, or another one; now, or at another time)."""
    body = json.dumps(stripe_event).encode()
    signature = stripe_signature(body, secret or psp.webhook_secret, int(at if at is not None else time.time()))
    return webhook_request(body, signature)


def post_webhook(
    psp: FakePsp, stripe_event: dict[str, Any], *, secret: str | None = None, at: float | None = None
) -> dict[str, Any]:
    """Stripe's signed POST of this event through the real webhook entry point; its answer."""
    from finalizer.entrypoints import stripe_webhook  # imported when used: it builds the runtime's container

    response: dict[str, Any] = stripe_webhook.handler(
        signed_webhook(psp, stripe_event, secret=secret, at=at), LambdaContext()
    )
    return response
