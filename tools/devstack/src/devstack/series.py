"""The dashboard's time series, bucketed as CloudWatch would (10 s here: a local run lasts minutes), in the
shape uPlot draws: one x column (epoch seconds) and aligned y columns, None where a series has no value."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from devstack.api_server import ROUTES, ApiRequest
from devstack.report import percentiles
from devstack.runtime import Invocation, Throttle, service_of

BUCKET_S = 10
PER_MINUTE = 60 / BUCKET_S
COLOURS = ["#1565c0", "#ef6c00", "#2e7d32", "#8e24aa", "#c62828", "#00897b"]
SERVICES = ("initializer", "finalizer", "ledger", "wallet")
# The functions the API integrates: the deployed view compares API Gateway's Count with their Invocations.
API_FUNCTIONS = frozenset(function for *_, function in ROUTES)
NO_ROUTE = "(no route)"  # requests that matched no resource: API Gateway's 403, no service's


@dataclass
class Chart:
    chart_id: str
    y_label: str
    x: list[float] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)  # label, colour, points (no line)
    columns: list[list[float | None]] = field(default_factory=list)

    def add(self, label: str, values: list[float | None], points: bool = False, colour: str | None = None) -> None:
        self.series.append(
            {"label": label, "colour": colour or COLOURS[len(self.series) % len(COLOURS)], "points": points}
        )
        self.columns.append(values)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.chart_id, "yLabel": self.y_label, "series": self.series, "data": [self.x, *self.columns]}


def _bucket(t: float) -> float:
    return float(int(t // BUCKET_S) * BUCKET_S)


def _buckets(times: Sequence[float]) -> list[float]:
    if not times:
        return []
    first, last = _bucket(min(times)), _bucket(max(times))
    return [first + i * BUCKET_S for i in range(int((last - first) / BUCKET_S) + 1)]


def _per_bucket(items: Sequence[Any], when: Callable[[Any], float]) -> dict[float, list[Any]]:
    grouped: dict[float, list[Any]] = defaultdict(list)
    for item in items:
        grouped[_bucket(when(item))].append(item)
    return grouped


def traffic(requests: Sequence[ApiRequest], invocations: Sequence[Invocation]) -> Chart:
    """API requests vs Lambda invocations per minute, the invocations per service."""
    chart = Chart("traffic-chart", "per minute")
    chart.x = _buckets([r.started for r in requests] + [i.started for i in invocations])
    by_request = _per_bucket(requests, lambda r: r.started)
    chart.add("API requests", [len(by_request.get(x, [])) * PER_MINUTE for x in chart.x])
    for service in SERVICES:
        mine = _per_bucket([i for i in invocations if service_of(i.function) == service], lambda i: i.started)
        chart.add(f"{service} invocations", [len(mine.get(x, [])) * PER_MINUTE for x in chart.x])
    return chart


@dataclass(frozen=True)
class Gap:
    """One service's API requests against its API functions' invocations."""

    service: str
    requests: int
    invocations: int

    @property
    def refused(self) -> int:
        """Requests API Gateway answered itself (unsigned, badly signed, unknown route): no function ran."""
        return self.requests - self.invocations


def _service(request: ApiRequest) -> str:
    return service_of(request.function) if request.function else NO_ROUTE


def requests_vs_invocations(requests: Sequence[ApiRequest], invocations: Sequence[Invocation]) -> list[Gap]:
    """Per service, as the deployed dashboards compare them: the API's requests (refused ones included) and
    the invocations of the functions the API integrates (not the event-driven ones)."""
    by_service = Counter(_service(r) for r in requests)
    invoked = Counter(service_of(i.function) for i in invocations if i.function in API_FUNCTIONS)
    return [Gap(s, by_service[s], invoked[s]) for s in sorted(set(by_service) | set(invoked))]


def gap(requests: Sequence[ApiRequest], invocations: Sequence[Invocation]) -> Chart:
    """API requests vs the API functions' invocations per minute, and the requests that reached no function."""
    chart = Chart("gap-chart", "per minute")
    invoked = [i for i in invocations if i.function in API_FUNCTIONS]
    chart.x = _buckets([r.started for r in requests] + [i.started for i in invoked])
    by_request, by_invocation = _per_bucket(requests, lambda r: r.started), _per_bucket(invoked, lambda i: i.started)
    counts = [(len(by_request.get(x, [])), len(by_invocation.get(x, []))) for x in chart.x]
    chart.add("API requests", [r * PER_MINUTE for r, _ in counts])
    chart.add("API function invocations", [i * PER_MINUTE for _, i in counts])
    # An invocation can land in the bucket after its request's: the gap is never drawn below zero.
    chart.add("requests without an invocation", [max(r - i, 0) * PER_MINUTE for r, i in counts], colour="#c62828")
    return chart


def latency(requests: Sequence[ApiRequest], invocations: Sequence[Invocation]) -> Chart:
    """API latency P50 to P99 per bucket, with each cold start marked at its time and duration."""
    chart = Chart("latency-chart", "ms")
    by_bucket = _per_bucket(requests, lambda r: r.started)
    cold = sorted((i for i in invocations if i.cold), key=lambda i: i.started)
    chart.x = sorted(set(by_bucket) | {i.started for i in cold})
    rows = {x: percentiles([r.latency_ms for r in by_bucket[x]]) for x in by_bucket}
    for p in ("p50", "p90", "p95", "p99"):
        chart.add(f"API {p.upper()}", [rows[x][p] if x in rows else None for x in chart.x])
    cold_at = {i.started: round(i.duration_ms, 1) for i in cold}
    chart.add("cold start (invocation ms)", [cold_at.get(x) for x in chart.x], points=True, colour="#c62828")
    return chart


def cold_starts(invocations: Sequence[Invocation]) -> Chart:
    """Every invocation's duration at its start time: cold starts against warm ones."""
    chart = Chart("cold-chart", "invocation ms")
    ordered = sorted(invocations, key=lambda i: i.started)
    chart.x = [i.started for i in ordered]
    chart.add("warm", [None if i.cold else round(i.duration_ms, 2) for i in ordered], points=True, colour="#90a4ae")
    chart.add(
        "cold start", [round(i.duration_ms, 2) if i.cold else None for i in ordered], points=True, colour="#8e24aa"
    )
    return chart


def peak_concurrency(invocations: Sequence[Invocation]) -> int:
    ends = [(i.started + i.duration_ms / 1000, -1) for i in invocations]
    edges = sorted([(i.started, 1) for i in invocations] + ends)
    current = peak = 0
    for _, delta in edges:
        current += delta
        peak = max(peak, current)
    return peak


def capacity(invocations: Sequence[Invocation], refused: Sequence[Throttle] = ()) -> Chart:
    """Invocations, peak concurrency (all functions) and throttles per bucket: Lambda's Throttles counts both the
    event sources' invocations that had to wait and the synchronous ones refused (`refused`, which never ran)."""
    chart = Chart("capacity-chart", "per 10 s bucket")
    by_bucket = _per_bucket(invocations, lambda i: i.started)
    refused_by_bucket = _per_bucket(refused, lambda t: t.at)
    chart.x = _buckets([i.started for i in invocations] + [t.at for t in refused])
    chart.add("invocations", [len(by_bucket.get(x, [])) for x in chart.x])
    chart.add("peak concurrency", [peak_concurrency(by_bucket.get(x, [])) for x in chart.x])
    throttles = [sum(i.throttled for i in by_bucket.get(x, [])) + len(refused_by_bucket.get(x, [])) for x in chart.x]
    chart.add("throttles", throttles, colour="#c62828")
    return chart
