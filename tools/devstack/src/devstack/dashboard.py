"""A local rendering of the seed's dashboards, from what the run recorded: API requests, Lambda invocations
and OpenTelemetry spans. The service map and tables are server-side HTML and SVG; the time series are drawn
by uPlot, served from this package's assets by the local server (no CDN, works offline)."""

from __future__ import annotations

import html
import json
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from importlib import resources as package_files
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from devstack import series, service_map
from devstack.api_server import ApiRequest
from devstack.report import percentiles
from devstack.runtime import FUNCTIONS, Invocation, Throttle, service_of

ASSETS = {"uPlot.iife.min.js": "text/javascript", "uPlot.min.css": "text/css", "dashboard.js": "text/javascript"}

STYLE = """
body{font-family:system-ui,sans-serif;margin:20px;background:#f4f5f7;color:#1d2433}
h1{font-size:20px} h2{font-size:15px;margin:0 0 8px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(430px,1fr));gap:14px}
.panel{background:#fff;border-radius:8px;padding:14px;box-shadow:0 1px 3px #0002}
table{border-collapse:collapse;width:100%;font-size:13px} td,th{padding:3px 6px;text-align:right}
td:first-child,th:first-child{text-align:left} tr:nth-child(even){background:#f7f8fa}
.big{font-size:26px;font-weight:600} .bad{color:#c62828} .good{color:#2e7d32} a{color:#1565c0}
.legend{font-size:12px;color:#555} .wide{grid-column:1/-1} .chart{min-height:260px}
"""


def asset(name: str) -> tuple[str, str] | None:
    """(content type, text) of a dashboard asset, or None for an unknown name."""
    if name not in ASSETS:
        return None
    return ASSETS[name], (package_files.files("devstack") / "assets" / name).read_text()


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _panel(panel_id: str, title: str, content: str, wide: bool = False) -> str:
    css = "panel wide" if wide else "panel"
    return f'<section class="{css}" id="{panel_id}"><h2>{html.escape(title)}</h2>{content}</section>'


def _chart(chart: series.Chart) -> str:
    return f'<div class="chart" id="{chart.chart_id}"></div>'


