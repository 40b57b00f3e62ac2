"""The seed's first view, a service map: the API, each function, the bus, the queues, the tables and the PSP,
with an edge wherever the spans show a call, labelled with its request count and error rate."""

from __future__ import annotations

import html
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from devstack import resources
from devstack.runtime import service_of

QUEUE_OF = {s.function: f"{s.function} queue" for s in resources.SUBSCRIPTIONS}
PRINCIPALS = str(resources.PRINCIPALS["TableName"])
KIND_COLOURS = {
    "api": "#5c6bc0",
    "function": "#ef6c00",
    "bus": "#8e24aa",
    "queue": "#00897b",
    "table": "#1e88e5",
    "external": "#6d4c41",
}


@dataclass
class Edge:
    calls: int = 0
    errors: int = 0

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


def _percent(share: float) -> str:
    """Two significant digits below 10 % (a rare error must not read as 0 %), whole percents above."""
    return f"{100 * share:.2g}%" if share < 0.1 else f"{100 * share:.0f}%"


def _bezier(curve: tuple[tuple[float, float], ...], t: float) -> tuple[float, float]:
    """The point at t along a cubic Bézier curve (start, two control points, end)."""
    weights = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3)
    x = sum(w * p[0] for w, p in zip(weights, curve, strict=True))
    y = sum(w * p[1] for w, p in zip(weights, curve, strict=True))
    return x, y - 3  # just above the line


