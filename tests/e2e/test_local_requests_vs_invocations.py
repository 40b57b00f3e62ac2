"""The local dashboard mirrors the deployed views: its requests-vs-invocations view shows the gap the deployed
one looks for (requests the local API refused before any function ran — unsigned, badly signed, no such route —
count as API requests without an invocation, and the gap equals the number of refusals, per service and
overall), and its top errors group failures by a normalized message."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from devstack import dashboard, series
from devstack.api_server import LocalApi
from devstack.load import http
from devstack.runtime import Functions, Invocation, Throttle
from devstack.sigv4 import Keyring
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

FORGED = {  # well-formed SigV4 from a key the API does not know: 403 UnrecognizedClientException
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIA0000000000000000/20260101/eu-west-1/execute-api/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
    "X-Amz-Date": "20260101T000000Z",
}


class AnsweringFunctions(Functions):
    """Every function answers 200 at once; its invocation is recorded as the runtime records one."""

    def __init__(self) -> None:
        super().__init__({}, {})

    def invoke(self, function: str, event: dict[str, Any], *, synchronous: bool = False) -> Any:
        self.invocations.append(Invocation(function, time.time(), 0.5, None, cold=False))
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}


def recorded(api: LocalApi, count: int) -> None:
    """Waits for the API to record its last answers: it records a request after replying to it."""
    deadline = time.monotonic() + 10
    while len(api.requests) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(api.requests) == count


@pytest.fixture
def api() -> Iterator[LocalApi]:
    running = LocalApi(AnsweringFunctions(), Keyring(["m-1"])).start()
    yield running
    running.stop()


def test_refused_requests_are_the_gap_between_api_requests_and_invocations(api: LocalApi) -> None:
    merchant, operator = api.keys.merchant("m-1"), api.keys.operator
    reached = [
        ("GET", "/wallets/m-1", merchant, None),
        ("POST", "/payments", merchant, None),
        ("GET", "/ledger/trial-balance", operator, None),
    ] * 3
    refused = [
        ("GET", "/wallets/m-1", None, None),  # unsigned: Missing Authentication Token
        ("POST", "/payments", None, None),
        ("POST", "/payments", None, FORGED),
        ("GET", "/ledger/trial-balance", None, FORGED),
        ("GET", "/wallets/m-1", None, {"Authorization": "AWS4-HMAC-SHA256 Credential=broken"}),
        ("GET", "/dashboard", merchant, None),  # no such resource
        # Stripe's webhook is the finalizer-webhook function's own URL (contracts/function_urls.json), not a route.
        ("POST", "/webhooks/stripe", None, None),
    ]
    calls = [(c, 200) for c in reached] + [(c, 403) for c in refused]
    random.Random(29).shuffle(calls)  # refusals mixed into the signed traffic
    for (method, path, signer, headers), expected in calls:
        body: dict[str, Any] | None = {} if method == "POST" else None
        status, _ = http(method, f"{api.url}{path}", body, headers, signer=signer)
        assert status == expected, (method, path, status)

    recorded(api, len(calls))
    invocations = [*api.functions.invocations, Invocation("finalizer", time.time(), 3.0, None, cold=True)]
    gaps = {g.service: g for g in series.requests_vs_invocations(api.requests, invocations)}
    assert sum(g.refused for g in gaps.values()) == len(refused) > 0
    assert {s: g.refused for s, g in gaps.items()} == {
        "initializer": 2,
        "wallet": 2,
        "ledger": 1,
        series.NO_ROUTE: 2,
    }  # the event-driven finalizer's invocation is no API invocation: no finalizer row
    assert (gaps["wallet"].requests, gaps["wallet"].invocations) == (5, 3)

    page = dashboard.render(api.requests, invocations, [])
    total = re.search(r'id="gap-total">(\d+)<', page)
    assert total and int(total.group(1)) == len(refused), total
    assert "<td>wallet</td><td>5</td><td>3</td><td>2</td><td>3</td>" in page
    assert "<td>finalizer</td><td>0</td>" not in page  # no API function of the finalizer's any more: no gap row

    chart = series.gap(api.requests, invocations)
    requests_per_bucket, invocations_per_bucket, without = chart.columns
    gap = sum(
        r - i
        for r, i in zip(requests_per_bucket, invocations_per_bucket, strict=True)
        if r is not None and i is not None
    )
    assert gap / series.PER_MINUTE == len(refused)
    assert sum(w for w in without if w is not None) > 0


def test_without_refusals_there_is_no_gap(api: LocalApi) -> None:
    for _ in range(4):
        assert http("GET", f"{api.url}/wallets/m-1", signer=api.keys.merchant("m-1"))[0] == 200
    recorded(api, 4)
    gaps = series.requests_vs_invocations(api.requests, api.functions.invocations)
    assert [(g.service, g.requests, g.refused) for g in gaps] == [("wallet", 4, 0)]
    assert re.search(r'id="gap-total">0<', dashboard.render(api.requests, api.functions.invocations, []))


def test_top_errors_group_failures_by_a_normalized_message() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    for order, tries in [("4f0c2a1e-8d3b-4c55-9a0e-5b2f1c7d9e10", 3), ("9a1b2c3d-0000-4000-8000-123456789abc", 5)]:
        with tracer.start_as_current_span("charge", kind=SpanKind.SERVER) as span:
            ctx = span.get_span_context()
            prefix = f"[!dt dt.trace_id={ctx.trace_id:032x},dt.span_id={ctx.span_id:016x}] "
            span.set_status(Status(StatusCode.ERROR, f"{prefix}payment {order} failed after {tries} tries"))
    with tracer.start_as_current_span("charge", kind=SpanKind.SERVER) as span:
        span.set_status(Status(StatusCode.ERROR, "card declined"))

    rows = dashboard.top_errors(exporter.get_finished_spans())
    assert [(key.split("] ", 1)[1], n) for key, n, _ in rows] == [
        ("charge: payment <id> failed after <n> tries", 2),
        ("charge: card declined", 1),
    ]
    assert dashboard.normalize_error("po_0123456789abcdef0123 retry 2") == "po_<id> retry <n>"


def test_throttles_count_invocations_that_waited_and_synchronous_ones_refused() -> None:
    """Lambda's Throttles: an event source's invocation that had to wait, and a synchronous one refused (429, no
    invocation: it is a request without one)."""
    at = 1_800_000_000.0  # a bucket's start
    waited = Invocation("ledger", at + 1, 5.0, None, cold=False, throttled=True)
    refused = [Throttle("initializer-api", at + 2), Throttle("initializer-api", at + 3)]
    chart = series.capacity([waited], refused)
    assert chart.columns[[s["label"] for s in chart.series].index("throttles")] == [3]
    page = dashboard.render([], [waited], [], throttles=refused)
    row = re.search(r"<td>initializer-api</td>(.*?)</tr>", page, re.S)
    assert row is not None and "<td>2</td>" in row.group(1)
