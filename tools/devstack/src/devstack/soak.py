"""A soak: payments arriving at a fixed rate for a fixed time (open loop), and the run's own records checked.

    ./pants run tools/devstack -- --rate 5 --duration 600     # 5 payments/s for 10 minutes

Arrivals are scheduled at i / rate and each is sent on time by a pool of senders, whatever the stack answers: a
stack that cannot keep up shows a backlog in its queues and a growing time to final status, not a slower sender
(a closed loop of N clients would slow down with it and hide that). The end checks are the normal run's (every
accepted payment final, ledger and wallets as expected, nothing in a DLQ), plus what the records show:

- no invocation timed out (the local runtime kills an environment past the function's timeout and records the
  invocation's error as Lambda's "Sandbox.Timedout: Task timed out after … seconds"), counted per function;
- Stripe's limits never hit and the finalizer's request budget never exceeded: the fake PSP limits the account
  as a Stripe sandbox does (25 requests/s in all and per endpoint; docs.stripe.com/rate-limits), every request it
  receives is timed, and the most in any 1 s window is compared with the budget the finalizer's environments
  share (STRIPE_REQUESTS_PER_S each, configured here as Terraform does: the budget / the mapping's concurrency);
- the backlog over time (every consumer queue's depth, sampled) and the throughput per minute (payments final,
  from the outcome consumer's TimeToFinalStatus metric in the handlers' EMF lines), with the machine's load.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fake_psp.rate_limits import RateLimits, Refusal

from devstack import resources
from devstack.aws_calls import acting_as
from devstack.load import TRY_AGAIN, Sent, backoff, http, order, settle
from devstack.moto_local import client
from devstack.report import Report, percentiles
from devstack.runtime import Invocation
from devstack.sigv4 import Keyring

# The soak's mix: payments that need nobody after the POST (no buyer on a 3-D Secure page, no merchant capturing),
# so every arrival is one request and the stack alone decides how fast it ends.
SOAK_MIX = [("approve", 0.75), ("decline", 0.15), ("refuse", 0.05), ("invalid", 0.05)]
# A Stripe sandbox's limits (docs.stripe.com/rate-limits: "25 requests per second" in a sandbox, and an endpoint's
# 25/s unless stated): the fake answers 429 beyond, as Stripe does.
STRIPE_SANDBOX_PER_S = 25
# The finalizer's Stripe budget in all, as infra/terraform/services/finalizer/main.tf deploys it
# (stripe_request_budget_per_s's default), divided among the charge mapping's environments.
STRIPE_REQUEST_BUDGET_PER_S = 20
STRIPE_REQUEST_WAIT_S = 1  # the Terraform's stripe_request_wait_s
TIMED_OUT = "Sandbox.Timedout"
SAMPLE_PERIOD_S = 5.0
SENDERS = 64  # enough threads that a slow answer never delays the next arrival
ATTEMPTS = 5  # a POST unanswered (30 s each) is sent again under its key up to this many times in all


def arrival_times(rate_per_s: float, duration_s: float) -> list[float]:
    """When each payment is sent, in seconds from the start: evenly spaced at the rate, over the duration."""
    if rate_per_s <= 0 or duration_s <= 0:
        raise ValueError(f"a soak needs a rate and a duration above 0, not {rate_per_s}/s for {duration_s} s")
    return [i / rate_per_s for i in range(math.floor(rate_per_s * duration_s))]


def charge_environments() -> int:
    """The most finalizer environments charging at once: its mapping's maximum concurrency (consumers.json)."""
    return resources.CHARGE_MAPPING.maximum_concurrency


