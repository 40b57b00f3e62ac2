"""One Lambda execution environment: a process of its own that loads one entry point (its init phase) and
then runs invocations one at a time, as Lambda's runtime does.

What the function prints (JSON logs, EMF metrics), the spans it makes and the AWS calls its role makes are
handed back with each invocation's answer, for the local run to ship as CloudWatch, the OneAgent and IAM
would see them.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from devstack import lambda_logs, span_transport
from devstack.aws_calls import CallLog
from devstack.faults import Faults, FlakyEventBridge
from payments_shared.observability.tracing import configure_sdk
from payments_testing.aws import LambdaContext
from payments_testing.iam.calls import Authorization

# Modules whose container publishes to EventBridge: PutEvents' partial failures are injected there.
PUBLISHERS = ("initializer.runtime", "finalizer.runtime")


@dataclass(frozen=True)
class Setup:
    """What an environment needs besides its entry point: the process environment it starts with (Lambda's
    configuration) and the faults it injects into its own calls."""

    environ: dict[str, str]
    region: str
    account: str
    put_events_entry_failure: float = 0.0
    seed: int = 0
    keep_operations: bool = False  # hand back every AWS call as made (benchmarks count and replay them)


@dataclass
class Reply:
    """An invocation's result and what it left behind."""

    response: Any = None
    error: str | None = None  # "ErrorType: message", as Lambda reports a function error
    # The lines it printed that Lambda keeps (lambda_logs), EMF included.
    output: list[str] = field(default_factory=list)
    spans: list[dict[str, Any]] = field(default_factory=list)
    calls: Counter[Authorization] = field(default_factory=Counter)
    unmapped: list[str] = field(default_factory=list)
    operations: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # when kept
    put_events_failed: int = 0  # injected PutEvents entry failures
    init_ms: float = 0.0  # the environment's init (Lambda's Init Duration), on its first reply only


class Output:
    """The process' stdout: kept until the invocation ends, then handed back (CloudWatch gets it async)."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, text: str) -> int:
        self.written.append(text)
        return len(text)

    def flush(self) -> None:
        return

    def drain(self) -> list[str]:
        written, self.written = self.written, []
        return written


def serve(connection: Connection, function: str, module: str, attribute: str, setup: Setup) -> None:
    """The environment's main loop (the process' target): init, then one invocation per message."""
    began = time.perf_counter()
    os.environ.clear()
    os.environ.update(setup.environ)
    os.environ.update(lambda_logs.ENVIRONMENT)  # as Lambda sets them for the functions' logging_config
    output = Output()
    sys.stdout = output  # before the entry point's loggers are built: they bind the stream they find
    spans = InMemorySpanExporter()
    configure_sdk(spans, service_name="payments-local")  # the OneAgent's part, deployed
    # Every call of this process is made with the function's role.
    calls = CallLog(setup.region, setup.account, function, setup.keep_operations).install()
    handler: Any = None
    init_error: str | None = None
    buses: list[FlakyEventBridge] = []
    try:
        handler = getattr(importlib.import_module(module), attribute)
        buses = _inject_put_events_failures(setup)
    except Exception as failure:  # noqa: BLE001 - Lambda answers every invocation with the init error
        init_error = f"Runtime.ImportModuleError: {type(failure).__name__}: {failure}"[:300]
    init_ms = (time.perf_counter() - began) * 1000
    while True:
        try:
            event, context_fields = connection.recv()
        except EOFError:  # the runtime is gone: so is this environment
            return
        reply = Reply(error=init_error, init_ms=init_ms)
        init_ms = 0.0
        if handler is not None:
            try:
                reply.response = handler(event, LambdaContext(**context_fields))
            except Exception as failure:  # noqa: BLE001 - reported, as Lambda reports a function error
                reply.error = f"{type(failure).__name__}: {failure}"[:300]
        reply.output = lambda_logs.sent(output.drain())  # what Lambda lets through to the log group
        reply.spans = [span_transport.portable(s) for s in spans.get_finished_spans()]
        spans.clear()
        reply.calls, reply.unmapped, reply.operations = calls.drain()
        reply.put_events_failed = sum(bus.drain() for bus in buses)
        connection.send(reply)


def _inject_put_events_failures(setup: Setup) -> list[FlakyEventBridge]:
    if setup.put_events_entry_failure <= 0:
        return []
    faults = Faults(put_events_entry_failure=setup.put_events_entry_failure, seed=setup.seed + os.getpid())
    buses = []
    for name in PUBLISHERS:
        if name in sys.modules:
            container = sys.modules[name].container
            bus = FlakyEventBridge(container.events(), faults)
            container.events.override(bus)
            buses.append(bus)
    return buses
