"""The services' real Lambda handlers, invoked in-process like Lambda would, with invocation records."""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from devstack.aws_calls import acting_as
from payments_testing.aws import LambdaContext

# Lambda function -> (module, attribute): the same entry points the Terraform wires.
FUNCTIONS: dict[str, tuple[str, str]] = {
    "initializer-api": ("initializer.entrypoints.api", "handler"),
    "initializer-relay": ("initializer.entrypoints.relay", "handler"),
    "initializer-outcome": ("initializer.entrypoints.outcome", "handler"),
    "finalizer": ("finalizer.entrypoints.charge", "handler"),
    "finalizer-relay": ("finalizer.entrypoints.relay", "handler"),
    "ledger": ("ledger.entrypoints.post", "handler"),
    "ledger-totals": ("ledger.entrypoints.totals", "handler"),
    "ledger-api": ("ledger.entrypoints.api", "handler"),
    "wallet": ("wallet.entrypoints.credit", "handler"),
    "wallet-api": ("wallet.entrypoints.api", "handler"),
}


# The function whose invocation the current thread is running (None outside invocations: the event
# sources' polling, the harness), so telemetry can be attributed as each function's own process would be.
CURRENT_FUNCTION: ContextVar[str | None] = ContextVar("current_function", default=None)


def service_of(function: str) -> str:
    return function.split("-")[0]


@dataclass(frozen=True)
class Invocation:
    function: str
    started: float  # epoch seconds
    duration_ms: float
    error: str | None
    cold: bool
    throttled: bool = False  # every execution environment was busy: it waited, as a throttled retry would


class Functions:
    def __init__(self, concurrency: dict[str, int] | None = None) -> None:
        """concurrency: how many invocations of a function may run at once (default one), as Lambda runs
        that many execution environments. Ours share one module, so concurrent invocations also share its
        logger keys and metrics buffer: each metric is still flushed once, a log line may carry a
        neighbour's event id. Correctness is what concurrency is for here: transactions overlap as deployed."""
        self._handlers: dict[str, Any] = {}
        self._slots = {f: threading.BoundedSemaphore((concurrency or {}).get(f, 1)) for f in FUNCTIONS}
        self._warm: set[str] = set()
        self.invocations: list[Invocation] = []
        self._record_lock = threading.Lock()
        for function, (module, attribute) in FUNCTIONS.items():
            self._handlers[function] = getattr(importlib.import_module(module), attribute)

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        context = LambdaContext(
            function_name=function,
            aws_request_id=str(uuid.uuid4()),
            invoked_function_arn=f"arn:aws:lambda:eu-west-1:000000000000:function:{function}",
        )
        slot = self._slots[function]
        throttled = not slot.acquire(blocking=False)
        if throttled:
            slot.acquire()
        try:
            with self._record_lock:
                cold = function not in self._warm
                self._warm.add(function)
            started = time.time()
            began = time.perf_counter()
            error: str | None = None
            running = CURRENT_FUNCTION.set(function)
            try:
                with acting_as(function):  # its calls are made with the function's role
                    return self._handlers[function](event, context)
            except Exception as failure:
                error = f"{type(failure).__name__}: {failure}"[:300]
                raise
            finally:
                CURRENT_FUNCTION.reset(running)
                record = Invocation(function, started, (time.perf_counter() - began) * 1000, error, cold, throttled)
                with self._record_lock:
                    self.invocations.append(record)
        finally:
            slot.release()
