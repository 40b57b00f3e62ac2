"""API Gateway, locally: HTTP on 127.0.0.1 → IAM (SigV4) auth → REST proxy events → the services' handlers.

Every route but Stripe's webhook requires a valid signature, as the deployed routes' AWS_IAM authorization
does: an unsigned, expired or wrongly signed request gets API Gateway's 403 before any handler runs; a signed
one reaches its handler with the principal in `requestContext.identity`, where API Gateway puts it. The
webhook's route has no authorization (NONE, as deployed): its function verifies Stripe's own signature."""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from devstack.runtime import Functions, Throttled
from devstack.sigv4 import ACCOUNT, MISSING_TOKEN, Keyring, error_type
from payments_shared.topology import api_routes


def _path_pattern(resource: str) -> re.Pattern[str]:
    """A resource path's matcher: each {name} one path segment, captured as name."""
    parts = [f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in resource.split("/")]
    return re.compile("^" + "/".join(parts) + "$")


# (method, path regex, resource template, function): the deployed REST API's routes, from the same file.
ROUTES = [(r.method, _path_pattern(r.path), r.path, r.function) for r in api_routes()]
# Routes whose authorization type is NONE: the caller signs its own way (Stripe-Signature).
UNSIGNED = frozenset((r.method, r.path) for r in api_routes() if r.authorization == "NONE")
MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's payload limit (10 MB)
# A REST API waits this long for its Lambda integration (the default and, for most APIs, the maximum), then answers
# 504 {"message": "Endpoint request timed out"}; the function runs on until its own timeout.
INTEGRATION_TIMEOUT_S = 29.0
BAD_GATEWAY = {"statusCode": 502, "headers": {}, "body": '{"message": "Internal server error"}'}
# "If the Lambda API rejects the invocation request, API Gateway returns a 500 error code" with the same body
# (docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html): a throttled invoke, the function not run.
REJECTED = {"statusCode": 500, "headers": {}, "body": '{"message": "Internal server error"}'}


@dataclass(frozen=True)
class ApiRequest:
    method: str
    resource: str
    function: str
    status: int
    started: float
    latency_ms: float  # what the client saw
    integration_ms: float  # time inside the handler


PageRenderer = Callable[[str], tuple[int, str, str] | None]  # path -> (status, content type, body)


