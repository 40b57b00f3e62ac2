"""Fault injection for the local stack: what real queues, streams and APIs do on a bad day."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Faults:
    """Rates in [0, 1]. All zero: a well-behaved system."""

    psp: dict[str, float] = field(default_factory=dict)  # FakePsp behaviours: "503", "timeout", "lost"
    duplicate_delivery: float = 0.0  # EventBridge delivers an event twice
    consumer_crash_mid_batch: float = 0.0  # a consumer dies part-way through a batch: all of it redelivered
    dynamodb_refusals: float = 0.0  # transactions cancelled with TransactionConflict / throttling reasons
    relay_crash_after_publish: float = 0.0  # the relay published, then died before its checkpoint
    put_events_entry_failure: float = 0.0  # PutEvents answers with failed entries
    shuffle_deliveries: bool = False  # EventBridge gives no ordering guarantee
    webhook_duplicates: float = 0.0  # Stripe delivers a webhook event twice
    webhook_max_delay_s: float = 0.0  # each webhook event waits up to this long: late and out of order
    seed: int = 0
    injected: Counter[str] = field(init=False, default_factory=Counter)  # fault -> times it happened
    _random: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def happens(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._random.random() < rate

    def record(self, fault: str) -> None:
        with self._lock:
            self.injected[fault] += 1

    def pick(self, low: int, high: int) -> int:
        with self._lock:
            return self._random.randint(low, high)

    def shuffle(self, items: list[Any]) -> None:
        if self.shuffle_deliveries:
            with self._lock:
                self._random.shuffle(items)


class FlakyEventBridge:
    """Wraps the relays' EventBridge client: fails some entries the way PutEvents does (partial failure)."""

    def __init__(self, real: Any, faults: Faults) -> None:
        self._real = real
        self._faults = faults
        self.injected = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def drain(self) -> int:
        """Entries failed since the last drain."""
        injected, self.injected = self.injected, 0
        return injected

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # - boto3's name
        failing = [self._faults.happens(self._faults.put_events_entry_failure) for _ in Entries]
        passed = [entry for entry, fail in zip(Entries, failing, strict=True) if not fail]
        answered = iter(self._real.put_events(Entries=passed)["Entries"] if passed else [])
        results = []
        for fail in failing:
            if fail:
                self.injected += 1
                results.append({"ErrorCode": "ThrottlingException", "ErrorMessage": "injected"})
            else:
                results.append(next(answered))
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}
