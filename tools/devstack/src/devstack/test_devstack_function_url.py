"""The local function URL builds the payload format 2.0 event from an HTTP request and maps the function's answer
as AWS does (docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html), and serves the function on every path."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.client import HTTPConnection
from typing import Any
from urllib.parse import urlsplit

import pytest
import stripe
from fake_psp.server import API_KEY, FakePsp

from devstack.function_url import MAX_PAYLOAD, LocalFunctionUrl, http_response, is_text, url_event
from devstack.load import http
from devstack.runtime import Functions, Invocation, Throttle, Throttled
from payments_shared.topology import function_urls

AT = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)


def test_header_names_are_lower_cased_and_a_repeated_header_comma_joined() -> None:
    headers = [("Content-Type", "application/json"), ("X-Tag", "a"), ("x-tag", "b"), ("Stripe-Signature", "t=1,v1=f")]
    event = url_event("POST", "/webhooks/stripe", headers, b"{}", "3.18.12.63", AT)
    assert event["headers"] == {"content-type": "application/json", "x-tag": "a,b", "stripe-signature": "t=1,v1=f"}


def test_the_event_carries_the_raw_path_query_and_the_http_request_context() -> None:
    event = url_event("GET", "/a/b?x=1&x=2&y=", [("User-Agent", "Stripe/1.0")], b"", "3.18.12.63", AT)
    assert (event["version"], event["routeKey"], event["rawPath"], event["rawQueryString"]) == (
        "2.0",
        "$default",
        "/a/b",
        "x=1&x=2&y=",
    )
    assert event["queryStringParameters"] == {"x": "1,2", "y": ""}
    http_context = event["requestContext"]["http"]
    assert http_context == {
        "method": "GET",
        "path": "/a/b",
        "protocol": "HTTP/1.1",
        "sourceIp": "3.18.12.63",
        "userAgent": "Stripe/1.0",
    }
    assert event["requestContext"]["timeEpoch"] == int(AT.timestamp() * 1000)
    assert "body" not in event and event["isBase64Encoded"] is False  # no body: none in the event


def test_no_query_string_means_no_query_parameters_and_cookies_come_in_their_own_array() -> None:
    event = url_event("GET", "/", [("Cookie", "a=1; b=2")], b"", "127.0.0.1", AT)
    assert "queryStringParameters" not in event and event["rawQueryString"] == ""
    assert event["cookies"] == ["a=1", "b=2"] and "cookie" not in event["headers"]


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("application/json; charset=utf-8", True),  # Stripe's webhooks
        ("text/plain", True),
        ("application/problem+json", False),  # not named text by AWS: assumed binary
        ("application/x-www-form-urlencoded", False),
        ("application/octet-stream", False),
        ("image/png", False),
        (None, False),
    ],
)
def test_a_body_is_base64_encoded_unless_its_content_type_is_text(content_type: str | None, text: bool) -> None:
    assert is_text(content_type) is text
    body = b'{"id": "evt_1", "note": "caf\xc3\xa9"}'
    headers = [("Content-Type", content_type)] if content_type else []
    event = url_event("POST", "/webhooks/stripe", headers, body, "127.0.0.1", AT)
    assert event["isBase64Encoded"] is not text
    assert (event["body"].encode() if text else base64.b64decode(event["body"])) == body


def test_a_response_dict_maps_to_status_headers_cookies_and_body() -> None:
    status, headers, body = http_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/problem+json", "Allow": "POST"},
            "multiValueHeaders": {"X-Ignored": ["yes"]},  # the REST proxy's field: not read
            "cookies": ["a=1; Max-Age=60"],
            "body": '{"x": 1}',
            "isBase64Encoded": False,
        }
    )
    assert status == 201 and body == b'{"x": 1}'
    assert headers == [
        ("Content-Type", "application/problem+json"),
        ("Allow", "POST"),
        ("Set-Cookie", "a=1; Max-Age=60"),
    ]


def test_a_base64_response_body_is_decoded() -> None:
    encoded = base64.b64encode(b"\x00\xff").decode()
    status, _, body = http_response({"statusCode": 200, "body": encoded, "isBase64Encoded": True})
    assert (status, body) == (200, b"\x00\xff")


@pytest.mark.parametrize("returned", ["Hello, world!", {"message": "Hello, world!"}, [1, 2]])
def test_a_return_value_without_a_status_code_is_a_200_json_of_it(returned: Any) -> None:
    status, headers, body = http_response(returned)
    assert (status, headers, json.loads(body)) == (200, [("Content-Type", "application/json")], returned)


class EchoFunctions(Functions):
    """Every function answers with the event it was given; failing, or throttled (every environment busy: Lambda
    refuses a synchronous invoke at once), when the event's path says so."""

    def __init__(self) -> None:
        super().__init__({}, {})
        self.events: list[dict[str, Any]] = []

    def invoke(self, function: str, event: dict[str, Any], *, synchronous: bool = False) -> Any:
        assert synchronous  # a function URL's caller waits for the answer
        if event["rawPath"] == "/throttled":
            self.throttles.append(Throttle(function, time.time()))
            raise Throttled("TooManyRequestsException")
        self.invocations.append(Invocation(function, time.time(), 0.5, None, cold=False))
        self.events.append(event)
        if event["rawPath"] == "/fail":
            raise RuntimeError("Runtime.ExitError")
        return {"statusCode": 404 if event["rawPath"] != "/webhooks/stripe" else 200, "headers": {}, "body": "{}"}


