"""A local rendering of the seed's dashboards, from what the run recorded: API requests, Lambda invocations
and OpenTelemetry spans. Server-side HTML with inline SVG: no script, no external asset."""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from devstack.api_server import ApiRequest
from devstack.report import percentiles
from devstack.runtime import FUNCTIONS, Invocation, service_of

STYLE = """
body{font-family:system-ui,sans-serif;margin:20px;background:#f4f5f7;color:#1d2433}
h1{font-size:20px} h2{font-size:15px;margin:0 0 8px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(430px,1fr));gap:14px}
.panel{background:#fff;border-radius:8px;padding:14px;box-shadow:0 1px 3px #0002}
table{border-collapse:collapse;width:100%;font-size:13px} td,th{padding:3px 6px;text-align:right}
td:first-child,th:first-child{text-align:left} tr:nth-child(even){background:#f7f8fa}
.big{font-size:26px;font-weight:600} .bad{color:#c62828} .good{color:#2e7d32} a{color:#1565c0}
.legend{font-size:12px;color:#555}
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _panel(panel_id: str, title: str, content: str) -> str:
    return f'<section class="panel" id="{panel_id}"><h2>{html.escape(title)}</h2>{content}</section>'


def _function_of(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> str:
    current: ReadableSpan | None = span
    while current is not None:
        name = (current.attributes or {}).get("faas.name")
        if name:
            return str(name)
        current = by_id.get(current.parent.span_id) if current.parent else None
    return "?"


def top_errors(spans: Sequence[ReadableSpan]) -> list[tuple[str, int, str]]:
    """(error, count, example trace id): failed spans and 4xx/5xx answers, most frequent first."""
    counts: Counter[str] = Counter()
    example: dict[str, str] = {}
    by_id = {s.context.span_id: s for s in spans}
    for span in spans:
        attributes = span.attributes or {}
        status = attributes.get("http.response.status_code")
        if span.status.status_code == StatusCode.ERROR:
            key = f"{span.name}: {span.status.description or 'error'}"
        elif isinstance(status, int) and status >= 400 and span.kind.name == "SERVER":
            key = f"{span.name}: HTTP {status}"
        else:
            continue
        key = f"[{_function_of(span, by_id)}] {key}"
        counts[key] += 1
        example[key] = f"{span.context.trace_id:032x}"
    return [(key, n, example[key]) for key, n in counts.most_common(10)]


def _scatter(invocations: Sequence[Invocation]) -> str:
    if not invocations:
        return "<p>no invocations</p>"
    width, height = 560, 180
    t0 = min(i.started for i in invocations)
    span_s = max(max(i.started for i in invocations) - t0, 1e-3)
    top = max(i.duration_ms for i in invocations) or 1
    dots = []
    for invocation in invocations:
        x = 30 + (width - 40) * (invocation.started - t0) / span_s
        y = height - 20 - (height - 30) * invocation.duration_ms / top
        colour, radius = ("#8e24aa", 5) if invocation.cold else ("#90a4ae", 2)
        label = f"{html.escape(invocation.function)} {invocation.duration_ms:.1f} ms"
        dots.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colour}"><title>{label}</title></circle>')
    axis = (f'<line x1="30" y1="{height - 20}" x2="{width}" y2="{height - 20}" stroke="#999"/>'
            f'<text x="0" y="12" font-size="10">{top:.0f} ms</text>'
            f'<text x="{width - 60}" y="{height - 5}" font-size="10">time →</text>')  # fmt: skip
    svg = f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="cold starts vs latency">'
    return f'{svg}{axis}{"".join(dots)}</svg><p class="legend">purple: cold start; grey: warm invocation</p>'


def _max_concurrency(invocations: Sequence[Invocation]) -> int:
    starts = [(i.started, 1) for i in invocations]
    edges = sorted(starts + [(i.started + i.duration_ms / 1000, -1) for i in invocations])
    current = peak = 0
    for _, delta in edges:
        current += delta
        peak = max(peak, current)
    return peak


def render(requests: Sequence[ApiRequest], invocations: Sequence[Invocation], spans: Sequence[ReadableSpan]) -> str:
    api_by_service = Counter(service_of(r.function) for r in requests)
    invocations_by_service = Counter(service_of(i.function) for i in invocations)
    services = sorted(set(api_by_service) | set(invocations_by_service))
    overview = _table(["service", "API requests", "Lambda invocations"],
                      [(s, api_by_service[s], invocations_by_service[s]) for s in services])  # fmt: skip

    total = len(requests) or 1
    c4 = sum(1 for r in requests if 400 <= r.status < 500)
    c5 = sum(1 for r in requests if r.status >= 500)
    errors = (f'<p><span class="big">{100 * c4 / total:.1f}%</span> 4xx ({c4}) &nbsp; '
              f'<span class="big {"bad" if c5 else "good"}">{100 * c5 / total:.1f}%</span> 5xx ({c5})'
              f" of {len(requests)} requests</p>")  # fmt: skip

    latency = percentiles([r.latency_ms for r in requests])
    integration = percentiles([r.integration_ms for r in requests])
    latency_table = _table(["", *latency], [["API latency (ms)", *latency.values()],
                                            ["integration latency (ms)", *integration.values()]])  # fmt: skip

    cold = [i for i in invocations if i.cold]
    warm_p50 = percentiles([i.duration_ms for i in invocations if not i.cold]).get("p50", 0.0)
    cold_rows = [(html.escape(i.function), f"{i.duration_ms:.1f}") for i in cold]
    cold_panel = _scatter(invocations) + _table(["cold start", "duration (ms)"], cold_rows) + (
        f'<p class="legend">warm p50: {warm_p50} ms</p>')

    by_function: dict[str, list[Invocation]] = defaultdict(list)
    for invocation in invocations:
        by_function[invocation.function].append(invocation)
    function_rows = []
    for function in FUNCTIONS:
        items = by_function.get(function, [])
        durations = percentiles([i.duration_ms for i in items])
        errors_n = sum(1 for i in items if i.error)
        function_rows.append((function, len(items), _max_concurrency(items),
                              f'<span class="{"bad" if errors_n else ""}">{errors_n}</span>',
                              durations.get("p50", "-"), durations.get("p99", "-")))  # fmt: skip
    functions_table = _table(["function", "invocations", "max concurrency", "errors", "p50 ms", "p99 ms"],
                             function_rows)  # fmt: skip

    error_rows = [(html.escape(key), n, f'<a href="/traces/{trace_id}">trace {trace_id[:8]}…</a>')
                  for key, n, trace_id in top_errors(spans)]  # fmt: skip
    errors_table = _table(["error", "count", "waterfall"], error_rows) if error_rows else "<p>no errors</p>"

    panels = [
        _panel("overview", "API requests vs Lambda invocations", overview),
        _panel("errors", "API 4xx / 5xx", errors),
        _panel("latency", "Latency P50 / P90 / P95 / P99", latency_table),
        _panel("cold-starts", "Cold starts vs latency", cold_panel),
        _panel("functions", "Invocations, concurrency and errors", functions_table),
        _panel("top-errors", "Top 10 errors", errors_table),
    ]
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Payments — local dashboard</title>"
            f"<style>{STYLE}</style></head><body><h1>Payments — local dashboard</h1>"
            f"<div class='grid'>{''.join(panels)}</div></body></html>")  # fmt: skip


def render_trace(trace_id: str, spans: Sequence[ReadableSpan]) -> str | None:
    members = sorted((s for s in spans if f"{s.context.trace_id:032x}" == trace_id), key=lambda s: s.start_time or 0)
    if not members:
        return None
    by_id = {s.context.span_id: s for s in spans}
    start = min(s.start_time or 0 for s in members)
    end = max(s.end_time or 0 for s in members)
    scale = 600 / max(end - start, 1)
    rows = []
    for span in members:
        offset = ((span.start_time or 0) - start) * scale
        width = max(((span.end_time or 0) - (span.start_time or 0)) * scale, 2)
        colour = "#c62828" if span.status.status_code == StatusCode.ERROR else "#1565c0"
        duration_ms = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
        rows.append((html.escape(_function_of(span, by_id)), html.escape(span.name), span.kind.name,
                     f'<svg width="610" height="12"><rect x="{offset:.1f}" y="1" width="{width:.1f}" height="10" '
                     f'fill="{colour}"/></svg>', f"{duration_ms:.2f}"))  # fmt: skip
    table = _table(["function", "span", "kind", "timeline", "ms"], rows)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>trace {trace_id}</title><style>{STYLE}"
            f"</style></head><body><h1>Trace {trace_id}</h1><p><a href='/dashboard'>← dashboard</a></p>"
            f"<section class='panel' id='waterfall'>{table}</section></body></html>")  # fmt: skip
