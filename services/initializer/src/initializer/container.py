"""Composition root: reads configuration from the environment and wires adapters into the app.

Every function of the service builds this container at its cold start, but each uses a part of it: the relay
only its OutboxRelay. So what only the app or the API needs (the order's domain, its adapters, the callers'
directory) is imported by the factories below when first built, not with this module.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers

from initializer.domain.event_types import EVENT_SCHEMAS
from initializer.domain.streams import PUBLISHED_TYPES, SOURCE
from payments_shared.aws_clients import traced_client
from payments_shared.events import utc_now
from payments_shared.eventstore.dynamodb import DynamoDBEventStore
from payments_shared.eventstore.relay import OutboxRelay

if TYPE_CHECKING:
    from initializer.adapters.dynamodb_orders import DynamoDBPaymentOrders
    from initializer.adapters.kms_vault import KmsCardVault
    from initializer.app import InitializerApp
    from initializer.domain.order import PaymentPolicy
    from initializer.ports import CardVault, Clock, EventStore, PaymentOrders
    from payments_shared.callers import DynamoDBCallerDirectory

DEFAULT_LIMITS = (
    '{"EUR": "10000.00", "USD": "10000.00", "GBP": "10000.00", "PLN": "50000.00", "JPY": "1500000", "ISK": "900000"}'
)


def policy_from(limits_json: str, blocked: str) -> PaymentPolicy:
    from initializer.domain.order import PaymentPolicy
    from payments_shared.money import Money

    limits: Mapping[str, str] = json.loads(limits_json)
    return PaymentPolicy(
        max_amounts={currency: Money.parse(amount, currency) for currency, amount in limits.items()},
        blocked_merchants=frozenset(m.strip() for m in blocked.split(",") if m.strip()),
    )


def _callers(client: Any, table: str) -> DynamoDBCallerDirectory:
    from payments_shared.callers import DynamoDBCallerDirectory

    return DynamoDBCallerDirectory(client, table)


def _orders(client: Any, table: str) -> DynamoDBPaymentOrders:
    from initializer.adapters.dynamodb_orders import DynamoDBPaymentOrders

    return DynamoDBPaymentOrders(client, table)


def _vault(kms: Callable[[], Any], data_key_id: str, fingerprint_key_id: str) -> KmsCardVault:
    from initializer.adapters.kms_vault import KmsCardVault

    return KmsCardVault(kms, data_key_id, fingerprint_key_id)


def _app(
    *,
    store: EventStore,
    vault: CardVault,
    orders: PaymentOrders,
    policy: PaymentPolicy,
    clock: Clock,
) -> InitializerApp:
    from initializer.app import InitializerApp

    return InitializerApp(store=store, vault=vault, orders=orders, policy=policy, clock=clock)


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()

    dynamodb = providers.Singleton(traced_client, "dynamodb")
    # Who may call the HTTP routes: the principals directory onboarding keeps (platform table).
    callers = providers.Singleton(_callers, dynamodb, config.principals_table)
    kms = providers.Singleton(traced_client, "kms")
    events = providers.Singleton(traced_client, "events")

    event_store = providers.Singleton(DynamoDBEventStore, dynamodb, config.event_store_table, EVENT_SCHEMAS)
    orders = providers.Singleton(_orders, dynamodb, config.orders_table)
    # kms.provider: the vault asks for the client when it first seals or fingerprints a card.
    vault = providers.Singleton(_vault, kms.provider, config.card_data_key_id, config.card_fingerprint_key_id)
    policy = providers.Singleton(policy_from, config.payment_limits, config.blocked_merchants)
    clock = providers.Object(utc_now)

    app = providers.Singleton(
        _app,
        store=event_store,
        vault=vault,
        orders=orders,
        policy=policy,
        clock=clock,
    )
    relay = providers.Singleton(
        OutboxRelay, events, config.event_bus_name, SOURCE, published_types=PUBLISHED_TYPES, schemas=EVENT_SCHEMAS
    )


def build_container(env: Mapping[str, str] = os.environ) -> Container:
    container = Container()
    container.config.from_dict(
        {
            "principals_table": env.get("API_PRINCIPALS_TABLE", "ApiPrincipals"),
            "event_store_table": env.get("EVENT_STORE_TABLE", "initializer-events"),
            "orders_table": env.get("ORDERS_TABLE", "ShowMeTheMoney"),
            "card_data_key_id": env.get("CARD_DATA_KEY_ID", "alias/payments-card-data"),
            "card_fingerprint_key_id": env.get("CARD_FINGERPRINT_KEY_ID", "alias/payments-card-fingerprint"),
            "payment_limits": env.get("PAYMENT_LIMITS", DEFAULT_LIMITS),
            "blocked_merchants": env.get("BLOCKED_MERCHANTS", ""),
            "event_bus_name": env.get("EVENT_BUS_NAME", "payments"),
            # Card numbers in POST /payments only where the Stripe account may take them (off, as on a new one).
            "raw_card_data": env.get("RAW_CARD_DATA", "off") == "on",
        }
    )
    return container