def proxy_parameters(headers: Iterable[tuple[str, str]], query: str) -> dict[str, Any]:
    """Headers and query string as API Gateway's REST proxy integration hands them over: every value of a
    repeated name in the multi-value form, the last one in the single-value form, null when there are none."""
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        multi_query.setdefault(name, []).append(value)
    return {
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that drops its kept-alive connection (a webhook sender's timeout, a load thread's end) is
        # not an error of the API's: only anything else is printed.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalApi:
    def __init__(
        self, functions: Functions, keys: Keyring, port: int = 0, integration_timeout_s: float = INTEGRATION_TIMEOUT_S
    ) -> None:
        self.functions = functions
        self.keys = keys
        self.integration_timeout_s = integration_timeout_s
        self.requests: list[ApiRequest] = []
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # - stdlib signature
                return

            def do_GET(self) -> None:  # - stdlib name
                api._serve(self, "GET")

            def do_POST(self) -> None:
                api._serve(self, "POST")

            def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
                # What http.server refuses itself (a broken request line, an HTTP version it does not speak,
                # headers too long): API Gateway's JSON 4xx, never an HTML page or a 5xx, with a status line
                # even when no version could be read.
                self.request_version, self.close_connection = self.protocol_version, True
                status = 400 if code >= 500 else code  # 505 for HTTP/9.9, 501 for ...: the client's fault
                api._gateway_error(self, status, message or "Bad Request", "BadRequestException")

            def __getattr__(self, name: str) -> Any:
                # Any other method (PUT, TRACE, QUERY...) reaches no route: API Gateway's 403, not a 501.
                if name.startswith("do_"):
                    return lambda: api._serve(self, name.removeprefix("do_"))
                raise AttributeError(name)

        self._server = _Server(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> LocalApi:
        threading.Thread(target=self._server.serve_forever, name="api", daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def _serve(self, request: BaseHTTPRequestHandler, method: str) -> None:
        started, began = time.time(), time.perf_counter()
        raw = self._body(request)
        if raw is None:
            return
        try:
            body, is_base64 = raw.decode() or None, False
        except UnicodeDecodeError:  # API Gateway hands binary bodies over base64-encoded
            body, is_base64 = base64.b64encode(raw).decode(), True
        path = request.path.split("?", 1)[0]
        for route_method, pattern, resource, function in ROUTES:
            match = pattern.match(path)
            if route_method == method and match:
                url = f"http://{request.headers.get('Host', '')}{request.path}"
                identity, refusal = self._identity(request, method, resource, url, raw)
                if identity is None:
                    self._record_refusal(method, started, began, resource, function)
                    self._gateway_error(request, 403, refusal, error_type(refusal))
                    return
                event = {
                    "resource": resource,
                    "path": path,
                    "httpMethod": method,
                    **proxy_parameters(request.headers.items(), request.path.partition("?")[2]),
                    "pathParameters": match.groupdict() or None,
                    "requestContext": {
                        "requestId": str(uuid.uuid4()),
                        "stage": "local",
                        "httpMethod": method,
                        "identity": identity,
                    },
                    "body": body,
                    "isBase64Encoded": is_base64,
                }
                handler_began = time.perf_counter()
                response = self._integrate(function, event)
                integration_ms = (time.perf_counter() - handler_began) * 1000
                # Each answer is recorded before it is sent, so whoever reads the log after its answer sees it.
                if response is None:
                    self._record(method, resource, function, 504, started, began, integration_ms)
                    self._reply(request, 504, "application/json", json.dumps({"message": "Endpoint request timed out"}))
                    return
                headers = {k: v[0] for k, v in (response.get("multiValueHeaders") or {}).items()}
                headers.update(response.get("headers") or {})
                self._record(method, resource, function, response["statusCode"], started, began, integration_ms)
                self._reply(
                    request,
                    response["statusCode"],
                    headers.get("Content-Type", "application/json"),
                    response.get("body") or "",
                )
                return
        # A REST API answers a resource or method it does not have as it answers an unsigned request.
        self._record_refusal(method, started, began)
        self._gateway_error(request, 403, MISSING_TOKEN, error_type(MISSING_TOKEN))

    def _integrate(self, function: str, event: dict[str, Any]) -> dict[str, Any] | None:
        """The function's answer as API Gateway waits for it: None past the integration timeout (the invocation
        runs on, as Lambda's does), a 500 when Lambda refused the invocation (throttled), a 502 when it failed."""
        answer: list[dict[str, Any]] = []
        answered = threading.Event()

        def invoke() -> None:
            try:
                answer.append(self.functions.invoke(function, event, synchronous=True))
            except Throttled:
                answer.append(REJECTED)
            except Exception:  # noqa: BLE001 - API Gateway answers 502 when the integration fails
                answer.append(BAD_GATEWAY)
            finally:
                answered.set()

        threading.Thread(target=invoke, name=f"integration-{function}", daemon=True).start()
        return answer[0] if answered.wait(self.integration_timeout_s) else None

    def _record(
        self,
        method: str,
        resource: str,
        function: str,
        status: int,
        started: float,
        began: float,
        integration_ms: float,
    ) -> None:
        with self._lock:
            self.requests.append(
                ApiRequest(
                    method, resource, function, status, started, (time.perf_counter() - began) * 1000, integration_ms
                )
            )

    def _record_refusal(
        self, method: str, started: float, began: float, resource: str = "", function: str = ""
    ) -> None:
        """A 403 API Gateway answered itself (its Count has it, no function ran); no resource nor function for a
        request that matched no route."""
        with self._lock:
            self.requests.append(
                ApiRequest(method, resource, function, 403, started, (time.perf_counter() - began) * 1000, 0.0)
            )

    def _body(self, request: BaseHTTPRequestHandler) -> bytes | None:
        """The request's body, or None once a malformed length or an oversized body has been answered (the
        connection is then closed: what follows the headers cannot be told apart from a next request)."""
        lengths = request.headers.get_all("Content-Length") or ["0"]
        if len(set(lengths)) != 1 or not lengths[0].isdigit():
            request.close_connection = True
            self._gateway_error(request, 400, "Invalid Content-Length", "BadRequestException")
            return None
        if int(lengths[0]) > MAX_PAYLOAD:
            request.close_connection = True
            self._gateway_error(request, 413, "Request Too Long", "RequestTooLargeException")
            return None
        raw = request.rfile.read(int(lengths[0]))
        if len(raw) < int(lengths[0]):  # the client sent less than it announced, then closed
            request.close_connection = True
            self._gateway_error(request, 400, "Incomplete request body", "BadRequestException")
            return None
        return raw

    @classmethod
    def _gateway_error(cls, request: BaseHTTPRequestHandler, status: int, message: str, kind: str) -> None:
        """An error API Gateway itself answers: JSON {"message"}, its error type and a request id."""
        headers = {"x-amzn-ErrorType": kind, "x-amzn-RequestId": str(uuid.uuid4())}
        cls._reply(request, status, "application/json", json.dumps({"message": message}), headers)

    def _identity(
        self, request: BaseHTTPRequestHandler, method: str, resource: str, url: str, raw: bytes
    ) -> tuple[dict[str, Any] | None, str]:
        """The caller as API Gateway passes it: the IAM principal a valid signature names (None and the refusal's
        message for a request without one), or only the source address on a route without authorization."""
        source = {"sourceIp": request.client_address[0]}
        if (method, resource) in UNSIGNED:
            return {**source, "userArn": None, "accessKey": None, "accountId": None, "caller": None, "user": None}, ""
        principal, refusal = self.keys.authenticate(method, url, request.headers, raw)
        if principal is None:
            return None, refusal
        return {
            **source,
            "userArn": principal.arn,
            "accessKey": principal.access_key,
            "accountId": ACCOUNT,
            "caller": principal.access_key,
            "user": principal.name,
        }, ""

    @staticmethod
    def _reply(
        request: BaseHTTPRequestHandler,
        status: int,
        content_type: str,
        body: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        raw = body.encode()
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(raw)


class PageServer:
    """The dashboard's pages on a port of their own: the API's port answers only the API, as API Gateway's
    does, and nothing unsigned is served beside it."""

    def __init__(self, pages: PageRenderer, port: int = 0) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # - stdlib signature
                return

            def do_GET(self) -> None:  # - stdlib name
                page = pages(self.path.split("?", 1)[0])
                LocalApi._reply(self, *(page or (404, "application/json", '{"message": "Not Found"}')))

        self._server = _Server(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> PageServer:
        threading.Thread(target=self._server.serve_forever, name="dashboard", daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
