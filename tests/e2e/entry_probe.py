"""An entry point for the local runtime's tests: records the metric it is named, holds until told, flushes."""

from __future__ import annotations

from typing import Any

from payments_shared.observability.metrics import MetricUnit, build_metrics

metrics = build_metrics("probe")


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> str:
    metrics.add_metric(name=event["metric"], unit=MetricUnit.Count, value=1)
    event["recorded"].set()
    if not event["release"].wait(10):
        raise TimeoutError("never released")
    return str(event["metric"])
