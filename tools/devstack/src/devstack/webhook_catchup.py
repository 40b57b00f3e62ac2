"""A merchant back end that, back from an outage, catches up with GET /events instead of waiting for retries.

Its endpoint hands it each verified event as pushed; when it comes back it pages GET /events (newest first) from a
little before the newest event it had seen, and processes what it has not. Either way each event is processed
once: deliveries are at least once and the README tells merchants to deduplicate on the event's id, so a retry
that arrives after the event was pulled is acknowledged and ignored (a duplicate).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# An event is recorded a moment after it happened, and not always in the order things happened (queues and
# retries between): list from this long before the newest `created` seen, so a late-recorded one is not skipped.
# The overlap costs events listed again, which the dedupe drops.
LOOKBACK_S = 60
PAGE = 25  # GET /events limit (1 to 100): a catch-up spans several pages
SERVER_ERROR_RETRIES = 3  # a 5xx is safe to ask again (a GET); anything else is a problem to report

Event = Mapping[str, Any]
# GET /events as the merchant: the query's parameters → (status, answer)
ListEvents = Callable[[dict[str, str]], tuple[int, dict[str, Any]]]


@dataclass
class CatchingUpMerchant:
    """process: the merchant's own handling of an event, called once per event id."""

    process: Callable[[Event], None] = lambda event: None
    lookback_s: int = LOOKBACK_S
    page: int = PAGE
    via: dict[str, str] = field(default_factory=dict)  # event id -> "push" or "pull", how it was first processed
    duplicates: int = 0  # pushes of an event already processed (retries after a pull, redeliveries, repeats)
    listed: int = 0  # events GET /events listed, the already-processed ones included
    catch_ups: int = 0
    unexpected: list[str] = field(default_factory=list)  # answers of GET /events other than a page
    newest_created: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def pushed(self, event: Event) -> bool:
        """A verified delivery to the endpoint (acknowledged whatever this says): True if it was news."""
        new = self._take(event, "push")
        if not new:
            with self._lock:
                self.duplicates += 1
        return new

    def catch_up(self, list_events: ListEvents) -> list[str]:
        """Page GET /events from the lookback before the newest event seen (everything if none was), oldest
        first process what was not seen; the ids pulled."""
        with self._lock:
            since = None if self.newest_created is None else max(0, self.newest_created - self.lookback_s)
            self.catch_ups += 1
        listed = self._list(list_events, since)
        return [str(e["id"]) for e in reversed(listed) if self._take(e, "pull")]

    def first(self, via: str) -> set[str]:
        with self._lock:
            return {event_id for event_id, how in self.via.items() if how == via}

    def _take(self, event: Event, via: str) -> bool:
        """Claim the event's id under the lock (pushes arrive on the receiver's threads while a catch-up runs),
        then process it: each id once, whichever way it came first."""
        event_id, created = str(event["id"]), int(event["created"])
        with self._lock:
            if event_id in self.via:
                return False
            self.via[event_id] = via
            self.newest_created = created if self.newest_created is None else max(self.newest_created, created)
        self.process(event)
        return True

    def _list(self, list_events: ListEvents, since: int | None) -> list[Event]:
        """Every event since `since`, newest first, page after page (starting_after: the previous page's last)."""
        found: list[Event] = []
        while True:
            query = {"limit": str(self.page)}
            if since is not None:
                query["created_gte"] = str(since)
            if found:
                query["starting_after"] = str(found[-1]["id"])
            for _ in range(SERVER_ERROR_RETRIES):
                status, answer = list_events(query)
                if status < 500:
                    break
            if status != 200:
                with self._lock:
                    self.unexpected.append(f"GET /events {query}: {status} {answer}")
                return found  # what it has is processed; the retries still bring the rest
            found += answer["data"]
            with self._lock:
                self.listed += len(answer["data"])
            if not answer["has_more"] or not answer["data"]:
                return found