def _function_of(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> str:
    return service_map.function_of(span, by_id) or "?"


# As the deployed top errors normalize a message: the trace prefix dropped, ids and numbers replaced.
_NORMALIZE = [
    (re.compile(r"\[!dt [^\]]*\] ?"), ""),
    (re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"), "<id>"),
    (re.compile(r"[0-9a-fA-F]{16,}"), "<id>"),
    (re.compile(r"\d+"), "<n>"),
]


def normalize_error(message: str) -> str:
    """One row for one kind of error, whichever payment, request or trace it happened in."""
    for pattern, replacement in _NORMALIZE:
        message = pattern.sub(replacement, message)
    return message


def top_errors(spans: Sequence[ReadableSpan]) -> list[tuple[str, int, str]]:
    """(error, count, example trace id): failed spans (by normalized message) and 4xx/5xx answers, most
    frequent first."""
    counts: Counter[str] = Counter()
    example: dict[str, str] = {}
    by_id = {s.context.span_id: s for s in spans}
    for span in spans:
        attributes = span.attributes or {}
        status = attributes.get("http.response.status_code")
        if span.status.status_code == StatusCode.ERROR:
            key = f"{span.name}: {normalize_error(span.status.description or 'error')}"
        elif isinstance(status, int) and status >= 400 and span.kind.name == "SERVER":
            key = f"{span.name}: HTTP {status}"
        else:
            continue
        key = f"[{_function_of(span, by_id)}] {key}"
        counts[key] += 1
        example[key] = f"{span.context.trace_id:032x}"
    return [(key, n, example[key]) for key, n in counts.most_common(10)]


def webhooks_panel(received: dict[str, int], parked: int) -> str:
    """The merchants' webhooks as their receiver saw them: delivered (acknowledged), retried (a dropped connection
    or a 5xx: the deliverer tries again on its schedule), refused signatures, and deliveries parked in the DLQ."""
    retried = received.get("dropped", 0) + received.get("failed", 0)
    bad = received.get("refused_signature", 0)
    return _panel(
        "webhooks",
        "Webhooks: delivered / retried / parked",
        f'<p><span class="big good" id="webhooks-delivered">{received.get("acknowledged", 0)}</span> delivered '
        f'&nbsp; <span class="big" id="webhooks-retried">{retried}</span> failed attempts, retried '
        f'&nbsp; <span class="big {"bad" if parked else "good"}" id="webhooks-parked">{parked}</span> parked</p>'
        + _table(
            ["attempts", "acknowledged", "dropped (down)", "5xx", "signature refused"],
            [
                (
                    received.get("requests", 0),
                    received.get("acknowledged", 0),
                    received.get("dropped", 0),
                    received.get("failed", 0),
                    f'<span class="{"bad" if bad else ""}">{bad}</span>',
                )
            ],
        ),
    )


def render(
    requests: Sequence[ApiRequest],
    invocations: Sequence[Invocation],
    spans: Sequence[ReadableSpan],
    webhooks: str = "",
    throttles: Sequence[Throttle] = (),
) -> str:
    """webhooks: the webhooks panel (webhooks_panel), when the run has a receiver; throttles: the synchronous
    invocations Lambda refused (the runtime's `throttles`)."""
    # As deployed: API Gateway's requests against the invocations of the functions it integrates; the gap is
    # what it refused before any function ran. The event-driven functions' invocations are shown beside.
    gaps = series.requests_vs_invocations(requests, invocations)
    all_invocations = Counter(service_of(i.function) for i in invocations)
    refused = sum(g.refused for g in gaps)
    overview = (
        f'<p><span class="big {"bad" if refused else "good"}" id="gap-total">{refused}</span> of {len(requests)} '
        "API requests reached no function (refused by the API: signature, route; or throttled by Lambda)</p>"
        + _table(
            [
                "service",
                "API requests",
                "API function invocations",
                "requests without an invocation",
                "all invocations",
            ],
            [(html.escape(g.service), g.requests, g.invocations, g.refused, all_invocations[g.service]) for g in gaps],
        )
    )

    total = len(requests) or 1
    c4 = sum(1 for r in requests if 400 <= r.status < 500)
    c5 = sum(1 for r in requests if r.status >= 500)
    errors = (
        f'<p><span class="big">{100 * c4 / total:.1f}%</span> 4xx ({c4}) &nbsp; '
        f'<span class="big {"bad" if c5 else "good"}">{100 * c5 / total:.1f}%</span> 5xx ({c5})'
        f" of {len(requests)} requests</p>"
    )

    latency = percentiles([r.latency_ms for r in requests])
    integration = percentiles([r.integration_ms for r in requests])
    latency_table = _table(
        ["", *latency], [["API latency (ms)", *latency.values()], ["integration latency (ms)", *integration.values()]]
    )

    cold = [i for i in invocations if i.cold]
    warm_p50 = percentiles([i.duration_ms for i in invocations if not i.cold]).get("p50", 0.0)
    cold_rows = [(html.escape(i.function), f"{i.duration_ms:.1f}") for i in cold]
    charts = [
        series.traffic(requests, invocations),
        series.latency(requests, invocations),
        series.cold_starts(invocations),
        series.capacity(invocations, throttles),
        series.gap(requests, invocations),
    ]
    traffic_chart, latency_chart, cold_chart, capacity_chart, gap_chart = (_chart(c) for c in charts)
    cold_panel = (
        cold_chart
        + _table(["cold start", "duration (ms)"], cold_rows)
        + (f'<p class="legend">warm p50: {warm_p50} ms</p>')
    )

    by_function: dict[str, list[Invocation]] = defaultdict(list)
    for invocation in invocations:
        by_function[invocation.function].append(invocation)
    refused_sync = Counter(t.function for t in throttles)
    function_rows = []
    for function in FUNCTIONS:
        items = by_function.get(function, [])
        durations = percentiles([i.duration_ms for i in items])
        errors_n = sum(1 for i in items if i.error)
        function_rows.append(
            (
                function,
                len(items),
                series.peak_concurrency(items),
                f'<span class="{"bad" if errors_n else ""}">{errors_n}</span>',
                sum(i.throttled for i in items) + refused_sync[function],  # waited, or refused (synchronous)
                durations.get("p50", "-"),
                durations.get("p99", "-"),
            )
        )
    functions_table = _table(
        ["function", "invocations", "max concurrency", "errors", "throttles", "p50 ms", "p99 ms"], function_rows
    )

    error_rows = [
        (html.escape(key), n, f'<a href="/traces/{trace_id}">trace {trace_id[:8]}…</a>')
        for key, n, trace_id in top_errors(spans)
    ]
    errors_table = _table(["error", "count", "waterfall"], error_rows) if error_rows else "<p>no errors</p>"

    panels = [
        _panel(
            "service-map",
            "Service map (calls · error rate, from the spans)",
            service_map.render_svg(service_map.edges(spans)),
            wide=True,
        ),
        _panel("overview", "API requests vs Lambda invocations", gap_chart + overview + traffic_chart),
        _panel("errors", "API 4xx / 5xx", errors),
        _panel("latency", "Latency P50 / P90 / P95 / P99", latency_chart + latency_table),
        _panel("cold-starts", "Cold starts vs latency", cold_panel),
        _panel("functions", "Invocations, concurrency and errors", capacity_chart + functions_table),
        _panel("top-errors", "Top 10 errors", errors_table),
        *([webhooks] if webhooks else []),
    ]
    data = json.dumps([c.as_json() for c in charts]).replace("</", "<\\/")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Payments — local dashboard</title>"
        f"<link rel='stylesheet' href='/assets/uPlot.min.css'><style>{STYLE}</style></head><body>"
        f"<h1>Payments — local dashboard</h1><div class='grid'>{''.join(panels)}</div>"
        f"<script type='application/json' id='charts'>{data}</script>"
        f"<script src='/assets/uPlot.iife.min.js'></script><script src='/assets/dashboard.js'></script>"
        f"</body></html>"
    )


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
        rows.append(
            (
                html.escape(_function_of(span, by_id)),
                html.escape(span.name),
                span.kind.name,
                f'<svg width="610" height="12"><rect x="{offset:.1f}" y="1" width="{width:.1f}" height="10" '
                f'fill="{colour}"/></svg>',
                f"{duration_ms:.2f}",
            )
        )
    table = _table(["function", "span", "kind", "timeline", "ms"], rows)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>trace {trace_id}</title><style>{STYLE}"
        f"</style></head><body><h1>Trace {trace_id}</h1><p><a href='/dashboard'>← dashboard</a></p>"
        f"<section class='panel' id='waterfall'>{table}</section></body></html>"
    )
