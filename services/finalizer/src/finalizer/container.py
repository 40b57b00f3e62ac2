"""Composition root of the finalizer: environment → adapters → app."""

from __future__ import annotations

import os
from collections.abc import Mapping

from dependency_injector import containers, providers

from finalizer.adapters.psp_http import HttpPsp
from finalizer.app import FinalizerApp
from payments_shared.aws_clients import traced_client
from payments_shared.events import utc_now
from payments_shared.eventstore.dynamodb import DynamoDBEventStore
from payments_shared.eventstore.relay import OutboxRelay

SOURCE = "payments.finalizer"
# Both outcomes are one integration event: PaymentStatusUpdated with status SUCCESS or FAILED.
PUBLISHED_TYPES = {"PaymentSucceeded": "PaymentStatusUpdated", "PaymentFailed": "PaymentStatusUpdated"}


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()

    dynamodb = providers.Singleton(traced_client, "dynamodb")
    events = providers.Singleton(traced_client, "events")

    event_store = providers.Singleton(DynamoDBEventStore, dynamodb, config.event_store_table)
    psp = providers.Singleton(
        HttpPsp,
        config.psp_url,
        connect_timeout_s=config.psp_connect_timeout_s.as_float(),
        read_timeout_s=config.psp_read_timeout_s.as_float(),
        max_attempts=config.psp_max_attempts.as_int(),
    )
    clock = providers.Object(utc_now)
    app = providers.Singleton(
        FinalizerApp, store=event_store, psp=psp, clock=clock, results_table=config.results_table
    )
    relay = providers.Singleton(
        OutboxRelay, events, config.event_bus_name, SOURCE, published_types=PUBLISHED_TYPES
    )


def build_container(env: Mapping[str, str] = os.environ) -> Container:
    container = Container()
    container.config.from_dict(
        {
            "event_store_table": env.get("EVENT_STORE_TABLE", "finalizer-events"),
            "results_table": env.get("RESULTS_TABLE", "BreakingTheBank"),
            "event_bus_name": env.get("EVENT_BUS_NAME", "payments"),
            "psp_url": env.get("PSP_URL", "http://127.0.0.1:8089"),
            "psp_connect_timeout_s": env.get("PSP_CONNECT_TIMEOUT_S", "1.0"),
            "psp_read_timeout_s": env.get("PSP_READ_TIMEOUT_S", "3.0"),
            "psp_max_attempts": env.get("PSP_MAX_ATTEMPTS", "3"),
        }
    )
    return container
