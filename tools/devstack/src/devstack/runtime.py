"""The services' real Lambda handlers, run as Lambda runs them: each execution environment a process of its
own (`devstack.environment`), one invocation at a time, scaled out up to the function's concurrency."""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from multiprocessing import forkserver
from multiprocessing.context import ForkServerContext
from typing import Any

from devstack.environment import Reply, Setup, serve

# Lambda function -> (module, attribute): the same entry points the Terraform wires.
FUNCTIONS: dict[str, tuple[str, str]] = {
    "initializer-api": ("initializer.entrypoints.api", "handler"),
    "initializer-relay": ("initializer.entrypoints.relay", "handler"),
    "initializer-outcome": ("initializer.entrypoints.outcome", "handler"),
    "finalizer": ("finalizer.entrypoints.charge", "handler"),
    "finalizer-refund": ("finalizer.entrypoints.refund", "handler"),
    "finalizer-capture": ("finalizer.entrypoints.capture", "handler"),
    "finalizer-relay": ("finalizer.entrypoints.relay", "handler"),
    "finalizer-webhook": ("finalizer.entrypoints.stripe_webhook", "handler"),
    "finalizer-sweep": ("finalizer.entrypoints.sweep", "handler"),
    "ledger": ("ledger.entrypoints.post", "handler"),
    "ledger-totals": ("ledger.entrypoints.totals", "handler"),
    "ledger-api": ("ledger.entrypoints.api", "handler"),
    "wallet": ("wallet.entrypoints.credit", "handler"),
    "wallet-api": ("wallet.entrypoints.api", "handler"),
    "wallet-relay": ("wallet.entrypoints.relay", "handler"),
    "notifier-api": ("notifier.entrypoints.api", "handler"),
    "notifier-record": ("notifier.entrypoints.record", "handler"),
    "notifier-deliver": ("notifier.entrypoints.deliver", "handler"),
}


# The function whose invocation's output the current thread is shipping (None otherwise: the event sources'
# polling, the harness), so its log lines and metrics are attributed to it as to its own process.
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
    init_ms: float = 0.0  # a cold invocation's init in its environment (Lambda's Init Duration)


@dataclass(frozen=True)
class Throttle:
    """A synchronous invocation Lambda refused: the function was at its concurrency (its Throttles metric)."""

    function: str
    at: float  # epoch seconds


class FunctionError(Exception):
    """The function failed (Lambda's errorType and errorMessage, as "Type: message")."""


class Throttled(Exception):
    """Lambda's 429 TooManyRequestsException to a synchronous Invoke beyond the function's concurrency: the
    function did not run (not a FunctionError)."""


# Environments are forked from a server that has imported the libraries and the services' modules once
# (devstack.preload); a fork straight from this process would copy the locks its threads hold.
PRELOAD = ["devstack.preload"]
_STARTING = threading.Lock()
_started = False


def _context() -> ForkServerContext:
    global _started
    context = multiprocessing.get_context("forkserver")
    with _STARTING:  # once, and never while another thread is changing the environment for it
        if _started:
            return context
        _started = True
        context.set_forkserver_preload(PRELOAD)
        # Python 3.12's forkserver drops the sys.path it is handed and skips a preload it cannot import: under
        # a PEX (`pants run`) nothing would be preloaded. It inherits the environment: PYTHONPATH as it starts.
        saved = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(sys.path)
        try:
            forkserver.ensure_running()
        finally:
            if saved is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = saved
    return context


class Environment:
    """One execution environment: a process with the entry point loaded, used one invocation at a time."""

    def __init__(self, function: str, entry_point: tuple[str, str], setup: Setup) -> None:
        context = _context()
        self._connection, child = context.Pipe()
        self.process = context.Process(
            target=serve, args=(child, function, *entry_point, setup), name=f"env-{function}", daemon=True
        )
        self.process.start()
        child.close()
        self.invocations = 0

    def invoke(self, event: Any, context_fields: dict[str, str], timeout_s: float) -> Reply:
        self._connection.send((event, context_fields))
        if not self._connection.poll(timeout_s):
            self.stop()
            raise FunctionError(f"Sandbox.Timedout: Task timed out after {timeout_s:.2f} seconds")
        try:
            reply: Reply = self._connection.recv()
        except EOFError:
            self.stop()
            raise FunctionError("Runtime.ExitError: the environment's process exited") from None
        return reply

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self._connection.close()


