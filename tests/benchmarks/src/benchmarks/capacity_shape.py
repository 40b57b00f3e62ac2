"""The capacity model's shape on the local stack (issue 32, docs/capacity.md): the charge path's throughput against
the finalizer's concurrency and the PSP's latency, predicted vs measured, in one run.

finalizer_throughput.py measures the handler in-process; this goes through the local stack: payments POSTed to the
API, their PaymentInitiated events through the relay, the bus and the finalizer's queue, its event source mapping
handing batches to execution environments in processes of their own, the fake PSP over HTTP. For each setting the
finalizer's queue is first filled (its mapping held back), then released: measured = payments / the time until the
queue has drained (a message is deleted only once its batch's handler returned). Each setting's environments are
started and warmed by one unmeasured round first, so cold starts are not in the figure.

Predicted (docs/capacity.md): batches * records / (ceil(records / concurrency) * L), with batches = the mapping's
maximum concurrency, records = its batch size, concurrency = FINALIZER_CHARGE_CONCURRENCY and L the PSP's latency:
fixed, or with the Stripe-like model ("stripe") a wave's slowest charge (Lognormal.expected_slowest), which the
cost model and capacity.md take a wave to last.
The local store, queue and process hops add to every batch: the ratio says how much of a batch's time is the PSP's.
No timing assertions; the finalizer's Stripe request budget is off here (it is what is being sized).
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from devstack import resources
from devstack.load import drive
from devstack.moto_local import client
from devstack.pumps import QueuePump
from devstack.stack import Devstack
from fake_psp.latency import Fixed, StripeLike

from benchmarks.flow import charge_batch_seconds

# The finalizer's event source mapping as contracts/consumers.json sets it (its own queue block over the shared one).
MAPPING = resources.CHARGE_MAPPING
RECORDS = MAPPING.batch_size
# (mapping's maximum concurrency, FINALIZER_CHARGE_CONCURRENCY, PSP latency: seconds, or STRIPE): the sequential
# handler and the concurrent one at one batch, then more batches, then a slower PSP, then the Stripe-like one.
STRIPE = "stripe"
Latency = float | str
SETTINGS: tuple[tuple[int, int, Latency], ...] = (
    (1, 1, 0.5),
    (1, 10, 0.5),
    (2, 10, 0.5),
    (4, 10, 0.5),
    (2, 10, 2.0),
    (4, 10, 2.0),
    (2, 10, STRIPE),
    (4, 10, STRIPE),
)


def predicted_per_s(batches: int, records: int, concurrency: int, latency: Latency) -> float:
    """docs/capacity.md's formula: each batch charges its records `concurrency` at a time, L per wave (the Stripe-like
    model's: the wave's slowest charge)."""
    if latency == STRIPE:
        return batches * records / charge_batch_seconds(records, concurrency)
    return batches * records / (math.ceil(records / concurrency) * float(latency))


def _name(batches: int, concurrency: int, latency: Latency) -> str:
    psp = STRIPE if latency == STRIPE else f"{int(float(latency) * 1000)}ms"
    return f"batches_{batches}_concurrency_{concurrency}_psp_{psp}"


class HeldMapping:
    """The finalizer's event source mapping held back: its in-flight permits taken, `batches` of them given back."""

    def __init__(self, pump: QueuePump, maximum: int) -> None:
        self._permits = pump._in_flight  # the mapping's own bound on batches in flight
        self._maximum = maximum
        self._held = 0

    def hold(self) -> None:
        while self._held < self._maximum:
            self._permits.acquire()
            self._held += 1

    def release_all(self) -> None:
        self.allow(self._held)

    def allow(self, batches: int) -> None:
        for _ in range(batches):
            self._permits.release()
            self._held -= 1


def _visible(queue_url: str) -> tuple[int, int]:
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def _wait(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} after {timeout_s} s")
        time.sleep(0.05)


