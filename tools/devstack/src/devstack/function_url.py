"""A Lambda function URL, locally: HTTP on 127.0.0.1, its own port → the payload format 2.0 event → the function.

As AWS runs one ("Invoking Lambda function URLs", docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html):
- auth type NONE: no SigV4, nothing refused before the function (it verifies its caller's own signature);
- every method and path reaches the function (a function URL has no routes: the function answers 404 itself);
- the event: rawPath, rawQueryString, header names lower-cased with a repeated header's values comma-joined,
  cookies in their own array, requestContext.http {method, path, protocol, sourceIp, userAgent}, and the body
  base64-encoded (isBase64Encoded) "if the content type of the request is binary";
- the answer: a dict with statusCode maps to {statusCode, headers, cookies → set-cookie, body (base64-decoded
  when isBase64Encoded)}; anything else "valid JSON [without] a statusCode" is a 200 application/json whose body
  is the returned value; a function that fails is a 502;
- beyond the function's concurrency the invocation is throttled: 429 (Lambda's Throttles metric counts "error
  code 429"), the function not run;
- BUFFERED invoke mode: "the maximum payload size is 6 MB" (the invocation's request, the event, and its
  response); a larger request is a 413 Payload Too Large before any invocation.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from devstack.runtime import Functions, Throttled
from payments_shared.topology import FunctionUrl

MAX_PAYLOAD = 6 * 1024 * 1024  # BUFFERED invoke mode: 6 MB request (the event) and response
URL_ID = "localwebhookurl"  # the <url-id> of https://<url-id>.lambda-url.<region>.on.aws

Reply = tuple[int, list[tuple[str, str]], bytes]  # status, headers, body
JSON = [("Content-Type", "application/json")]
FAILED: Reply = (502, JSON, b'{"Message":"Internal Server Error"}')  # the function failed or timed out
TOO_LARGE: Reply = (413, JSON, b'{"Message":"Payload Too Large"}')
# Throttled: the status is Lambda's 429 TooManyRequestsException ("Rate exceeded"); the body and error-type header
# are UNCONFIRMED (no AWS page found showing a function URL's throttle answer): Lambda's API error shape is assumed.
THROTTLED: Reply = (429, [*JSON, ("x-amzn-ErrorType", "TooManyRequestsException")], b'{"Message":"Rate Exceeded."}')


@dataclass(frozen=True)
class UrlRequest:
    method: str
    path: str
    function: str
    status: int
    started: float
    latency_ms: float


def is_text(content_type: str | None) -> bool:
    """Whether a function URL passes a body of this Content-Type as text (else base64-encoded). The guide says only
    "if the content type of the request is binary, the body is base64-encoded"; an AWS slide deck on function URLs
    (2022, © Amazon Web Services, the request event format) names the text ones: application/json and text/*,
    "otherwise the body is base64-encoded by default". Nothing else is assumed to be text."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media.startswith("text/") or media == "application/json"


def url_event(
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The payload format 2.0 event a function URL builds from an HTTP request (`target`: path?query)."""
    raw_path, _, raw_query = target.partition("?")
    joined: dict[str, list[str]] = {}
    for name, value in headers:
        joined.setdefault(name.lower(), []).append(value)
    cookies = [c.strip() for value in joined.pop("cookie", []) for c in value.split(";") if c.strip()]
    query: dict[str, list[str]] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query.setdefault(name, []).append(value)
    header_values = {name: ",".join(values) for name, values in joined.items()}
    at = now or datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": header_values,
        "requestContext": {
            "accountId": "anonymous",  # auth type NONE: no caller identity
            "apiId": URL_ID,
            "domainName": f"{URL_ID}.lambda-url.eu-west-1.on.aws",
            "domainPrefix": URL_ID,
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": header_values.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": at.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(at.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = {name: ",".join(values) for name, values in query.items()}
    if body:
        text = is_text(header_values.get("content-type"))
        event["body"] = body.decode("utf-8", errors="replace") if text else base64.b64encode(body).decode()
        event["isBase64Encoded"] = not text
    return event


def http_response(result: Any) -> Reply:
    """How a function URL turns the function's return value into the HTTP answer: (status, headers, body)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, [("Content-Type", "application/json")], json.dumps(result).encode()
    headers = [(str(name), str(value)) for name, value in (result.get("headers") or {}).items()]
    # multiValueHeaders is the REST proxy's field: a function URL does not read it.
    headers += [("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or []]
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    body = result.get("body")
    if body is None:
        raw = b""
    elif result.get("isBase64Encoded"):
        raw = base64.b64decode(str(body))
    else:
        raw = (body if isinstance(body, str) else json.dumps(body)).encode()
    return int(result["statusCode"]), headers, raw


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a sender that dropped its connection
            super().handle_error(request, client_address)


class LocalFunctionUrl:
    """One function's URL: every request, whatever its method and path, is an invocation of the function."""

    def __init__(self, functions: Functions, config: FunctionUrl, port: int = 0) -> None:
        if config.auth_type != "NONE":
            raise ValueError(f"{config.function}: only auth type NONE is served locally")
        self.functions, self.config = functions, config
        self.requests: list[UrlRequest] = []
        self._lock = threading.Lock()
        url = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # - stdlib signature
                return

            def __getattr__(self, name: str) -> Any:
                if name.startswith("do_"):  # every method reaches the function
                    return lambda: url._serve(self, name.removeprefix("do_"))
                raise AttributeError(name)

        self._server = _Server(("127.0.0.1", port), Handler)

    @property
    def url(self) -> str:
        """The URL's base (https://<url-id>.lambda-url.<region>.on.aws/ when deployed)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def endpoint(self) -> str:
        """What the caller is given: the base and the path the function answers."""
        return f"{self.url}{self.config.path}"

    def start(self) -> LocalFunctionUrl:
        threading.Thread(target=self._server.serve_forever, name=f"url-{self.config.function}", daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, request: BaseHTTPRequestHandler, method: str) -> None:
        started, began = time.time(), time.perf_counter()
        status, headers, body = self._answer(request, method)
        path = request.path.split("?", 1)[0]
        with self._lock:  # recorded before the caller has its answer, so whoever reads the log after it sees it
            self.requests.append(
                UrlRequest(method, path, self.config.function, status, started, (time.perf_counter() - began) * 1000)
            )
        self._reply(request, status, headers, body)

    def _answer(self, request: BaseHTTPRequestHandler, method: str) -> Reply:
        length = request.headers.get("Content-Length") or "0"
        if not length.isdigit():
            request.close_connection = True
            return 400, JSON, b'{"Message":"Bad Request"}'
        if int(length) > MAX_PAYLOAD:  # refused unread: what follows cannot be told apart from a next request
            request.close_connection = True
            return TOO_LARGE
        raw = request.rfile.read(int(length))
        event = url_event(method, request.path, request.headers.items(), raw, request.client_address[0])
        if len(json.dumps(event).encode()) > MAX_PAYLOAD:  # the event (base64 inflates a binary body) is the payload
            return TOO_LARGE
        try:
            result = self.functions.invoke(self.config.function, event, synchronous=True)
        except Throttled:
            return THROTTLED
        except Exception:  # noqa: BLE001 - a function that fails (or times out) is the URL's 502
            return FAILED
        status, headers, body = http_response(result)
        if len(body) > MAX_PAYLOAD:  # a response over the payload limit is the invocation's failure
            return FAILED
        return status, headers, body

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        request.send_response(status)
        for name, value in headers:
            if name.lower() != "content-length":
                request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(body)
