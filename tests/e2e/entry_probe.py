"""An entry point for the local runtime's tests: records the metric it is named, says so through a file (it runs
in a process of its own), holds until the test's release file appears, flushes; or exits, as a crash would."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from payments_shared.observability.metrics import MetricUnit, build_metrics

metrics = build_metrics("probe")
invocations = 0  # module state: each execution environment has its own


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global invocations
    invocations += 1
    if event.get("exit"):
        os._exit(1)  # the process dies mid-invocation, as one killed for memory would
    metrics.add_metric(name=event["metric"], unit=MetricUnit.Count, value=1)
    folder = Path(event["folder"])
    (folder / f"{event['metric']}.recorded").touch()
    deadline = time.monotonic() + event.get("hold_s", 10)
    while not (folder / f"{event['metric']}.release").exists():
        if time.monotonic() > deadline:
            raise TimeoutError("never released")
        time.sleep(0.005)
    return {"metric": event["metric"], "pid": os.getpid(), "invocations": invocations}
