"""The services' real Lambda handlers, invoked in-process like Lambda would, with invocation records."""

from __future__ import annotations

import importlib
import importlib.util
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
    "finalizer-webhook": ("finalizer.entrypoints.stripe_webhook", "handler"),
    "finalizer-sweep": ("finalizer.entrypoints.sweep", "handler"),
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


@dataclass
class Environment:
    """One execution environment: the entry point's module loaded for it alone, used one invocation at a time."""

    handler: Any
    invocations: int = 0


def load_entry_point(module: str, attribute: str) -> Any:
    """The entry point, from a fresh copy of its module (its init phase). Its module-level state, such as
    its Metrics buffer, is then this environment's own, as in a process of its own; the modules it imports
    (runtime, container, logger) are loaded once and shared by every environment."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(module)
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    return getattr(copy, attribute)


class Functions:
    def __init__(
        self, concurrency: dict[str, int] | None = None, entry_points: dict[str, tuple[str, str]] = FUNCTIONS
    ) -> None:
        """concurrency: how many execution environments a function may have (default one). Each runs one
        invocation at a time; a busy function starts another, up to its concurrency, then waits (throttled).
        Environments are threads of this one process with their own entry-point module: they share the
        services' runtime modules, so a log line may carry a neighbour's event id (a process per environment
        is the aim). Correctness is what concurrency is for here: transactions overlap as deployed."""
        self._entry_points = entry_points
        self._limits = {f: (concurrency or {}).get(f, 1) for f in entry_points}
        self._idle: dict[str, list[Environment]] = {f: [] for f in entry_points}
        self._started = dict.fromkeys(entry_points, 0)
        self._free = threading.Condition()
        self.waiting = dict.fromkeys(entry_points, 0)  # invocations throttled right now, per function
        self.invocations: list[Invocation] = []
        self._record_lock = threading.Lock()
        for module, _ in entry_points.values():
            importlib.import_module(module)  # fails now on a broken entry point, not at its first event

    def _acquire(self, function: str) -> tuple[Environment, bool]:
        """A warm idle environment (the most recently used, as Lambda prefers), else a new one if the
        function may scale out, else the first one freed. True when it had to wait."""
        throttled = False
        with self._free:
            while not self._idle[function] and self._started[function] >= self._limits[function]:
                throttled = True
                self.waiting[function] += 1
                self._free.wait()
                self.waiting[function] -= 1
            if self._idle[function]:
                return self._idle[function].pop(), throttled
            self._started[function] += 1
        try:
            return Environment(load_entry_point(*self._entry_points[function])), throttled
        except BaseException:
            with self._free:
                self._started[function] -= 1
                self._free.notify()
            raise

    def _release(self, function: str, environment: Environment) -> None:
        with self._free:
            self._idle[function].append(environment)
            self._free.notify()

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        context = LambdaContext(
            function_name=function,
            aws_request_id=str(uuid.uuid4()),
            invoked_function_arn=f"arn:aws:lambda:eu-west-1:000000000000:function:{function}",
        )
        environment, throttled = self._acquire(function)
        try:
            cold = environment.invocations == 0
            environment.invocations += 1
            started = time.time()
            began = time.perf_counter()
            error: str | None = None
            running = CURRENT_FUNCTION.set(function)
            try:
                with acting_as(function):  # its calls are made with the function's role
                    return environment.handler(event, context)
            except Exception as failure:
                error = f"{type(failure).__name__}: {failure}"[:300]
                raise
            finally:
                CURRENT_FUNCTION.reset(running)
                record = Invocation(function, started, (time.perf_counter() - began) * 1000, error, cold, throttled)
                with self._record_lock:
                    self.invocations.append(record)
        finally:
            self._release(function, environment)