def function_of(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> str | None:
    """The function whose invocation made the span (its invocation span carries faas.name); None outside."""
    current: ReadableSpan | None = span
    while current is not None:
        name = (current.attributes or {}).get("faas.name")
        if name:
            return str(name)
        current = by_id.get(current.parent.span_id) if current.parent else None
    return None


def kind_of(node: str) -> str:
    if node == "API":
        return "api"
    if node == "EventBridge bus":
        return "bus"
    if node.endswith(" queue"):
        return "queue"
    if node.endswith(" tables") or node == PRINCIPALS:
        return "table"
    if node in ("PSP (Stripe API)", "KMS", "SSM"):
        return "external"
    return "function"


def _targets(function: str, span: ReadableSpan) -> list[str]:
    """Where a CLIENT span of `function` went."""
    attributes = span.attributes or {}
    if attributes.get("peer.service") == "stripe":
        return ["PSP (Stripe API)"]
    service = attributes.get("rpc.service")
    if service == "DynamoDB":
        tables = [str(t) for t in attributes.get("aws.dynamodb.table_names") or ()]  # type: ignore[union-attr]
        return [PRINCIPALS if t == PRINCIPALS else f"{service_of(function)} tables" for t in tables] or [
            f"{service_of(function)} tables"
        ]  # transactions name no table: a service writes only its own
    if service == "EventBridge":
        return ["EventBridge bus"]
    return [str(service)] if service else []


def edges(spans: Sequence[ReadableSpan]) -> dict[tuple[str, str], Edge]:
    found: dict[tuple[str, str], Edge] = defaultdict(Edge)

    def add(source: str, target: str, failed: bool) -> None:
        found[(source, target)].calls += 1
        found[(source, target)].errors += int(failed)

    by_id = {s.context.span_id: s for s in spans}
    for span in spans:
        function = function_of(span, by_id)
        if function is None:
            continue  # the local event sources' polling: AWS's own work when deployed
        attributes = span.attributes or {}
        failed = span.status.status_code == StatusCode.ERROR
        trigger = attributes.get("faas.trigger")
        if trigger == "http":
            status = attributes.get("http.response.status_code")
            add("API", function, failed or (isinstance(status, int) and status >= 500))
        elif trigger == "pubsub":  # one span per record: the rule delivered it to the queue, which invoked us
            add("EventBridge bus", QUEUE_OF[function], False)
            add(QUEUE_OF[function], function, failed)
        elif trigger == "datasource":  # a batch from the service's event store's DynamoDB stream
            add(f"{service_of(function)} tables", function, failed)
        elif span.kind == SpanKind.CLIENT:
            for target in _targets(function, span):
                add(function, target, failed)
    return dict(found)


def _layers(nodes: set[str], graph: dict[tuple[str, str], Edge]) -> list[list[str]]:
    """Columns by distance from the API (breadth first); what the API never reaches goes last."""
    depth = {"API": 0}
    queue = deque(["API"])
    while queue:
        node = queue.popleft()
        for source, target in sorted(graph):
            if source == node and target not in depth:
                depth[target] = depth[node] + 1
                queue.append(target)
    last = max(depth.values(), default=0) + 1
    columns: dict[int, list[str]] = defaultdict(list)
    for node in sorted(nodes, key=lambda n: (kind_of(n), n)):
        columns[depth.get(node, last)].append(node)
    return [columns[c] for c in sorted(columns)]


def render_svg(graph: dict[tuple[str, str], Edge], width: int = 1360) -> str:
    if not graph:
        return "<p>no calls recorded yet</p>"
    nodes = {n for pair in graph for n in pair}
    layers = _layers(nodes, graph)
    box_w, box_h, row_h = 128, 30, 46
    column_w = (width - box_w - 20) / max(len(layers) - 1, 1)
    height = max(len(column) for column in layers) * row_h + 90  # room for the arcs back
    position: dict[str, tuple[float, float]] = {}
    for c, column in enumerate(layers):
        top = (height - 60 - len(column) * row_h) / 2
        for r, node in enumerate(column):
            position[node] = (10 + c * column_w, top + r * row_h + (row_h - box_h) / 2)

    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="service map" '
        f'font-size="11" font-family="system-ui,sans-serif">'
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#78909c"/></marker></defs>'
    ]
    for (source, target), edge in sorted(graph.items()):
        (x1, y1), (x2, y2) = position[source], position[target]
        colour = "#c62828" if edge.errors else "#78909c"
        if x2 > x1:  # forward: right side to left side
            start, end = (x1 + box_w, y1 + box_h / 2), (x2, y2 + box_h / 2)
            bend = (end[0] - start[0]) / 2
            curve = (start, (start[0] + bend, start[1]), (end[0] - bend, end[1]), end)
            at = 0.5
        else:  # back to an earlier column: an arc under the boxes, labelled at its lowest point
            start, end = (x1 + box_w / 2, y1 + box_h), (x2 + box_w / 2, y2 + box_h)
            dip = max(start[1], end[1]) + 30 + abs(x1 - x2) / 12
            curve, at = (start, (start[0], dip), (end[0], dip), end), 0.5
        path = "M{:.0f},{:.0f} C{:.0f},{:.0f} {:.0f},{:.0f} {:.0f},{:.0f}".format(*(v for p in curve for v in p))
        label = f"{edge.calls}" + (f" · {_percent(edge.error_rate)} err" if edge.errors else "")
        mid = _bezier(curve, at)
        tip = html.escape(f"{source} → {target}: {edge.calls} calls, {edge.errors} errors")
        # Under the boxes, so a label never hides a node's name (a long edge's label may be partly hidden:
        # the tooltip has it all).
        parts.append(
            f'<g class="edge"><title>{tip}</title><path d="{path}" fill="none" stroke="{colour}" '
            f'stroke-width="1.3" marker-end="url(#arrow)"/>'
            f'<text x="{mid[0]:.0f}" y="{mid[1]:.0f}" text-anchor="middle" fill="{colour}" '
            f'paint-order="stroke" stroke="#fff" stroke-width="3">{label}</text></g>'
        )
    for node, (x, y) in position.items():
        lines = node.rsplit(" ", 1) if len(node) > 20 else [node]  # "initializer-outcome" / "queue"
        text = "".join(
            f'<tspan x="{x + box_w / 2:.0f}" dy="{0 if i == 0 else 12}">{html.escape(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        parts.append(
            f'<g class="node"><rect x="{x:.0f}" y="{y:.0f}" width="{box_w}" height="{box_h}" rx="5" '
            f'fill="{KIND_COLOURS[kind_of(node)]}"/><text y="{y + (13 if len(lines) > 1 else 19):.0f}" '
            f'text-anchor="middle" fill="#fff">{text}</text></g>'
        )
    legend = " ".join(f'<span style="color:{colour}">■</span> {kind}' for kind, colour in KIND_COLOURS.items())
    return "".join(parts) + f'</svg><p class="legend">{legend}; edge label: calls · error rate (from the spans)</p>'
