"""The local run's merchant webhook receiver: one HTTP server on 127.0.0.1, one path per merchant endpoint.

It does what a careful merchant does: verifies the Payments-Signature over the raw body with the endpoint's
secrets (answering 400 when it fails, as our README tells merchants to), and answers 2xx otherwise. Every
request is recorded, so a run can check that each event reached each endpoint and was acknowledged (at least
once; duplicates allowed). For a stretch of the run a path (or all) can be told to be down (the connection is
closed without an answer), slow (the answer comes after a delay) or failing (a 500), to show retries catch up.
An endpoint may also hand each verified event to a handler (a merchant's back end processing it; if the handler
raises, the answer is a 500 and the event comes again). The deliverer reaches it only because the local run sets
WEBHOOK_TARGETS_ALLOW_LOOPBACK=1.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from notifier.domain.signature import HEADER, SignatureMismatch, verify
from payments_testing.loopback import LoopbackServer

ALL = "*"


@dataclass(frozen=True)
class Delivery:
    endpoint: str  # the path's key, e.g. the merchant id
    event_id: str | None
    event_type: str | None
    verified: bool
    answered: int | None  # the status sent back; None: the connection was dropped (down)
    at: float


@dataclass
class _Stretch:
    mode: str  # "down", "slow" or "fail"
    until: float  # monotonic
    delay_s: float = 0.0


@dataclass
class WebhookReceiver:
    host: str = "127.0.0.1"
    clock: Callable[[], float] = time.monotonic
    deliveries: list[Delivery] = field(default_factory=list)
    _secrets: dict[str, list[str]] = field(default_factory=dict)
    _stretches: dict[str, _Stretch] = field(default_factory=dict)
    _handlers: dict[str, Callable[[dict[str, Any]], object]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: LoopbackServer | None = None

    # -- set-up ---------------------------------------------------------------------------------------------------
    def start(self) -> WebhookReceiver:
        self._server = LoopbackServer(_handler(self), host=self.host, name="webhook-receiver").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def url(self, endpoint: str) -> str:
        assert self._server is not None, "start() first"
        return self._server.url(f"/{endpoint}")

    def expect(self, endpoint: str, secret: str) -> None:
        """The endpoint's secret (after a rotation, add the new one: both are accepted, as a merchant would)."""
        with self._lock:
            self._secrets.setdefault(endpoint, []).append(secret)

    def on_event(self, endpoint: str, handler: Callable[[dict[str, Any]], object]) -> None:
        """Each verified event the endpoint acknowledges is first handed to `handler` (duplicates too)."""
        with self._lock:
            self._handlers[endpoint] = handler

    # -- misbehaving for a stretch --------------------------------------------------------------------------------
    def down_for(self, seconds: float, endpoint: str = ALL) -> None:
        self._stretch(endpoint, _Stretch("down", self.clock() + seconds))

    def slow_for(self, seconds: float, delay_s: float, endpoint: str = ALL) -> None:
        self._stretch(endpoint, _Stretch("slow", self.clock() + seconds, delay_s))

    def fail_for(self, seconds: float, endpoint: str = ALL) -> None:
        self._stretch(endpoint, _Stretch("fail", self.clock() + seconds))

    def _stretch(self, endpoint: str, stretch: _Stretch) -> None:
        with self._lock:
            self._stretches[endpoint] = stretch

    def _current(self, endpoint: str) -> _Stretch | None:
        with self._lock:
            for key in (endpoint, ALL):
                stretch = self._stretches.get(key)
                if stretch is not None and stretch.until > self.clock():
                    return stretch
        return None

    # -- what the run checks --------------------------------------------------------------------------------------
    def acknowledged(self, endpoint: str | None = None) -> Counter[str]:
        """How many times each event id was acknowledged (2xx) at the endpoint (or anywhere)."""
        with self._lock:
            return Counter(
                d.event_id
                for d in self.deliveries
                if d.event_id and d.answered is not None and 200 <= d.answered < 300
                if endpoint is None or d.endpoint == endpoint
            )

    def summary(self) -> dict[str, int]:
        with self._lock:
            answered = [d.answered for d in self.deliveries]
        return {
            "requests": len(answered),
            "acknowledged": sum(1 for a in answered if a is not None and 200 <= a < 300),
            "refused_signature": sum(1 for a in answered if a == 400),
            "failed": sum(1 for a in answered if a is not None and a >= 500),
            "dropped": sum(1 for a in answered if a is None),
        }

    # -- one request ----------------------------------------------------------------------------------------------
    def _receive(self, endpoint: str, header: str | None, body: bytes) -> tuple[int | None, float]:
        """(status to answer or None to drop the connection, delay before answering)."""
        with self._lock:
            secrets = list(self._secrets.get(endpoint, []))
        verified = header is not None and any(_verifies(header, body, s) for s in secrets)
        event_id, event_type = _event_of(body)
        stretch = self._current(endpoint)
        status: int | None = 200 if verified else 400
        delay = 0.0
        if stretch is not None and stretch.mode == "down":
            status = None
        elif stretch is not None and stretch.mode == "fail":
            status = 500
        elif stretch is not None and stretch.mode == "slow":
            delay = stretch.delay_s
        with self._lock:
            handler = self._handlers.get(endpoint)
        if handler is not None and status == 200:
            try:
                handler(json.loads(body))
            except Exception:  # noqa: BLE001 - the merchant's processing failed: not acknowledged, sent again
                status = 500
        with self._lock:
            self.deliveries.append(Delivery(endpoint, event_id, event_type, verified, status, time.time()))
        return status, delay


def _verifies(header: str, body: bytes, secret: str) -> bool:
    try:
        verify(header, body, secret, now=int(time.time()))
    except SignatureMismatch:
        return False
    return True


def _event_of(body: bytes) -> tuple[str | None, str | None]:
    try:
        event: Any = json.loads(body)
        return str(event["id"]), str(event["type"])
    except (ValueError, KeyError, TypeError):
        return None, None


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, delay = receiver._receive(self.path.strip("/").split("/", 1)[0], self.headers.get(HEADER), body)
            if delay:
                time.sleep(delay)
            if status is None:  # down: no answer at all
                self.close_connection = True
                return
            payload = b'{"received": true}' if status < 300 else b'{"error": "refused"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
