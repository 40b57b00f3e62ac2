"""Lambda entry points of the initializer: the outbox relay and the outcome projector; the HTTP API is in
initializer.api, reached through `handler` here."""

from __future__ import annotations

from typing import Any

from initializer.container import build_container
from payments_shared import snapstart
from payments_shared.events import EventEnvelope
from payments_shared.lambda_entry.queue import queue_entry
from payments_shared.lambda_entry.stream import stream_entry
from payments_shared.observability.logging import build_logger
from payments_shared.observability.metrics import build_metrics

SERVICE = "initializer"
logger = build_logger(SERVICE)
metrics = build_metrics(SERVICE)
container = build_container()  # providers are lazy: no client is built until the first invocation needs it
snapstart.install(container.reset_singletons)  # a restored copy rebuilds its clients (SnapStart)


def _record_outcome(envelope: EventEnvelope) -> None:
    if envelope.event_type == "PaymentStatusUpdated":
        container.app().record_outcome(envelope)


# `metrics` is the API function's (initializer.api); each other function flushes only its own.
relay_handler = stream_entry(
    lambda event: container.relay().handle_stream_batch(event), logger=logger, metrics=build_metrics(SERVICE)
)
outcome_handler = queue_entry(_record_outcome, logger=logger, metrics=build_metrics(SERVICE))


def __getattr__(name: str) -> Any:
    """The HTTP entry point lives in initializer.api, loaded only by the function that serves it (and by
    tools that ask for it here), so the relay and the outcome projector never import the HTTP resolver."""
    if name in ("handler", "api"):
        from initializer import api

        return getattr(api, name)
    raise AttributeError(name)
