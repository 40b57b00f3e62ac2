"""An entry point for the local runtime's tests: records the metric it is named, says so through a file (it runs
in a process of its own), holds until the test's release file appears, flushes; or exits, as a crash would; or
logs at each level and answers what Lambda set for its logs."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from payments_shared.observability.logging import build_logger
from payments_shared.observability.metrics import MetricUnit, build_metrics

metrics = build_metrics("probe")
logger = build_logger("probe")  # at import, as every entry point's: it takes the level it finds then
invocations = 0  # module state: each execution environment has its own


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global invocations
    invocations += 1
    if event.get("exit"):
        os._exit(1)  # the process dies mid-invocation, as one killed for memory would
    if event.get("log"):
        logger.debug("logger debug")
        logger.info("logger info")
        logger.warning("logger warning")
        at = "2026-12-06T20:19:20.293Z"
        for level in ("trace", "DEBUG", "Info", "WARN", "ERROR", "chatty"):
            print(json.dumps({"level": level, "message": f"printed {level}", "timestamp": at}))
        print(json.dumps({"level": "DEBUG", "message": "printed DEBUG, no timestamp"}))
        print(json.dumps({"level": "DEBUG", "message": "printed DEBUG, a date only", "timestamp": "2026-12-06"}))
        print("printed plain text")
        return {name: os.environ.get(name) for name in ("AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL")}
    metrics.add_metric(name=event["metric"], unit=MetricUnit.Count, value=1)
    folder = Path(event["folder"])
    (folder / f"{event['metric']}.recorded").touch()
    deadline = time.monotonic() + event.get("hold_s", 10)
    while not (folder / f"{event['metric']}.release").exists():
        if time.monotonic() > deadline:
            raise TimeoutError("never released")
        time.sleep(0.005)
    return {"metric": event["metric"], "pid": os.getpid(), "invocations": invocations}
