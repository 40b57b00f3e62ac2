"""The local API's edge answers malformed and unrouted requests as API Gateway's REST API does: a 4xx with
JSON {"message"} and x-amzn-ErrorType, before any handler runs, never a dropped connection or a 5xx."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from devstack.api_server import LocalApi
from devstack.runtime import Functions
from devstack.sigv4 import Keyring, signed_headers


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