def budget_environment(
    budget_per_s: float = STRIPE_REQUEST_BUDGET_PER_S, environments: int | None = None, charge_concurrency: int = 10
) -> dict[str, str]:
    """The finalizer's token bucket as Terraform configures it: each environment its share of the budget, a burst
    of one batch's records charged at once, a second's wait for a token."""
    return {
        "STRIPE_REQUESTS_PER_S": str(budget_per_s / (environments or charge_environments())),
        "STRIPE_REQUEST_BURST": str(charge_concurrency),
        "STRIPE_REQUEST_WAIT_S": str(STRIPE_REQUEST_WAIT_S),
        "FINALIZER_CHARGE_CONCURRENCY": str(charge_concurrency),
    }


class TimedLimits(RateLimits):
    """The fake PSP's rate limits, also keeping when each request came (epoch seconds) and whether it was refused."""

    def __init__(self, wall: Callable[[], float] = time.time, **limits: Any) -> None:
        super().__init__(**limits)
        self._wall = wall
        self.seen: list[tuple[float, str, bool]] = []  # (when, endpoint, refused)

    def refuse(self, method: str, path: str) -> Refusal | None:
        refusal = super().refuse(method, path)
        self.seen.append((self._wall(), f"{method.upper()} {path.partition('?')[0]}", refusal is not None))
        return refusal


def most_in_window(times: Iterable[float], window_s: float = 1.0) -> int:
    """The most events in any window of `window_s` (a sliding window, as a per-second limit is felt)."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= window_s:
            first += 1
        most = max(most, last - first + 1)
    return most


def timeouts(invocations: Iterable[Invocation]) -> dict[str, int]:
    """Invocations the runtime killed at the function's timeout, per function."""
    return dict(Counter(i.function for i in invocations if i.error and i.error.startswith(TIMED_OUT)))


@dataclass(frozen=True)
class Sample:
    at: float  # epoch seconds
    depths: dict[str, int]  # queue → messages waiting + in flight
    load_1m: float


