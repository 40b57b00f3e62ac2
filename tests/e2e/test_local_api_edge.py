"""The local API's edge answers malformed and unrouted requests as API Gateway's REST API does: a 4xx with
JSON {"message"} and x-amzn-ErrorType, before any handler runs, never a dropped connection or a 5xx."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from devstack.api_server import LocalApi
from devstack.load import MERCHANTS, drive, http, http_retrying, settle
from devstack.runtime import FunctionError, Functions, Throttle, Throttled
from devstack.sigv4 import Keyring, signed_headers
from devstack.soak import Soak, drive_open_loop


@pytest.fixture(scope="module")
def api() -> Iterator[LocalApi]:
    running = LocalApi(Functions({}, {}), Keyring(["m-1"])).start()  # no function: nothing may reach one
    yield running
    running.stop()


def exchange(api: LocalApi, raw: bytes, close_write: bool = False) -> tuple[int, dict[str, str], dict[str, str]]:
    host, port = api.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(raw)
        if close_write:
            connection.shutdown(socket.SHUT_WR)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _length(answer):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, json.loads(body)


def _length(answer: bytes) -> int:
    for line in answer.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


@pytest.mark.parametrize(
    ("length", "status", "kind"),
    [
        ("abc", 400, "BadRequestException"),
        ("-5", 400, "BadRequestException"),
        ("12, 13", 400, "BadRequestException"),
        ("20000000", 413, "RequestTooLargeException"),
    ],
)
def test_a_malformed_or_oversized_content_length_is_a_4xx_json(
    api: LocalApi, length: str, status: int, kind: str
) -> None:
    raw = f"POST /payments HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n{{}}".encode()
    answered, headers, body = exchange(api, raw)
    assert (answered, headers["x-amzn-errortype"], headers["content-type"]) == (status, kind, "application/json")
    assert body["message"]


def test_a_body_shorter_than_announced_is_a_400_not_a_hang(api: LocalApi) -> None:
    raw = b"POST /payments HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}"
    status, headers, body = exchange(api, raw, close_write=True)
    assert (status, headers["x-amzn-errortype"]) == (400, "BadRequestException") and body["message"]


@pytest.mark.parametrize("line", [b"GARBAGE", b"GET /payments HTTP/9.9", b"GET /payments HTTX/1.1"])
def test_a_malformed_request_line_is_a_json_400_never_html_or_5xx(api: LocalApi, line: bytes) -> None:
    status, headers, body = exchange(api, line + b"\r\nHost: x\r\n\r\n")
    assert (status, headers["content-type"], headers["x-amzn-errortype"]) == (
        400,
        "application/json",
        "BadRequestException",
    )
    assert body["message"]


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize(("method", "path"), [("GET", "/nowhere"), ("PUT", "/payments"), ("GET", "/payments/a/b")])
def test_no_route_is_missing_authentication_token_signed_or_not(
    api: LocalApi, method: str, path: str, signed: bool
) -> None:
    headers = {"Host": api.url.removeprefix("http://")}
    if signed:
        headers = signed_headers(api.keys.merchant("m-1"), method, f"{api.url}{path}", b"", headers)
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    status, answer_headers, body = exchange(api, f"{method} {path} HTTP/1.1\r\n{lines}\r\n".encode())
    assert (status, body) == (403, {"message": "Missing Authentication Token"})
    assert answer_headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert answer_headers["x-amzn-requestid"]


class SlowFunctions(Functions):
    """Every function answers 201 once its `gate` is open: closed, an invocation still running when API Gateway
    gives up (an event, not a delay: the outcome never depends on a loaded machine's scheduling)."""

    def __init__(self, gate_open: bool = True) -> None:
        super().__init__({}, {})
        self.gate = threading.Event()
        if gate_open:
            self.gate.set()
        self.finished, self.throttle = 0, False

    def invoke(self, function: str, event: dict[str, Any], *, synchronous: bool = False) -> Any:
        if self.throttle and synchronous:
            raise Throttled("TooManyRequestsException")
        assert self.gate.wait(60)
        self.finished += 1
        return {"statusCode": 201, "headers": {"Content-Type": "application/json"}, "body": "{}"}


def eventually(condition: Any, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return bool(condition())


def test_an_integration_slower_than_the_timeout_is_a_504_and_the_function_runs_on() -> None:
    functions = SlowFunctions(gate_open=False)
    running = LocalApi(functions, Keyring(["m-1"]), integration_timeout_s=0.2).start()
    try:
        status, body = http("POST", f"{running.url}/payments", {}, signer=running.keys.merchant("m-1"))
        assert (status, body) == (504, {"message": "Endpoint request timed out"})
        assert functions.finished == 0  # answered before the function did
        functions.gate.set()
        assert eventually(lambda: functions.finished == 1)  # it ran to its end all the same, as Lambda's does
        assert [r.status for r in running.requests] == [504]
        quick = LocalApi(SlowFunctions(), Keyring(["m-1"]), integration_timeout_s=10).start()
        try:
            assert http("POST", f"{quick.url}/payments", {}, signer=quick.keys.merchant("m-1"))[0] == 201
        finally:
            quick.stop()
    finally:
        functions.gate.set()
        running.stop()


def test_a_request_is_logged_before_its_answer_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoever reads the log once answered finds the request in it: answered, timed out or refused."""
    functions = SlowFunctions()
    running = LocalApi(functions, Keyring(["m-1"]), integration_timeout_s=10).start()
    logged_at_reply: list[int] = []
    reply = LocalApi._reply

    def spy(request: Any, status: int, content_type: str, body: str, headers: dict[str, str] | None = None) -> None:
        logged_at_reply.append(len(running.requests))
        reply(request, status, content_type, body, headers)

    monkeypatch.setattr(LocalApi, "_reply", staticmethod(spy))
    try:
        assert http("POST", f"{running.url}/payments", {}, signer=running.keys.merchant("m-1"))[0] == 201
        assert http("POST", f"{running.url}/payments", {})[0] == 403  # unsigned
        assert http("GET", f"{running.url}/nowhere", None)[0] == 403  # no route
        functions.gate.clear()
        running.integration_timeout_s = 0.2
        assert http("POST", f"{running.url}/payments", {}, signer=running.keys.merchant("m-1"))[0] == 504
        functions.gate.set()
        functions.throttle = True
        assert http("POST", f"{running.url}/payments", {}, signer=running.keys.merchant("m-1"))[0] == 500
    finally:
        functions.gate.set()
        running.stop()
    assert logged_at_reply == [1, 2, 3, 4, 5]


class FirstSlowFunctions(SlowFunctions):
    """The first invocation runs until its gate opens (past the integration timeout); the next ones answer at once."""

    def __init__(self) -> None:
        super().__init__(gate_open=False)
        self.first = True

    def invoke(self, function: str, event: dict[str, Any], *, synchronous: bool = False) -> Any:
        first, self.first = self.first, False
        if first:
            self.gate.wait(60)
        return {"statusCode": 201, "headers": {"Content-Type": "application/json"}, "body": '{"payment_order_id": "o"}'}


def test_a_merchant_sends_an_unanswered_post_again_with_its_key() -> None:
    functions = FirstSlowFunctions()
    running = LocalApi(functions, Keyring(MERCHANTS), integration_timeout_s=2).start()
    try:
        [sent] = drive(running.url, running.keys, 1, 1, seed=3, progress=False, mix=[("approve", 1.0)])
    finally:
        functions.gate.set()
        running.stop()
    assert (sent.status, sent.unanswered) == (201, 1)
    first, again = running.requests
    assert (first.status, again.status) == (504, 201)


class ThrottledFirstFunctions(Functions):
    """The first `throttled` invokes are refused as Lambda refuses a synchronous Invoke beyond the function's
    concurrency (429, the function not run); then a POST answers 201 (or fails, with `fail`) and a GET a SUCCESS."""

    def __init__(self, throttled: int, fail: bool = False) -> None:
        super().__init__({}, {})
        self.left, self.fail, self.ran = throttled, fail, 0
        self.keys: list[str | None] = []  # each POST's Idempotency-Key, as the gateway handed it over

    def invoke(self, function: str, event: dict[str, Any], *, synchronous: bool = False) -> Any:
        assert synchronous  # API Gateway waits for the function's answer
        if event["httpMethod"] == "POST":
            self.keys.append(event["headers"].get("Idempotency-Key"))
        if self.left:
            self.left -= 1
            self.throttles.append(Throttle(function, time.time()))
            raise Throttled("TooManyRequestsException")
        self.ran += 1
        if self.fail:
            raise FunctionError("Runtime.ExitError: the environment's process exited")
        order = {"payment_order_id": "o", "merchant_id": MERCHANTS[0], "status": "SUCCESS"}
        status = 201 if event["httpMethod"] == "POST" else 200
        return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(order)}


def test_a_throttled_invocation_is_a_500_and_a_failed_one_a_502_both_internal_server_error() -> None:
    """ "If the Lambda API rejects the invocation request, API Gateway returns a 500 error code. If the function
    runs but returns an error [...] a 502. In both cases, the body [...] is {"message": "Internal server error"}"
    (docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html)."""
    functions = ThrottledFirstFunctions(1, fail=True)
    running = LocalApi(functions, Keyring(["m-1"])).start()
    try:
        signer = running.keys.merchant("m-1")
        throttled = http("POST", f"{running.url}/payments", {}, signer=signer)
        assert functions.ran == 0  # refused: the function did not run
        failed = http("POST", f"{running.url}/payments", {}, signer=signer)
    finally:
        running.stop()
    assert throttled == (500, {"message": "Internal server error"})
    assert failed == (502, {"message": "Internal server error"}) and functions.ran == 1
    assert [(r.status, r.function) for r in running.requests] == [(500, "initializer-api"), (502, "initializer-api")]
    assert [t.function for t in functions.throttles] == ["initializer-api"]


def test_a_merchant_sends_a_throttled_post_again_with_its_key_and_a_throttled_poll_is_asked_again() -> None:
    running = LocalApi(ThrottledFirstFunctions(1), Keyring(MERCHANTS)).start()
    try:
        [sent] = drive(running.url, running.keys, 1, 1, seed=3, progress=False, mix=[("approve", 1.0)])
        running.functions.left = 1  # type: ignore[attr-defined]  # the merchant's first GET is throttled too
        final = settle(running.url, running.keys, [sent], timeout_s=30)
    finally:
        running.stop()
    assert (sent.status, sent.throttled, sent.unanswered) == (201, 1, 0)
    assert running.functions.keys == ["load-3-0", "load-3-0"]  # type: ignore[attr-defined]  # the same key again
    first, again, *polls = running.requests
    assert (first.status, again.status) == (500, 201)
    assert [p.status for p in polls] == [500, 200] and final["o"]["status"] == "SUCCESS"


def test_the_soaks_sender_sends_a_throttled_post_again_with_its_key() -> None:
    running = LocalApi(ThrottledFirstFunctions(1), Keyring(MERCHANTS)).start()
    soak = Soak(rate_per_s=1.0, duration_s=1.0, budget_per_s=20, start=0.0)
    try:
        sent = drive_open_loop(running.url, running.keys, soak, seed=5, progress=False)
    finally:
        running.stop()
    assert [s.status for s in sent] == [201] and soak.throttled == 1 and soak.send_errors == []
    keys = running.functions.keys  # type: ignore[attr-defined]
    assert len(keys) == 2 and keys[0] == keys[1]


def test_a_read_or_write_is_asked_again_while_throttled_up_to_its_attempts() -> None:
    functions = ThrottledFirstFunctions(5)
    running = LocalApi(functions, Keyring(MERCHANTS)).start()
    try:
        signer = running.keys.merchant(MERCHANTS[0])
        gave_up = http_retrying("GET", f"{running.url}/payments/o", signer=signer, attempts=3)
        answered = http_retrying("GET", f"{running.url}/payments/o", signer=signer, attempts=3)
    finally:
        running.stop()
    assert gave_up == (500, {"message": "Internal server error"})  # the last answer, after 3 attempts
    assert answered[0] == 200 and [r.status for r in running.requests] == [500] * 5 + [200]
