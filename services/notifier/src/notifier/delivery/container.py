"""Composition root of notifier-deliver: environment → tables, sender, schedule → the deliverer.

Kept apart from the notifier's API/record container: this function needs neither, and they need none of this.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from dependency_injector import containers, providers

from notifier.delivery import schedule
from notifier.delivery.adapters.bounded_dns import bounded_resolver
from notifier.delivery.adapters.dynamodb import (
    DynamoDBDeliveryLog,
    DynamoDBEndpointHealth,
    DynamoDBMerchantEvents,
    DynamoDBWebhookEndpoints,
)
from notifier.delivery.adapters.http_sender import UrllibSender
from notifier.delivery.adapters.sqs_visibility import SQSMessageVisibility
from notifier.delivery.deliverer import Deliverer
from payments_shared.aws_clients import traced_client


class DeliveryContainer(containers.DeclarativeContainer):
    config = providers.Configuration()

    dynamodb = providers.Singleton(traced_client, "dynamodb")
    sqs = providers.Singleton(traced_client, "sqs")
    visibility = providers.Singleton(SQSMessageVisibility, sqs)
    sender = providers.Singleton(UrllibSender)
    deliverer = providers.Singleton(
        Deliverer,
        events=providers.Singleton(DynamoDBMerchantEvents, dynamodb, config.events_table),
        endpoints=providers.Singleton(DynamoDBWebhookEndpoints, dynamodb, config.endpoints_table),
        log=providers.Singleton(DynamoDBDeliveryLog, dynamodb, config.deliveries_table),
        health=providers.Singleton(DynamoDBEndpointHealth, dynamodb, config.deliveries_table),
        sender=sender,
        schedule=providers.Singleton(schedule.load, config.retry_scale.as_float()),
        allow_loopback=config.allow_loopback,
        resolve=providers.Callable(bounded_resolver),
    )


def build_container(env: Mapping[str, str] = os.environ) -> DeliveryContainer:
    container = DeliveryContainer()
    container.config.from_dict(
        {
            "events_table": env.get("MERCHANT_EVENTS_TABLE", "merchant-events"),
            "endpoints_table": env.get("WEBHOOK_ENDPOINTS_TABLE", "webhook-endpoints"),
            "deliveries_table": env.get("WEBHOOK_DELIVERIES_TABLE", "webhook-deliveries"),
            # The local run alone: its receivers listen on 127.0.0.1 over http. No Terraform function sets it.
            "allow_loopback": env.get("WEBHOOK_TARGETS_ALLOW_LOOPBACK") == "1",
            # The local run's waits in seconds instead of hours (like the devstack's visibility scale).
            "retry_scale": env.get("WEBHOOK_RETRY_SCALE", "1"),
        }
    )
    return container