def _round(stack: Devstack, mapping: HeldMapping, queue_url: str, batches: int, seed: int, timeout_s: float) -> float:
    """Fills the held queue with batches * RECORDS payments, releases `batches` in flight: seconds to drain it."""
    payments = batches * RECORDS
    sent = drive(stack.api.url, stack.keys, payments, 4, seed, progress=False, mix=[("approve", 1.0)], token_share=1.0)
    accepted = sum(1 for s in sent if s.status == 201)
    _wait(lambda: _visible(queue_url)[0] >= accepted, timeout_s, f"the finalizer's queue short of {accepted}")
    started = time.perf_counter()
    mapping.allow(batches)
    _wait(lambda: _visible(queue_url) == (0, 0), timeout_s, "the finalizer's queue not drained")
    elapsed = time.perf_counter() - started
    mapping.hold()
    return accepted / elapsed


def run(settings: tuple[tuple[int, int, Latency], ...] = SETTINGS, timeout_s: float = 600.0) -> dict[str, Any]:
    saved = os.environ.get("FINALIZER_CHARGE_CONCURRENCY")
    with tempfile.TemporaryDirectory() as logs:
        # A fixed latency from the start: the SDK's read timeout is then set to outlast the model's longest answer.
        stack = Devstack(logs=Path(logs) / "lambda-logs.jsonl", psp_latency="fixed:500")
        try:
            pump = next(p for p in stack._pumps if isinstance(p, QueuePump) and p.name == "queue-finalizer")
            queue_url = stack.provisioned.queues["finalizer"]
            mapping = HeldMapping(pump, MAPPING.maximum_concurrency)
            mapping.hold()
            results: dict[str, Any] = {"records_per_batch": RECORDS, "machine_load_1m_at_start": os.getloadavg()[0]}
            for n, (batches, concurrency, latency) in enumerate(settings):
                os.environ["FINALIZER_CHARGE_CONCURRENCY"] = str(concurrency)
                stack.functions.retire_idle("finalizer")  # the next environments start with the new setting
                # The fake PSP's latency (fake_psp.latency): fixed, or the Stripe-like model with a seed per setting.
                stack.psp.latency = StripeLike(n) if latency == STRIPE else Fixed(float(latency) * 1000)
                _round(stack, mapping, queue_url, batches, 1000 + n, timeout_s)  # warm: environments started
                before = len(stack.functions.invocations)
                measured = _round(stack, mapping, queue_url, batches, 2000 + n, timeout_s)
                invoked = [i for i in stack.functions.invocations[before:] if i.function == "finalizer"]
                predicted = predicted_per_s(batches, RECORDS, concurrency, latency)
                results[_name(batches, concurrency, latency)] = {
                    "predicted_per_s": predicted,
                    "measured_per_s": measured,
                    "measured_to_predicted": measured / predicted,
                    # A batch killed at the function's timeout is redelivered after the visibility timeout: it
                    # shows here, not as a silent drop in the figure.
                    "finalizer_invocations": len(invoked),
                    "finalizer_timeouts": sum(1 for i in invoked if (i.error or "").startswith("Sandbox.Timedout")),
                }
            results["machine_load_1m_at_end"] = os.getloadavg()[0]
            results["shape"] = _shape(results, settings)
            return results
        finally:
            mapping.release_all()  # the pump sees the stop, not a permit it waits for
            if saved is None:
                os.environ.pop("FINALIZER_CHARGE_CONCURRENCY", None)
            else:
                os.environ["FINALIZER_CHARGE_CONCURRENCY"] = saved
            stack.stop()


def _shape(results: dict[str, Any], settings: tuple[tuple[int, int, Latency], ...]) -> dict[str, Any]:
    """Each setting's gain over the first, predicted and measured: the model's shape is right when they agree."""
    keys = [_name(*setting) for setting in settings]
    base = results[keys[0]]
    return {
        key: {
            "predicted_gain": results[key]["predicted_per_s"] / base["predicted_per_s"],
            "measured_gain": results[key]["measured_per_s"] / base["measured_per_s"],
        }
        for key in keys[1:]
    }
