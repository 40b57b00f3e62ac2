"""The one aggregate shape: a decider (Jérémie Chassaing's "functional event sourcing" decider).

An aggregate is two pure functions over a frozen state:

- `decide(command, state) -> events`: the business rules. It raises for a command the rules refuse, and
  returns no events for a command that changes nothing (already done: a redelivery, a retried request).
- `evolve(state, event) -> state`: the only place state changes, one event at a time.

Chosen over an aggregate object that records pending events (eventsourcing's `Aggregate`): both functions are
pure, so a domain test is "given these events, when this command, then these events" with no store and no
mocks, state cannot drift from what the events say, and the repository (eventstore.repository) is the only
code that loads, folds and appends — written once for every service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from payments_shared.domain_events import DomainEvent, EventTypes

S = TypeVar("S")  # the aggregate's state (frozen)
C = TypeVar("C")  # the commands it decides


@dataclass(frozen=True)
class Decider(Generic[S, C]):
    initial: S  # the state of a stream without events
    decide: Callable[[C, S], Sequence[DomainEvent]]
    evolve: Callable[[S, DomainEvent], S]
    events: EventTypes  # decodes the stream's stored events
    # Snapshots, for streams that grow long: the state as JSON-able data and back (both or neither).
    snapshot: Callable[[S], Mapping[str, Any]] | None = None
    restore: Callable[[Mapping[str, Any]], S] | None = None

    def fold(self, state: S, events: Iterable[DomainEvent]) -> S:
        """The state after `events` (from `initial`, or from a snapshot's state)."""
        folded = state
        for event in events:
            folded = self.evolve(folded, event)
        return folded
