"""The merchant back end that catches up by GET /events: it pages newest first from the lookback before the newest
event it saw, and processes each event once whether it came by a push, by GET /events or by both (the README:
deliveries are at least once, deduplicate on the event's `id`)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from devstack.webhook_catchup import CatchingUpMerchant, Event


def event(created: int, n: int) -> dict[str, Any]:
    """An event as the notifier records it: the id sorts by its time in ms, `created` is unix seconds."""
    return {"id": f"evt_{created * 1000 + n % 1000:013d}_{n:016x}", "object": "event", "created": created}


class FakeEvents:
    """GET /events as services/notifier answers it (docs: services/notifier/openapi.json): newest first (ids sort by
    time), `created_gte` inclusive, `limit` 1 to 100, `starting_after` the previous page's last id."""

    def __init__(self, recorded: list[dict[str, Any]] | None = None) -> None:
        self.recorded = list(recorded or [])
        self.queries: list[dict[str, str]] = []
        self.answers: list[int] = []  # statuses to answer first, instead of a page

    def __call__(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.queries.append(dict(query))
        if self.answers:
            return self.answers.pop(0), {"type": "urn:payments:problem:test", "title": "not now"}
        assert set(query) <= {"limit", "created_gte", "starting_after"}
        limit = int(query["limit"])
        assert 1 <= limit <= 100
        events = sorted(self.recorded, key=lambda e: str(e["id"]), reverse=True)
        if "created_gte" in query:
            events = [e for e in events if e["created"] >= int(query["created_gte"])]
        if "starting_after" in query:
            events = [e for e in events if str(e["id"]) < query["starting_after"]]
        return 200, {"object": "list", "data": events[:limit], "has_more": len(events) > limit}


class Processing:
    """The merchant's own handling: counts each event it is given."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.counts[str(event["id"])] += 1


def test_nothing_seen_yet_lists_everything_page_after_page_and_processes_oldest_first() -> None:
    recorded = [event(1000 + i, i) for i in range(5)]
    api, processing = FakeEvents(recorded), Processing()
    merchant = CatchingUpMerchant(process=processing, page=2)

    pulled = merchant.catch_up(api)

    assert pulled == [e["id"] for e in recorded]  # oldest first, as a merchant applies changes
    assert api.queries == [
        {"limit": "2"},
        {"limit": "2", "starting_after": recorded[3]["id"]},
        {"limit": "2", "starting_after": recorded[1]["id"]},
    ]
    assert processing.counts == {e["id"]: 1 for e in recorded} and merchant.first("pull") == set(pulled)


def test_it_lists_from_the_lookback_before_the_newest_event_it_saw() -> None:
    old, seen, late, after = event(900, 1), event(1000, 2), event(950, 3), event(1010, 4)
    api, processing = FakeEvents([old, seen, late, after]), Processing()
    merchant = CatchingUpMerchant(process=processing, lookback_s=60)
    merchant.pushed(seen)

    pulled = merchant.catch_up(api)

    assert api.queries[0] == {"limit": "25", "created_gte": "940"}
    # The one recorded late (created before the newest seen, within the lookback) is caught up; the old one is not
    # listed (it was pushed before the outage, or its retries bring it).
    assert pulled == [late["id"], after["id"]] and old["id"] not in processing.counts
    assert merchant.newest_created == 1010


def test_a_retry_of_a_pulled_event_is_acknowledged_and_ignored() -> None:
    missed = event(1000, 1)
    processing = Processing()
    merchant = CatchingUpMerchant(process=processing)
    merchant.catch_up(FakeEvents([missed]))

    assert merchant.pushed(missed) is False and merchant.pushed(missed) is False
    assert processing.counts == {missed["id"]: 1} and merchant.duplicates == 2
    assert merchant.first("pull") == {missed["id"]} and merchant.first("push") == set()


def test_a_5xx_is_asked_again_and_another_refusal_stops_the_catch_up_and_is_reported() -> None:
    api = FakeEvents([event(1000, 1)])
    api.answers = [503, 500]
    merchant = CatchingUpMerchant()
    assert merchant.catch_up(api) == [event(1000, 1)["id"]] and not merchant.unexpected

    api.answers = [403]
    assert merchant.catch_up(api) == []
    assert len(merchant.unexpected) == 1 and "403" in merchant.unexpected[0]


def test_pushes_on_other_threads_during_a_catch_up_are_each_processed_once() -> None:
    recorded = [event(1000 + i // 3, i) for i in range(300)]
    api, processing = FakeEvents(recorded), Processing()
    merchant = CatchingUpMerchant(process=processing, page=7)

    def push_all(seed: int) -> None:
        for e in random.Random(seed).sample(recorded, len(recorded)):
            merchant.pushed(e)

    pushers = [threading.Thread(target=push_all, args=(seed,)) for seed in range(3)]
    for pusher in pushers:
        pusher.start()
    merchant.catch_up(api)
    for pusher in pushers:
        pusher.join()

    assert processing.counts == {e["id"]: 1 for e in recorded}
    assert merchant.first("push") | merchant.first("pull") == set(processing.counts)
    assert merchant.duplicates == 3 * len(recorded) - len(merchant.first("push"))


Step = tuple[str, int]
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("record"), st.just(0)),
        st.tuples(st.just("push"), st.integers(0, 1000)),  # one of the events recorded so far, again or not
        st.tuples(st.just("pull"), st.just(0)),
    ),
    max_size=80,
)


@given(
    gaps=st.lists(st.integers(0, 5), min_size=1, max_size=30),
    order=st.randoms(use_true_random=False),
    steps=STEPS,
    page=st.integers(1, 5),
    lookback_s=st.integers(0, 10),
)
def test_whatever_the_split_between_push_and_pull_and_the_duplicates_each_event_is_processed_once(
    gaps: list[int], order: random.Random, steps: list[Step], page: int, lookback_s: int
) -> None:
    # Given events recorded in any order, pushed any number of times, and catch-ups at any point
    created = [1_000_000 + sum(gaps[: i + 1]) for i in range(len(gaps))]
    events = order.sample([event(c, i) for i, c in enumerate(created)], len(created))
    api, processing = FakeEvents(), Processing()
    merchant = CatchingUpMerchant(process=processing, page=page, lookback_s=lookback_s)
    pushes: list[str] = []
    for step, n in steps:
        if step == "record" and len(api.recorded) < len(events):
            api.recorded.append(events[len(api.recorded)])
        elif step == "push" and api.recorded:
            pushed = api.recorded[n % len(api.recorded)]
            merchant.pushed(pushed)
            pushes.append(pushed["id"])
        elif step == "pull":
            merchant.catch_up(api)
    # Then each event got is processed exactly once, every push among them, and every other push is a duplicate
    assert set(processing.counts.values()) <= {1}
    assert set(processing.counts) <= {e["id"] for e in api.recorded}
    assert set(pushes) <= set(processing.counts)
    assert merchant.first("push") | merchant.first("pull") == set(processing.counts)
    assert merchant.duplicates == len(pushes) - len(merchant.first("push"))


@given(
    gaps=st.lists(st.integers(0, 30), min_size=1, max_size=30),
    lateness=st.lists(st.integers(0, 59), min_size=30, max_size=30),
    split=st.integers(0, 30),
    retries=st.lists(st.integers(0, 1000), max_size=60),
    page=st.integers(1, 5),
)
def test_a_back_end_down_for_a_stretch_catches_up_everything_and_the_retries_are_duplicates(
    gaps: list[int], lateness: list[int], split: int, retries: list[int], page: int
) -> None:
    # Given events recorded in order of what happened, each up to a lookback late (a queue, a retry), the first
    # `split` of them pushed while the back end was up, the rest while it was down
    created = [1_000_000 + sum(gaps[: i + 1]) for i in range(len(gaps))]
    order = sorted(range(len(created)), key=lambda i: (created[i] + lateness[i], i))
    recorded = [event(created[i], i) for i in order]
    api, processing = FakeEvents(recorded), Processing()
    merchant = CatchingUpMerchant(process=processing, page=page, lookback_s=60)
    for e in recorded[:split]:
        merchant.pushed(e)
    # When it comes back and catches up, then the retries of what it missed arrive (some twice)
    merchant.catch_up(api)
    missed = recorded[split:]
    for n in retries:
        if missed:
            merchant.pushed(missed[n % len(missed)])
    # Then every event was processed, once; what it missed came by GET /events and each retry was a duplicate
    assert processing.counts == {e["id"]: 1 for e in recorded}
    assert merchant.first("pull") == {e["id"] for e in missed}
    assert merchant.duplicates == (len(retries) if missed else 0)
