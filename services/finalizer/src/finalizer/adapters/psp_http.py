"""The PSP over HTTP/JSON.

Client: urllib3, deliberately. botocore already ships it, so the zip gains nothing; it pools connections
and takes separate connect/read timeouts. Its own Retry is not used: which failures may be retried
depends on the payment semantics below, not on HTTP alone.

Retry policy: 5xx and connection failures are retried with jittered exponential backoff; 4xx never.
A read timeout means the PSP may have charged: before charging again we ask for the charge by its
idempotency key, so a response lost after the charge is resolved without a second charge.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import urllib3
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from finalizer.domain.payment import CardRef, ChargeResult, PspDecision
from finalizer.ports import PspOutcomeUnknown
from payments_shared.money import Money
from payments_shared.observability.tracing import tracer

_w3c = TraceContextTextMapPropagator()


class PspRequestRefused(Exception):
    """The PSP answered 4xx: our request is wrong, and retrying it cannot help."""


class HttpPsp:
    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout_s: float = 1.0,
        read_timeout_s: float = 3.0,
        max_attempts: int = 3,
        base_delay_s: float = 0.1,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        parts = urlsplit(self._base_url)
        self._server = (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        self._timeout = urllib3.Timeout(connect=connect_timeout_s, read=read_timeout_s)
        self._pool = urllib3.PoolManager(retries=False, timeout=self._timeout, maxsize=4)
        self._max_attempts = max_attempts
        self._base_delay_s = base_delay_s
        self._sleep = sleep

    def charge(self, idempotency_key: str, amount: Money, merchant_id: str, card: CardRef) -> ChargeResult:
        body = {
            "idempotency_key": idempotency_key,
            "amount": amount.to_decimal_string(),
            "currency": amount.currency,
            "merchant_id": merchant_id,
            "card": {"brand": card.brand, "last4": card.last4, "token": card.fingerprint},
        }
        maybe_charged = False
        for attempt in range(self._max_attempts):
            if attempt:
                self._sleep(random.uniform(0, self._base_delay_s * 2**attempt))  # noqa: S311 - jitter
            if maybe_charged and (known := self._lookup(idempotency_key)) is not None:
                return known
            try:
                status, payload = self._request("POST", "/charges", body, attempt)
            except urllib3.exceptions.ReadTimeoutError:
                maybe_charged = True  # the request arrived; the answer did not
                continue
            except urllib3.exceptions.HTTPError:
                continue  # could not connect or the connection broke before a request was read
            if status >= 500:
                continue
            if status >= 400:
                raise PspRequestRefused(f"PSP refused the charge request: HTTP {status}")
            return _result(payload)
        if maybe_charged and (known := self._lookup(idempotency_key)) is not None:
            return known
        raise PspOutcomeUnknown(f"no answer from the PSP for {idempotency_key} after {self._max_attempts} attempts")

    def _lookup(self, idempotency_key: str) -> ChargeResult | None:
        try:
            status, payload = self._request("GET", f"/charges/{idempotency_key}", None, 0)
        except urllib3.exceptions.HTTPError:
            return None
        return _result(payload) if status == 200 else None

    def _request(self, method: str, path: str, body: dict[str, Any] | None, attempt: int) -> tuple[int, Any]:
        url = self._base_url + path
        route = "/charges" if method == "POST" else "/charges/{idempotency_key}"
        with tracer().start_as_current_span(
            f"{method} {route}",
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": method,
                "url.full": url,
                "server.address": self._server[0],
                "server.port": self._server[1],
                "http.request.resend_count": attempt,
                "peer.service": "psp",
            },
            record_exception=True,
        ) as span:
            headers = {"Content-Type": "application/json"}
            _w3c.inject(headers)
            response = self._pool.request(
                method, url, body=json.dumps(body).encode() if body is not None else None, headers=headers
            )
            span.set_attribute("http.response.status_code", response.status)
            if response.status >= 500:
                span.set_status(Status(StatusCode.ERROR, f"HTTP {response.status}"))
            try:
                payload = json.loads(response.data or b"null")
            except ValueError:
                payload = None
            return response.status, payload


def _result(payload: Any) -> ChargeResult:
    decision = PspDecision(payload["status"])
    return ChargeResult(decision, payload.get("psp_reference"), payload.get("error_message"))
