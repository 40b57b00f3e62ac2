"""JSON logs (Powertools Logger) that Dynatrace links to traces, with card data redacted."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import LogRecord

from payments_shared.observability.redaction import redact_log_record
from payments_shared.observability.tracing import trace_ids

# The Lambda context's constants: the same on every line of a function, named by its log group and known to
# Dynatrace from the function itself. About 120 bytes a line, ~12 % of the main path's log bytes (issue 32).
CONSTANT_CONTEXT_KEYS = ("function_arn", "function_memory_size")


class TraceCorrelatedFormatter(LambdaPowertoolsFormatter):
    """Adds trace_id/span_id, prefixes `[!dt dt.trace_id=…,dt.span_id=…]` and redacts every field."""

    def serialize(self, log: LogRecord) -> str:
        record: dict[str, Any] = redact_log_record(dict(log))
        record.pop("xray_trace_id", None)  # the trace is OpenTelemetry's (W3C), not X-Ray's
        for key in CONSTANT_CONTEXT_KEYS:
            record.pop(key, None)
        ids = trace_ids()
        if ids is not None:
            trace_id, span_id = ids
            record["trace_id"], record["span_id"] = trace_id, span_id
            message = record.get("message")
            text = message if isinstance(message, str) else json.dumps(message, default=str)
            record["message"] = f"[!dt dt.trace_id={trace_id},dt.span_id={span_id}] {text}"
        return super().serialize(record)


def build_logger(service: str, **kwargs: Any) -> Logger:
    formatter = TraceCorrelatedFormatter(utc=True, use_rfc3339=True)
    return Logger(service=service, logger_formatter=formatter, **kwargs)
