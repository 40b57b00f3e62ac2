"""An OTLP/HTTP receiver on loopback that keeps what it is sent, decoded with opentelemetry-proto."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from payments_testing.loopback import LoopbackServer

MESSAGES: dict[str, tuple[Any, Any]] = {
    "/v1/traces": (ExportTraceServiceRequest, ExportTraceServiceResponse),
    "/v1/metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse),
}


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes  # as sent, uncompressed
    message: Any


def value(any_value: AnyValue) -> Any:
    return getattr(any_value, any_value.WhichOneof("value") or "string_value")


def attributes(pairs: list[KeyValue]) -> dict[str, Any]:
    return {pair.key: value(pair.value) for pair in pairs}


def point_value(point: Any) -> Any:
    """A sum's value, or how many values a histogram point recorded."""
    return point.count if hasattr(point, "bucket_counts") else getattr(point, point.WhichOneof("value"))


class OtlpReceiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request_type, response_type = MESSAGES.get(self.path, (None, None))
                if request_type is None or self.headers.get("Content-Type") != "application/x-protobuf":
                    self.send_error(404 if request_type is None else 415)
                    return
                message = request_type.FromString(body)
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append(Received(self.path, headers, body, message))
                answer = response_type().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = LoopbackServer(Handler)
        self.url = self._server.url()

    def __enter__(self) -> OtlpReceiver:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def spans(self) -> list[tuple[dict[str, Any], Any]]:
        """(resource attributes, span) for every span received."""
        return [
            (attributes(rs.resource.attributes), span)
            for r in self.received
            if r.path == "/v1/traces"
            for rs in r.message.resource_spans
            for ss in rs.scope_spans
            for span in ss.spans
        ]

    def metric_points(self) -> list[tuple[dict[str, Any], str, Any]]:
        """(resource attributes, metric name, data point) for every sum and histogram point received."""
        points = []
        for r in (r for r in self.received if r.path == "/v1/metrics"):
            for rm in r.message.resource_metrics:
                resource = attributes(rm.resource.attributes)
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        data = getattr(metric, metric.WhichOneof("data"))
                        points += [(resource, metric.name, point) for point in data.data_points]
        return points