@pytest.fixture
def served() -> Iterator[LocalFunctionUrl]:
    url = LocalFunctionUrl(EchoFunctions(), function_urls()["finalizer-webhook"]).start()
    yield url
    url.stop()


def test_every_path_and_method_reaches_the_function_unsigned(served: LocalFunctionUrl) -> None:
    assert served.endpoint == f"{served.url}/webhooks/stripe"
    for method, path, expected in [("POST", "/webhooks/stripe", 200), ("GET", "/nothing", 404), ("PUT", "/", 404)]:
        status, _ = http(method, f"{served.url}{path}", {} if method != "GET" else None)
        assert status == expected, (method, path)
    events = served.functions.events  # type: ignore[attr-defined]
    assert [(e["requestContext"]["http"]["method"], e["rawPath"]) for e in events] == [
        ("POST", "/webhooks/stripe"),
        ("GET", "/nothing"),
        ("PUT", "/"),
    ]
    assert [r.status for r in served.requests] == [200, 404, 404]


def test_a_failing_function_is_a_502(served: LocalFunctionUrl) -> None:
    assert http("POST", f"{served.url}/fail", {})[0] == 502


def test_a_throttled_invocation_is_a_429_and_the_function_does_not_run(served: LocalFunctionUrl) -> None:
    connection = HTTPConnection(urlsplit(served.url).netloc, timeout=10)
    connection.request("POST", "/throttled", b"{}", {"Content-Type": "application/json"})
    answer = connection.getresponse()
    status, kind, body = answer.status, answer.getheader("x-amzn-ErrorType"), json.loads(answer.read())
    connection.close()
    assert (status, kind, body) == (429, "TooManyRequestsException", {"Message": "Rate Exceeded."})
    assert served.functions.invocations == [] and [t.function for t in served.functions.throttles] == [
        "finalizer-webhook"
    ]
    assert [(r.path, r.status) for r in served.requests] == [("/throttled", 429)]


def test_a_request_over_6_mb_is_a_413_and_invokes_nothing(served: LocalFunctionUrl) -> None:
    connection = HTTPConnection(urlsplit(served.url).netloc, timeout=10)
    connection.putrequest("POST", "/webhooks/stripe")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(MAX_PAYLOAD + 1))  # refused on its headers: no body sent
    connection.endheaders()
    assert connection.getresponse().status == 413
    connection.close()
    assert served.functions.invocations == []


def test_a_body_under_6_mb_whose_base64_event_is_over_6_mb_is_a_413(served: LocalFunctionUrl) -> None:
    connection = HTTPConnection(urlsplit(served.url).netloc, timeout=30)
    body = b"\x00" * (5 * 1024 * 1024)  # binary: base64 makes the event about 6.7 MB
    connection.request("POST", "/webhooks/stripe", body, {"Content-Type": "application/octet-stream"})
    assert connection.getresponse().status == 413
    connection.close()
    assert served.functions.invocations == []


def test_a_request_is_logged_before_its_answer_is_sent(
    served: LocalFunctionUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever reads the log once answered finds the request in it (it was appended after the answer)."""
    logged_at_reply: list[int] = []
    reply = LocalFunctionUrl._reply

    def spy(request: Any, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        logged_at_reply.append(len(served.requests))
        reply(request, status, headers, body)

    monkeypatch.setattr(LocalFunctionUrl, "_reply", staticmethod(spy))
    for method, path in [("POST", "/webhooks/stripe"), ("GET", "/nothing"), ("POST", "/fail"), ("POST", "/throttled")]:
        http(method, f"{served.url}{path}", {} if method != "GET" else None)
    assert logged_at_reply == [1, 2, 3, 4]


class ThrottledFirstFunctions(EchoFunctions):
    """The first `busy` invokes are refused (every environment busy), then each answers as EchoFunctions."""

    def __init__(self, busy: int) -> None:
        super().__init__()
        self.busy = busy

    def invoke(self, function: str, event: dict[str, Any], *, synchronous: bool = False) -> Any:
        if self.busy:
            self.busy -= 1
            self.throttles.append(Throttle(function, time.time()))
            raise Throttled("TooManyRequestsException")
        return super().invoke(function, event, synchronous=synchronous)


def test_the_fake_stripe_delivers_later_a_webhook_the_throttled_url_answered_429() -> None:
    """Stripe retries an event whose endpoint answered anything but a 2xx, with an exponential backoff: a
    throttled function URL's 429 too."""
    url = LocalFunctionUrl(ThrottledFirstFunctions(1), function_urls()["finalizer-webhook"]).start()
    psp = FakePsp(webhook_url=url.endpoint, webhook_retry_base_s=0.02).start()
    try:
        stripe.StripeClient(API_KEY, base_addresses={"api": psp.url}, max_network_retries=0).v1.payment_intents.create(
            params={"amount": 1234, "currency": "eur", "confirm": True, "payment_method": "pm_card_visa"},
            options={"idempotency_key": "throttled-webhook"},
        )
        assert psp.wait_for_webhooks(10)
    finally:
        psp.stop()
        url.stop()
    [event] = [e for e in psp.webhook_events if e["pending_webhooks"]]
    assert (psp.webhook_attempts[event["id"]], psp.webhooks_delivered[event["id"]]) == (2, 1)
    assert [r.status for r in url.requests] == [429, 200]
