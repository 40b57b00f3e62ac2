"""Composition root of the notifier: environment → adapters → app."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import partial

from dependency_injector import containers, providers

from notifier.adapters.dynamodb_delivery_log import DynamoDBDeliveryLog
from notifier.adapters.dynamodb_endpoints import DynamoDBEndpoints
from notifier.adapters.dynamodb_events import DynamoDBMerchantEvents
from notifier.adapters.sqs_deliveries import SqsDeliveries
from notifier.app import NotifierApp
from notifier.domain import url_policy
from payments_shared.aws_clients import traced_client
from payments_shared.callers import DynamoDBCallerDirectory


def target_check(allow_loopback: bool, resolve: url_policy.Resolver) -> partial[url_policy.Target]:
    return partial(url_policy.resolve_target, allow_loopback=allow_loopback, resolve=resolve)


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()

    dynamodb = providers.Singleton(traced_client, "dynamodb")
    sqs = providers.Singleton(traced_client, "sqs")
    callers = providers.Singleton(DynamoDBCallerDirectory, dynamodb, config.principals_table)
    endpoints = providers.Singleton(DynamoDBEndpoints, dynamodb, config.endpoints_table)
    events = providers.Singleton(DynamoDBMerchantEvents, dynamodb, config.events_table)
    deliveries = providers.Singleton(SqsDeliveries, sqs, config.deliveries_queue_url)
    delivery_log = providers.Singleton(DynamoDBDeliveryLog, dynamodb, config.deliveries_table)
    # The DNS lookup registration checks a URL with (tests put a fake resolver here).
    resolver = providers.Object(url_policy.system_resolver)
    check_target = providers.Singleton(target_check, config.allow_loopback.as_(bool), resolver)
    app = providers.Singleton(
        NotifierApp,
        endpoints=endpoints,
        events=events,
        deliveries=deliveries,
        check_target=check_target,
        delivery_log=delivery_log,
    )


def build_container(env: Mapping[str, str] = os.environ) -> Container:
    container = Container()
    container.config.from_dict(
        {
            "principals_table": env.get("API_PRINCIPALS_TABLE", "ApiPrincipals"),
            "endpoints_table": env.get("WEBHOOK_ENDPOINTS_TABLE", "webhook-endpoints"),
            "events_table": env.get("MERCHANT_EVENTS_TABLE", "merchant-events"),
            "deliveries_queue_url": env.get("DELIVERIES_QUEUE_URL", ""),
            "deliveries_table": env.get("WEBHOOK_DELIVERIES_TABLE", "webhook-deliveries"),
            # Only the local run sets it (its receivers listen on 127.0.0.1); no Terraform function does
            # (tests/infra checks).
            "allow_loopback": env.get("WEBHOOK_TARGETS_ALLOW_LOOPBACK") == "1",
        }
    )
    return container