def per_minute(times: Iterable[float], start: float) -> list[int]:
    """How many events fell in each whole minute from `start` (the last minute may be partial)."""
    counts: Counter[int] = Counter(int((t - start) // 60) for t in times if t >= start)
    return [counts[m] for m in range(max(counts) + 1)] if counts else []


def final_times(emf_lines: Iterable[str]) -> list[tuple[float, float]]:
    """(epoch seconds recorded, time to final status in ms) from the outcome consumer's EMF metric lines."""
    found: list[tuple[float, float]] = []
    for line in emf_lines:
        if '"TimeToFinalStatus"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        values = record.get("TimeToFinalStatus")
        at = record.get("_aws", {}).get("Timestamp", 0) / 1000
        for value in values if isinstance(values, list) else [values]:
            found.append((at, float(value)))
    return found


def growing(values: Sequence[float], slack: float) -> bool:
    """The series' last point is above its first by more than half again plus `slack`: not keeping up."""
    return len(values) >= 2 and values[-1] > 1.5 * values[0] + slack


@dataclass
class Soak:
    rate_per_s: float
    duration_s: float
    budget_per_s: float
    start: float  # epoch seconds of the first arrival
    accepted_at: list[float] = field(default_factory=list)  # when each POST answered 201 went out
    send_errors: list[str] = field(default_factory=list)  # POSTs that got no answer at all
    resent: int = 0  # POSTs sent again after no answer
    throttled: int = 0  # POSTs sent again after a TRY_AGAIN answer (500, 503, 429)
    lag_s: list[float] = field(default_factory=list)  # how late each went out against its schedule
    samples: list[Sample] = field(default_factory=list)

    def summary(
        self,
        sent: Sequence[Sent],
        lost: Sequence[str],
        invocations: Iterable[Invocation],
        psp_requests: Sequence[tuple[float, str, bool]],
        finals: Sequence[tuple[float, float]],
    ) -> dict[str, Any]:
        """The soak's figures and its problems (a lost payment, a timeout, a 429, the budget exceeded)."""
        timed_out = timeouts(invocations)
        refused = [r for r in psp_requests if r[2]]
        most = most_in_window([at for at, _, _ in psp_requests])
        accepted = self.accepted_at
        backlog = [sum(s.depths.values()) for s in self.samples]
        deepest_by_minute: dict[int, int] = defaultdict(int)
        for sample, depth in zip(self.samples, backlog, strict=True):
            minute = int((sample.at - self.start) // 60)
            deepest_by_minute[minute] = max(deepest_by_minute[minute], depth)
        backlog_per_minute = [deepest_by_minute[m] for m in sorted(deepest_by_minute)]
        by_minute: dict[int, list[float]] = defaultdict(list)
        finals = [(at, waited_ms) for at, waited_ms in finals if at >= self.start]  # not the warm-up's
        for at, waited_ms in finals:
            by_minute[int((at - self.start) // 60)].append(waited_ms)
        ttf_p50_per_minute = [percentiles(by_minute[m]).get("p50", 0.0) for m in sorted(by_minute)]
        problems = [f"{len(lost)} accepted payments not final"] if lost else []
        problems += [f"a POST got no answer: {error}" for error in self.send_errors[:5]]
        problems += [f"{function}: {n} invocations timed out" for function, n in sorted(timed_out.items())]
        if refused:
            problems.append(f"Stripe answered {len(refused)} requests 429 ({dict(Counter(e for _, e, _ in refused))})")
        if most > self.budget_per_s:
            problems.append(f"{most} PSP requests in one second, over the finalizer's budget of {self.budget_per_s}/s")
        return {
            "rate_per_s": self.rate_per_s,
            "duration_s": self.duration_s,
            "sent": len(sent),
            "accepted": len(accepted),
            "lost": len(lost),
            "send_lag_ms": percentiles([lag * 1000 for lag in self.lag_s]),
            "resent_after_no_answer": self.resent,
            "resent_after_throttle": self.throttled,
            "timeouts": timed_out,
            "psp_requests": len(psp_requests),
            "psp_429s": len(refused),
            "psp_most_per_s": most,
            "budget_per_s": self.budget_per_s,
            "accepted_per_minute": per_minute(accepted, self.start),
            "final_per_minute": per_minute([at for at, _ in finals], self.start),
            "time_to_final_ms": percentiles([w for _, w in finals]),
            "time_to_final_p50_per_minute": ttf_p50_per_minute,
            "backlog_max_per_minute": backlog_per_minute,
            "backlog_max": max(backlog, default=0),
            "deepest": _deepest(self.samples),
            "load_1m": percentiles([s.load_1m for s in self.samples]),
            # Sustained: the queues' backlog and the buyers' wait no worse at the end than at the start.
            "sustained": not growing(backlog_per_minute, slack=2 * self.rate_per_s)
            and not growing(ttf_p50_per_minute, slack=1000.0),
            "problems": problems,
        }


def _deepest(samples: Sequence[Sample]) -> dict[str, int]:
    deepest: dict[str, int] = {}
    for s in samples:
        for queue, depth in s.depths.items():
            deepest[queue] = max(deepest.get(queue, 0), depth)
    return {q: d for q, d in sorted(deepest.items()) if d}


def render(figures: dict[str, Any]) -> list[str]:
    return [
        f"soak                   {figures['rate_per_s']}/s for {figures['duration_s']} s: {figures['sent']} sent, "
        f"{figures['accepted']} accepted, {figures['lost']} lost; send lag (ms) {figures['send_lag_ms']}; "
        f"{figures['resent_after_no_answer']} POSTs sent again after no answer, "
        f"{figures.get('resent_after_throttle', 0)} after a 500/503/429",
        f"timeouts               {sum(figures['timeouts'].values())} {figures['timeouts']}",
        f"PSP requests           {figures['psp_requests']}, 429s {figures['psp_429s']}, most in 1 s "
        f"{figures['psp_most_per_s']} (budget {figures['budget_per_s']}/s)",
        f"accepted per minute    {figures['accepted_per_minute']}",
        f"final per minute       {figures['final_per_minute']}",
        f"time to final (ms)     {figures['time_to_final_ms']}; "
        f"p50 per minute {figures['time_to_final_p50_per_minute']}",
        f"backlog (max/minute)   {figures['backlog_max_per_minute']}; deepest {figures['deepest']}",
        f"machine load (1 min)   {figures['load_1m']}",
        f"sustained              {'yes' if figures['sustained'] else 'NO'}",
    ]


class QueueSampler(threading.Thread):
    """Every consumer queue's depth (waiting + in flight) every SAMPLE_PERIOD_S, as the harness (no function's role)."""

    def __init__(self, queues: dict[str, str], into: list[Sample], stop: threading.Event) -> None:
        super().__init__(name="soak-sampler", daemon=True)
        self._queues, self._into, self._halt = queues, into, stop
        self._sqs = client("sqs")

    def run(self) -> None:
        counts = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        with acting_as(None):
            while not self._halt.wait(SAMPLE_PERIOD_S):
                depths = {}
                for name, url in self._queues.items():
                    attributes = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=counts)["Attributes"]
                    depths[name] = sum(int(attributes[c]) for c in counts)
                self._into.append(Sample(time.time(), depths, os.getloadavg()[0]))


def drive_open_loop(api_url: str, keys: Keyring, soak: Soak, seed: int, progress: bool = True) -> list[Sent]:
    """Sends payment i at start + i / rate from a pool of senders, whether or not the earlier ones were answered."""
    schedule = arrival_times(soak.rate_per_s, soak.duration_s)
    rng = random.Random(seed)
    kinds = [rng.choices([k for k, _ in SOAK_MIX], [w for _, w in SOAK_MIX])[0] for _ in schedule]
    bodies = [order(kind, rng) for kind in kinds]
    sent: list[Sent | None] = [None] * len(schedule)
    soak.lag_s[:] = [0.0] * len(schedule)
    began = time.monotonic()
    soak.start = time.time()

    def send(index: int) -> None:
        soak.lag_s[index] = time.monotonic() - began - schedule[index]
        at, started = time.time(), time.perf_counter()
        # A client that got no answer sends the same request again under the same Idempotency-Key, as a merchant's
        # back end does: the order the stack may have made meanwhile is then the answer, and the books count it.
        # An answer saying "try again" (TRY_AGAIN: a throttled function's 500, a throttled table's 503) likewise,
        # after a backoff.
        for attempt in range(1, ATTEMPTS + 1):
            try:
                status, body = http(
                    "POST",
                    f"{api_url}/payments",
                    bodies[index],
                    {"Idempotency-Key": f"soak-{seed}-{index}"},
                    signer=keys.merchant(bodies[index]["merchant_id"]),
                )
            except OSError as error:  # a refused connection or a timeout (urllib's errors are OSErrors)
                if attempt == ATTEMPTS:
                    soak.send_errors.append(f"payment {index}: {error!r}")
                    return
                soak.resent += 1
                continue
            if status not in TRY_AGAIN or attempt == ATTEMPTS:
                break
            soak.throttled += 1
            time.sleep(backoff(attempt - 1))
        if status == 201:
            soak.accepted_at.append(at)
        sent[index] = Sent(kinds[index], status, body, (time.perf_counter() - started) * 1000, posted_at=at)

    with ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="soak-sender") as pool:
        for index, due in enumerate(schedule):
            wait = began + due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            pool.submit(send, index)
            if progress and index % max(1, int(soak.rate_per_s * 10)) == 0:
                sys.stderr.write(f"\r  soak {index}/{len(schedule)} sent, {time.monotonic() - began:.0f} s")
                sys.stderr.flush()
    if progress:
        sys.stderr.write("\n")
    return [s for s in sent if s is not None]


def warm_up(api_url: str, keys: Keyring, seed: int, timeout_s: float) -> tuple[list[Sent], dict[str, dict[str, Any]]]:
    """A few payments sent one by one and awaited before the clock starts, and the books read once: the execution
    environments on the path are started (minutes on a busy machine), so the soak measures the stack, not its cold
    start. They count in the books as any payment does."""
    rng = random.Random(f"warm-{seed}")
    sent = []
    for index, kind in enumerate(("approve", "decline")):
        body = order(kind, rng)
        status, answer = http(
            "POST", f"{api_url}/payments", body, {"Idempotency-Key": f"soak-warm-{seed}-{index}"},
            signer=keys.merchant(body["merchant_id"]), timeout=timeout_s,
        )  # fmt: skip
        sent.append(Sent(kind, status, answer, 0.0))  # no posted_at: not in the time to final status
    final = settle(api_url, keys, sent, timeout_s)
    http("GET", f"{api_url}/ledger/trial-balance", signer=keys.operator, timeout=timeout_s)
    return sent, final


def settle_patiently(api_url: str, keys: Keyring, sent: Sequence[Sent], timeout_s: float) -> dict[str, dict[str, Any]]:
    """load.settle, but a GET the loaded stack did not answer in time is asked again next round, not fatal."""
    final: dict[str, dict[str, Any]] = {}
    pending = [s for s in sent if s.status == 201]
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        try:
            found = settle(api_url, keys, pending, timeout_s=max(1.0, deadline - time.monotonic()))
        except OSError:  # a timed-out or refused GET (urllib's URLError and TimeoutError are OSErrors)
            time.sleep(1.0)
            continue
        final.update(found)
        break
    return final


def emf_lines(logs: Path) -> list[str]:
    return logs.read_text().splitlines() if logs.exists() else []


def attach(report: Report, figures: dict[str, Any]) -> Report:
    """The soak's figures into the run's report: its lines printed before RESULT, its problems failing it."""
    report.soak = {**figures, "lines": render(figures)}
    return report


def run(args: Any) -> int:
    """The soak on a fresh local stack: `args` as main.parse gives them (rate, duration, seed, logs…)."""
    from devstack.stack import Devstack

    # The finalizer's environments take their token bucket from the environment they start with.
    os.environ.update(budget_environment())
    stack = Devstack(api_port=args.port, psp_503_rate=args.psp_503_rate, psp_latency=args.psp_latency, logs=args.logs)
    limits = TimedLimits(global_per_s=STRIPE_SANDBOX_PER_S, endpoint_per_s=STRIPE_SANDBOX_PER_S, seed=args.seed)
    stack.psp.rate_limits = limits
    out = stack.console
    stop = threading.Event()
    try:
        print(f"local API      {stack.api.url}  (soak: {args.rate}/s for {args.duration} s)", file=out)
        warm, warm_final = warm_up(stack.api.url, stack.keys, args.seed, timeout_s=600)
        print(f"warmed up      {dict(Counter(str(b.get('status')) for b in warm_final.values()))}", file=out)
        soak = Soak(args.rate, args.duration, STRIPE_REQUEST_BUDGET_PER_S, start=time.time())
        sampler = QueueSampler(dict(stack.provisioned.queues), soak.samples, stop)
        sampler.start()
        sent = drive_open_loop(stack.api.url, stack.keys, soak, args.seed)
        answers = dict(Counter(str(s.status) for s in sent))
        print(f"sent           {answers}, no answer {len(soak.send_errors)}", file=out)
        final = settle_patiently(stack.api.url, stack.keys, sent, args.settle_timeout)
        stop.set()
        sampler.join(timeout=10)
        report = stack.report(warm + sent, {**warm_final, **final})
        report.iam = stack.iam_check()
        finals = final_times(emf_lines(args.logs))
        figures = soak.summary(sent, report.lost, stack.functions.invocations, limits.seen, finals)
        attach(report, figures)
        print(report.render(), file=out)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(report.as_dict(), indent=2) + "\n")
        return 0 if report.ok else 1
    finally:
        stop.set()
        stack.stop()
