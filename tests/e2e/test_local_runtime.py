"""The local runtime runs each function in execution environments as Lambda does: one invocation at a time
each, scaled out up to the function's concurrency, each with its own module state and its own cold start."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from devstack.runtime import Functions

PROBE = {"probe": ("e2e.entry_probe", "handler")}


def probe_event(metric: str, released: bool = False) -> dict[str, Any]:
    event: dict[str, Any] = {"metric": metric, "recorded": threading.Event(), "release": threading.Event()}
    if released:
        event["release"].set()
    return event


def emf_metric_names(output: str) -> list[list[str]]:
    """The metric names of each EMF line printed, in order."""
    lines = [json.loads(line) for line in output.splitlines() if '"_aws"' in line]
    return [[m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]] for doc in lines]


def test_overlapping_invocations_flush_only_their_own_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    functions = Functions({"probe": 2}, PROBE)
    first, second = probe_event("First"), probe_event("Second", released=True)
    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(functions.invoke, "probe", first)
        assert first["recorded"].wait(10)
        # The second records and flushes while the first holds its metric unflushed: a buffer shared by
        # the two would publish "First" in the second's line and leave the first's flush empty.
        assert pool.submit(functions.invoke, "probe", second).result(10) == "Second"
        first["release"].set()
        assert held.result(10) == "First"
    assert emf_metric_names(capsys.readouterr().out) == [["Second"], ["First"]]
    assert [(i.cold, i.throttled) for i in functions.invocations] == [(True, False), (True, False)]


def test_an_idle_environment_is_reused_and_a_busy_function_waits_beyond_its_concurrency() -> None:
    functions = Functions({"probe": 1}, PROBE)
    functions.invoke("probe", probe_event("A", released=True))
    functions.invoke("probe", probe_event("B", released=True))  # warm: the same environment again
    busy = probe_event("C")
    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(functions.invoke, "probe", busy)
        assert busy["recorded"].wait(10)
        waiting = pool.submit(functions.invoke, "probe", probe_event("D", released=True))
        deadline = time.monotonic() + 10
        while functions.waiting["probe"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not waiting.done()  # no second environment: it waits for the first to be free
        busy["release"].set()
        assert (held.result(10), waiting.result(10)) == ("C", "D")
    assert [(i.cold, i.throttled) for i in functions.invocations] == [
        (True, False),
        (False, False),
        (False, False),
        (False, True),
    ]
