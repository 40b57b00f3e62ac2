"""Export a local run to a real observability backend over OTLP/HTTP (Dynatrace, Jaeger, Tempo, a Collector).

    ./pants run tools/devstack -- --otlp-endpoint https://<env>.live.dynatrace.com/api/v2/otlp \\
        --otlp-header "Authorization=Api-Token <token>"

Spans go through the SDK's batch processor and the official OTLP/HTTP exporter; the business metrics the
handlers write as CloudWatch EMF lines are recorded as OTLP metrics. The functions' execution environments
hand their spans and lines back to the run's process, which exports them; every span and metric gets the
resource of the function whose invocation made it (`service.name` = `faas.name` = the function), so a backend
groups them per function as it would the deployed ones. Telemetry made outside invocations (the local event
sources' polling: AWS's work when deployed) is not exported. Without `--otlp-endpoint` nothing is exported.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from typing import Any

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from devstack import resources
from devstack.runtime import CURRENT_FUNCTION
from devstack.span_transport import restored

TIMEOUT_S = 10  # per export request; the exporter retries 429/502/503/504 with backoff within it
METRICS_INTERVAL_MS = 10_000
# Dynatrace ingests OTLP counters and histograms with delta temporality only; Tempo/Jaeger take no metrics.
DELTA: dict[type, AggregationTemporality] = {
    Counter: AggregationTemporality.DELTA,
    Histogram: AggregationTemporality.DELTA,
}
EMF_UNITS = {"Count": "1", "Milliseconds": "ms", "Seconds": "s", "Bytes": "By"}


def metric_name(emf_name: str) -> str:
    """OTLP instrument names are case-insensitive (the SDK lowercases them): PspLatency -> psp_latency."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", emf_name).lower()


def function_resource(function: str, environment: str = "local") -> Resource:
    """The resource a deployed function's telemetry carries (OpenTelemetry's semantic conventions)."""
    return Resource.create(
        {
            "service.name": function,
            "service.namespace": "payments",
            "faas.name": function,
            "cloud.provider": "aws",
            "cloud.platform": "aws_lambda",
            "cloud.region": resources.REGION,
            "deployment.environment": environment,
        }
    )


def parse_headers(pairs: list[str]) -> dict[str, str]:
    """`K=V` pairs (the value may contain `=`, e.g. a token); ValueError names the bad one."""
    headers = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--otlp-header {pair.split('=')[0]!r}: expected KEY=VALUE")
        headers[key.strip()] = value.strip()
    return headers


class OtlpExport:
    """The functions' spans and EMF lines, exported over OTLP/HTTP."""

    def __init__(self, endpoint: str, headers: Mapping[str, str] | None = None) -> None:
        base = endpoint.rstrip("/")
        self._headers = dict(headers or {})
        self._metrics_url = f"{base}/v1/metrics"
        self._batch = BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"{base}/v1/traces", headers=self._headers, timeout=TIMEOUT_S)
        )
        self._resources: dict[str, Resource] = {}
        self._meters: dict[str, MeterProvider] = {}
        self._instruments: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()
        self._shut = False

    def _resource(self, function: str) -> Resource:
        with self._lock:
            if function not in self._resources:
                self._resources[function] = function_resource(function)
            return self._resources[function]

    # --- spans -------------------------------------------------------------------------------------
    def export_spans(self, function: str, spans: list[dict[str, Any]]) -> None:
        """Spans one of the function's invocations made (as its environment hands them back)."""
        resource = self._resource(function)
        for span in spans:
            self._batch.on_end(restored(span, resource))

    # --- metrics -----------------------------------------------------------------------------------
    def record_emf(self, line: str) -> None:
        """Records the metrics of one EMF log line (CloudWatch's embedded metric format) as OTLP metrics."""
        function = CURRENT_FUNCTION.get()
        if function is None or '"_aws"' not in line:
            return
        try:
            document = json.loads(line)
            directives = document["_aws"]["CloudWatchMetrics"]
        except (ValueError, KeyError, TypeError):
            return  # a log line that only mentions _aws
        for directive in directives:
            attributes = {
                name: str(document[name])
                for dimensions in directive.get("Dimensions", [])
                for name in dimensions
                if name in document
            }
            for metric in directive.get("Metrics", []):
                values = document.get(metric["Name"], [])
                instrument = self._instrument(
                    function, directive.get("Namespace", "emf"), metric["Name"], metric.get("Unit", "None")
                )
                for value in values if isinstance(values, list) else [values]:
                    if isinstance(instrument, Counter):
                        instrument.add(value, attributes)
                    else:
                        instrument.record(value, attributes)

    def _instrument(self, function: str, namespace: str, name: str, unit: str) -> Any:
        resource = self._resource(function)
        with self._lock:
            if function not in self._meters:
                exporter = OTLPMetricExporter(
                    endpoint=self._metrics_url, headers=self._headers, timeout=TIMEOUT_S, preferred_temporality=DELTA
                )
                reader = PeriodicExportingMetricReader(exporter, export_interval_millis=METRICS_INTERVAL_MS)
                self._meters[function] = MeterProvider(
                    resource=resource, metric_readers=[reader], shutdown_on_exit=False
                )  # shutdown() below does it
            key = (function, namespace, name)
            if key not in self._instruments:
                meter = self._meters[function].get_meter(namespace)  # the EMF namespace is the scope
                otlp_unit = EMF_UNITS.get(unit, "")
                self._instruments[key] = (
                    meter.create_counter(metric_name(name), unit=otlp_unit)
                    if unit == "Count"
                    else meter.create_histogram(metric_name(name), unit=otlp_unit)
                )
            return self._instruments[key]

    # --- lifecycle ---------------------------------------------------------------------------------
    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        flushed = self._batch.force_flush(timeout_millis)
        return all([flushed, *(m.force_flush(timeout_millis) for m in list(self._meters.values()))])

    def shutdown(self) -> None:  # once, at the stack's stop
        if self._shut:
            return
        self._shut = True
        self._batch.shutdown()
        for meter in list(self._meters.values()):
            meter.shutdown()


class LogSink:
    """The handlers' stdout, as CloudWatch Logs would receive it: every line to the file, EMF lines also to OTLP."""

    def __init__(self, file: Any, export: OtlpExport | None) -> None:
        self._file = file
        self._export = export

    def write(self, text: str) -> int:
        if self._export is not None and text.lstrip().startswith("{"):
            self._export.record_emf(text)
        return int(self._file.write(text))

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno…: the file's
        return getattr(self._file, name)