class Functions:
    def __init__(
        self,
        concurrency: dict[str, int] | None = None,
        entry_points: dict[str, tuple[str, str]] = FUNCTIONS,
        *,
        on_reply: Callable[[str, Reply], None] | None = None,
        put_events_entry_failure: float = 0.0,
        seed: int = 0,
        region: str = "eu-west-1",
        account: str = "123456789012",
        timeout_s: float = 60.0,
        keep_operations: bool = False,
    ) -> None:
        """concurrency: how many execution environments a function may have (default one). Each runs one
        invocation at a time; a busy function starts another, up to its concurrency; beyond it an event source's
        invocation waits (throttled: its mapping backs off and polls again), a synchronous one is refused (Throttled).
        on_reply: gets each invocation's spans and AWS calls (its printed lines go to this process' stdout);
        keep_operations: the replies also carry every AWS call as made.
        An environment starts with this process' environment variables as they are when it starts."""
        self._entry_points = entry_points
        self._limits = {f: (concurrency or {}).get(f, 1) for f in entry_points}
        self._idle: dict[str, list[Environment]] = {f: [] for f in entry_points}
        self._all: list[Environment] = []
        self._started = dict.fromkeys(entry_points, 0)
        self._free = threading.Condition()
        self.on_reply = on_reply
        self._keep_operations = keep_operations
        self._faults = (put_events_entry_failure, seed)
        self._account = (region, account)
        self._timeout_s = timeout_s
        self.waiting = dict.fromkeys(entry_points, 0)  # invocations throttled right now, per function
        self.invocations: list[Invocation] = []
        self.throttles: list[Throttle] = []  # synchronous invocations refused (those that waited are invocations)
        self.put_events_failed = 0  # injected PutEvents entry failures, all environments
        self._record_lock = threading.Lock()
        for module, _ in entry_points.values():
            if importlib.util.find_spec(module) is None:  # fails now on a missing entry point, not at its first event
                raise ModuleNotFoundError(module)

    def _setup(self) -> Setup:
        rate, seed = self._faults
        return Setup(
            dict(os.environ),
            *self._account,
            put_events_entry_failure=rate,
            seed=seed,
            keep_operations=self._keep_operations,
        )

    def _acquire(self, function: str, synchronous: bool) -> tuple[Environment, bool]:
        """A warm idle environment (the most recently used, as Lambda prefers), else a new one if the
        function may scale out, else the first one freed (Throttled at once for a synchronous caller). True
        when it had to wait."""
        throttled = False
        with self._free:
            while not self._idle[function] and self._started[function] >= self._limits[function]:
                if synchronous:
                    with self._record_lock:
                        self.throttles.append(Throttle(function, time.time()))
                    raise Throttled(f"TooManyRequestsException: Rate Exceeded. ({function})")
                throttled = True
                self.waiting[function] += 1
                self._free.wait()
                self.waiting[function] -= 1
            if self._idle[function]:
                return self._idle[function].pop(), throttled
            self._started[function] += 1
        try:
            environment = Environment(function, self._entry_points[function], self._setup())
        except BaseException:
            self._retire(function)
            raise
        with self._free:
            self._all.append(environment)
        return environment, throttled

    def _retire(self, function: str) -> None:
        with self._free:
            self._started[function] -= 1
            self._free.notify()

    def _release(self, function: str, environment: Environment) -> None:
        if not environment.alive:  # timed out or crashed: Lambda starts a fresh one next time
            with self._free:
                self._all.remove(environment)
            self._retire(function)
            return
        with self._free:
            self._idle[function].append(environment)
            self._free.notify()

    def invoke(self, function: str, event: dict[str, Any], *, synchronous: bool = False) -> Any:
        """synchronous: a caller waiting for the answer (API Gateway, a function URL), which Lambda refuses with
        429 beyond the function's concurrency rather than queueing it; an event source's poller waits instead."""
        context = {
            "function_name": function,
            "aws_request_id": str(uuid.uuid4()),
            "invoked_function_arn": f"arn:aws:lambda:eu-west-1:000000000000:function:{function}",
        }
        environment, throttled = self._acquire(function, synchronous)
        try:
            cold = environment.invocations == 0
            environment.invocations += 1
            started, began = time.time(), time.perf_counter()
            error: str | None = None
            init_ms = 0.0
            try:
                reply = environment.invoke(event, context, self._timeout_s)
                error, init_ms = reply.error, reply.init_ms
                self._ship(function, reply)
            except FunctionError as failure:
                error = str(failure)
                raise
            finally:
                duration_ms = (time.perf_counter() - began) * 1000
                record = Invocation(function, started, duration_ms, error, cold, throttled, init_ms)
                with self._record_lock:
                    self.invocations.append(record)
            if reply.error is not None:
                raise FunctionError(reply.error)
            return reply.response
        finally:
            self._release(function, environment)

    def _ship(self, function: str, reply: Reply) -> None:
        """The invocation's output, as the function's own: lines to stdout, the rest to on_reply."""
        shipping = CURRENT_FUNCTION.set(function)
        try:
            for text in reply.output:
                sys.stdout.write(text)
        finally:
            CURRENT_FUNCTION.reset(shipping)
        with self._record_lock:
            self.put_events_failed += reply.put_events_failed
        if self.on_reply is not None:
            self.on_reply(function, reply)

    def retire_idle(self, function: str) -> int:
        """Stops the function's idle environments, as Lambda does when its configuration changes: the next
        invocations start new ones with this process' environment variables as they are then. How many stopped."""
        with self._free:
            retired, self._idle[function] = self._idle[function], []
            for environment in retired:
                self._all.remove(environment)
                self._started[function] -= 1
            self._free.notify_all()
        for environment in retired:
            environment.stop()
        return len(retired)

    def close(self) -> None:
        """Stops every environment (they are daemons too: they never outlive this process)."""
        with self._free:
            environments, self._all = self._all, []
        for environment in environments:
            environment.stop()
