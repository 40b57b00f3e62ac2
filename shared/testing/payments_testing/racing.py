"""Concurrent deliveries whose race is forced, not hoped for, on the strict DynamoDB (moto + StrictTransactions).

`RacingWrites` wraps the client the stores use. Armed for n deliveries, it makes each delivery's first
TransactWriteItems wait at a barrier until all n have reached theirs: every delivery has read and decided before
any writes, as when a queue hands the same message to n concurrent invocations. Then, one of two interleavings
DynamoDB really gives, each for certain whatever the machine's load:
- overlap: the first transaction admitted is held in flight (the strict store's `hold`) until every other
  delivery's transaction has run into it and been cancelled with TransactionConflict;
- one after the other: the deliveries write their decisions in turn, each once the one before has written, so
  every one after the first finds its condition failed (ConditionalCheckFailed).
`first_outcomes` tells what each delivery's first write met: "written" or its cancellation reason.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from payments_testing.strict_dynamodb import StrictTransactions

T = TypeVar("T")
WAIT_S = 30.0  # a bound, never reached unless the code under test deadlocks


class RacingWrites:
    def __init__(self, client: Any) -> None:
        self._client = client
        self._local = threading.local()
        self._lock = threading.Lock()
        self._barrier: threading.Barrier | None = None
        self._overlap = True
        self._met = 0  # deliveries that have reached the barrier
        self._held = False
        self._collided: set[int] = set()  # threads whose transaction was cancelled by the one held in flight
        self._all_collided = threading.Event()
        self._turns: list[threading.Event] = []  # set once that turn's first write is done
        self.deliveries = 0
        self.first_outcomes: Counter[str] = Counter()

    def arm(self, strict: StrictTransactions, deliveries: int, *, overlap: bool = True) -> None:
        """The first writes of the next `deliveries` threads to write race as described above; later writes (a
        redelivery, a projection) go straight through."""
        self.deliveries, self._overlap = deliveries, overlap
        self._barrier = threading.Barrier(deliveries, timeout=WAIT_S)
        self._turns = [threading.Event() for _ in range(deliveries)]
        strict.hold = self._hold if overlap else (lambda: None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **request: Any) -> Any:
        turn = self._meet()
        if turn and not self._overlap and not self._turns[turn - 1].wait(WAIT_S):
            raise TimeoutError("the delivery before never wrote")
        try:
            response = self._client.transact_write_items(**request)
        except ClientError as error:
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons") or [] if r.get("Code")]
            refused = next((r for r in reasons if r != "None"), error.response.get("Error", {}).get("Code", "?"))
            self._note(turn, refused)
            raise
        self._note(turn, "written")
        return response

    def _meet(self) -> int | None:
        """This thread's turn (0 first) if its write is one of the race's first writes, else None."""
        with self._lock:
            racing = self._barrier is not None and self._met < self.deliveries and not getattr(self._local, "met", 0)
            if racing:
                self._met += 1
                self._local.met = 1
        return self._barrier.wait() if racing and self._barrier is not None else None

    def _note(self, turn: int | None, outcome: str) -> None:
        with self._lock:
            if turn is not None:
                self.first_outcomes[outcome] += 1
            if outcome == "TransactionConflict":
                self._collided.add(threading.get_ident())
                if len(self._collided) >= self.deliveries - 1:
                    self._all_collided.set()
        if turn is not None:
            self._turns[turn].set()

    def _hold(self) -> None:
        with self._lock:
            first, self._held = not self._held, True
        if first and not self._all_collided.wait(WAIT_S):
            raise TimeoutError("the other deliveries never reached the transaction in flight")


def at_once(deliveries: Sequence[Callable[[], T]]) -> list[T]:
    """Run each delivery in its own thread; every result, in order. An exception in one is raised here."""
    with ThreadPoolExecutor(len(deliveries)) as pool:
        futures = [pool.submit(delivery) for delivery in deliveries]
        return [future.result() for future in futures]
