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
    """The function's Metrics. Powertools keeps the buffers on the class, one per process: Lambda runs one
    function per process and one invocation at a time, and every invocation flushes what it recorded."""
    return Metrics(namespace=NAMESPACE, service=service)
