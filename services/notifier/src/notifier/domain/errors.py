"""What the notifier's use cases refuse, without HTTP statuses (the API maps each to its problem)."""

from __future__ import annotations


class EndpointNotFound(LookupError):
    """No such endpoint for this merchant (another merchant's is not found either)."""


class EventNotFound(LookupError):
    """No such event for this merchant."""


class TooManyEndpoints(ValueError):
    """The merchant already has the most endpoints allowed."""


class KeyReused(ValueError):
    """An Idempotency-Key already used for another request."""


class NotSubscribed(ValueError):
    """The endpoint named for a redelivery does not take this event's type."""
