"""The local runtime runs each function in execution environments as Lambda does: a process each, one
invocation at a time, scaled out up to the function's concurrency, each with its own init and module state."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from devstack import lambda_logs
from devstack.environment import Reply
from devstack.runtime import FunctionError, Functions, Throttled

PROBE = {"probe": ("e2e.entry_probe", "handler")}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def functions() -> Iterator[list[Functions]]:
    made: list[Functions] = []
    yield made
    for runtime in made:
        runtime.close()


def runtime(made: list[Functions], concurrency: int, **options: Any) -> Functions:
    made.append(Functions({"probe": concurrency}, PROBE, **options))
    return made[-1]


def probe(folder: Path, metric: str, released: bool = False, **extra: Any) -> dict[str, Any]:
    if released:
        release(folder, metric)
    return {"metric": metric, "folder": str(folder), **extra}


def release(folder: Path, metric: str) -> None:
    (folder / f"{metric}.release").touch()


def wait_recorded(folder: Path, metric: str) -> None:
    deadline = time.monotonic() + 30
    while not (folder / f"{metric}.recorded").exists():
        assert time.monotonic() < deadline, f"{metric} never started"
        time.sleep(0.005)


def emf_metric_names(output: str) -> list[list[str]]:
    """The metric names of each EMF line printed, in order."""
    lines = [json.loads(line) for line in output.splitlines() if '"_aws"' in line]
    return [[m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]] for doc in lines]


def test_overlapping_invocations_run_in_processes_of_their_own(
    folder: Path, functions: list[Functions], capsys: pytest.CaptureFixture[str]
) -> None:
    probes = runtime(functions, 2)
    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(probes.invoke, "probe", probe(folder, "First"))
        wait_recorded(folder, "First")
        # The second records and flushes while the first holds its metric unflushed: a buffer shared by
        # the two would publish "First" in the second's line and leave the first's flush empty.
        second = pool.submit(probes.invoke, "probe", probe(folder, "Second", released=True)).result(30)
        release(folder, "First")
        first = held.result(30)
    assert first["pid"] != second["pid"]  # two environments: two processes
    assert (first["invocations"], second["invocations"]) == (1, 1)  # module state is each one's own
    assert emf_metric_names(capsys.readouterr().out) == [["Second"], ["First"]]
    assert [(i.cold, i.throttled) for i in probes.invocations] == [(True, False), (True, False)]


def test_an_idle_environment_is_reused_and_a_busy_function_waits_beyond_its_concurrency(
    folder: Path, functions: list[Functions]
) -> None:
    probes = runtime(functions, 1)
    a = probes.invoke("probe", probe(folder, "A", released=True))
    b = probes.invoke("probe", probe(folder, "B", released=True))  # warm: the same environment again
    assert (b["pid"], b["invocations"]) == (a["pid"], 2)
    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(probes.invoke, "probe", probe(folder, "C"))
        wait_recorded(folder, "C")
        waiting = pool.submit(probes.invoke, "probe", probe(folder, "D", released=True))
        deadline = time.monotonic() + 10
        while probes.waiting["probe"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not waiting.done()  # no second environment: it waits for the first to be free
        release(folder, "C")
        assert [r["metric"] for r in (held.result(30), waiting.result(30))] == ["C", "D"]
    assert [(i.cold, i.throttled) for i in probes.invocations] == [
        (True, False),
        (False, False),
        (False, False),
        (False, True),
    ]


def test_beyond_its_concurrency_a_synchronous_invoke_is_throttled_at_once_and_an_event_source_one_waits(
    folder: Path, functions: list[Functions]
) -> None:
    """Lambda answers a synchronous Invoke beyond the function's concurrency with 429 TooManyRequestsException
    and does not run it; an event source mapping's poller backs off and tries again (here: waits)."""
    probes = runtime(functions, 1)
    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(probes.invoke, "probe", probe(folder, "Held"))
        wait_recorded(folder, "Held")
        with pytest.raises(Throttled):
            probes.invoke("probe", probe(folder, "Refused", released=True), synchronous=True)
        assert [t.function for t in probes.throttles] == ["probe"]
        polled = pool.submit(probes.invoke, "probe", probe(folder, "Polled", released=True))
        deadline = time.monotonic() + 10
        while probes.waiting["probe"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not polled.done()  # it waits for the one environment
        release(folder, "Held")
        assert [r["metric"] for r in (held.result(30), polled.result(30))] == ["Held", "Polled"]
    assert not (folder / "Refused.recorded").exists()  # the refused invocation never ran
    # With an environment idle again, a synchronous invoke runs in it.
    assert probes.invoke("probe", probe(folder, "Later", released=True), synchronous=True)["invocations"] == 3
    assert [(i.cold, i.throttled) for i in probes.invocations] == [(True, False), (False, True), (False, False)]
    assert len(probes.throttles) == 1


def test_an_environment_whose_process_dies_is_replaced_by_a_cold_one(folder: Path, functions: list[Functions]) -> None:
    probes = runtime(functions, 1)
    before = probes.invoke("probe", probe(folder, "A", released=True))
    with pytest.raises(FunctionError, match="Runtime.ExitError"):
        probes.invoke("probe", probe(folder, "B", exit=True))
    after = probes.invoke("probe", probe(folder, "C", released=True))
    assert after["pid"] != before["pid"] and after["invocations"] == 1
    assert [i.cold for i in probes.invocations] == [True, False, True]


def test_an_invocation_past_the_timeout_fails_and_its_environment_is_discarded(
    folder: Path, functions: list[Functions]
) -> None:
    probes = runtime(functions, 1, timeout_s=1.0)
    stuck = probes.invoke("probe", probe(folder, "warm", released=True))
    with pytest.raises(FunctionError, match="Task timed out"):
        probes.invoke("probe", probe(folder, "stuck", hold_s=60))
    after = probes.invoke("probe", probe(folder, "after", released=True))
    assert after["pid"] != stuck["pid"]


def test_a_handler_error_is_reported_with_its_type(folder: Path, functions: list[Functions]) -> None:
    probes = runtime(functions, 1)
    with pytest.raises(FunctionError, match="^TimeoutError: never released"):
        probes.invoke("probe", probe(folder, "never", hold_s=0.05))
    assert probes.invocations[-1].error == "TimeoutError: never released"


def test_the_function_s_logs_are_set_and_filtered_as_lambda_does_at_its_application_log_level(
    functions: list[Functions], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")  # Lambda's level outranks it, as deployed
    replies: list[Reply] = []
    probes = runtime(functions, 1, on_reply=lambda _, reply: replies.append(reply))
    assert probes.invoke("probe", {"log": True}) == {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"}
    lines = "".join(replies[-1].output).splitlines()
    messages = [json.loads(line)["message"] if line.startswith("{") else line for line in lines]
    assert messages == [
        "logger info",
        "logger warning",
        "printed Info",
        "printed WARN",
        "printed ERROR",
        "printed chatty",  # no valid level: INFO
        "printed DEBUG, no timestamp",  # no valid RFC 3339 timestamp: INFO
        "printed DEBUG, a date only",
        "printed plain text",
    ]


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("application_log_level", r'variable "application_log_level" \{.*?default\s*=\s*"(\w+)"'),
        ("log_format", r"logging_config \{.*?log_format\s*=\s*\"(\w+)\""),
    ],
)
def test_the_local_log_settings_are_the_functions_deployed_ones(name: str, pattern: str) -> None:
    module = Path("infra/terraform/modules/lambda_service")
    text = (module / "variables.tf").read_text() + (module / "main.tf").read_text()
    found = re.search(pattern, text, re.DOTALL)
    assert found is not None, name
    assert (
        found[1]
        == {"application_log_level": lambda_logs.APPLICATION_LOG_LEVEL, "log_format": lambda_logs.LOG_FORMAT}[name]
    )
