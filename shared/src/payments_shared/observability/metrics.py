"""Business metrics as CloudWatch EMF through Powertools Metrics: no API call, just a log line."""

from __future__ import annotations

import os
import warnings

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Payments")

# A warm invocation that records no business metric is normal (e.g. a 4xx); don't warn on every one.
warnings.filterwarnings("ignore", message="No application metrics to publish")

__all__ = ["NAMESPACE", "MetricUnit", "build_metrics"]


def build_metrics(service: str) -> Metrics:
    """A Metrics with a buffer of its own: give each Lambda function (entry point) one.

    Powertools keeps metrics, dimensions and metadata in dicts shared by every Metrics instance of a
    process. Deployed, a process runs one function, so that is moot; where several functions share a
    process (the local stack, tests), a flush by one function would publish what another one recorded,
    under its own name. A subclass per call gives this instance its own dicts and changes nothing else.
    """
    own_buffers = type(
        "FunctionMetrics", (Metrics,), {"_metrics": {}, "_dimensions": {}, "_metadata": {}, "_default_dimensions": {}}
    )
    return own_buffers(namespace=NAMESPACE, service=service)
