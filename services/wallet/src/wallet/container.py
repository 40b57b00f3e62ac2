"""Composition root of the wallet: environment → adapters → app.

Every function of the service builds this container at its cold start, but each uses a part of it: the relay
only its OutboxRelay. So the app, its adapters and the callers' directory are imported by the factories below
when first built, not with this module.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers

from payments_shared import fees
from payments_shared.aws_clients import traced_client
from payments_shared.eventstore.dynamodb import DynamoDBEventStore
from payments_shared.eventstore.relay import OutboxRelay
from payments_shared.retry import RetryPolicy
from wallet.domain.settlement import DEFAULT_SETTLEMENT_DELAY_S
from wallet.domain.streams import DEFAULT_SHARDS, PUBLISHED_TYPES, SOURCE

if TYPE_CHECKING:
    from payments_shared.callers import DynamoDBCallerDirectory
    from wallet.adapters.dynamodb_balances import DynamoDBBalances
    from wallet.app import WalletApp


def _callers(client: Any, table: str) -> DynamoDBCallerDirectory:
    from payments_shared.callers import DynamoDBCallerDirectory

    return DynamoDBCallerDirectory(client, table)


def _balances(client: Any, table: str) -> DynamoDBBalances:
    from wallet.adapters.dynamodb_balances import DynamoDBBalances

    return DynamoDBBalances(client, table)


def _app(**settings: Any) -> WalletApp:
    """The app with its settings as the provider below names them (passed through: WalletApp's signature rules)."""
    from wallet.app import WalletApp

    return WalletApp(**settings)


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()

    dynamodb = providers.Singleton(traced_client, "dynamodb")
    events = providers.Singleton(traced_client, "events")
    # Who may call the HTTP routes: the principals directory onboarding keeps (platform table).
    callers = providers.Singleton(_callers, dynamodb, config.principals_table)
    event_store = providers.Singleton(DynamoDBEventStore, dynamodb, config.event_store_table)
    balances = providers.Singleton(_balances, dynamodb, config.balances_table)
    fee_schedule = providers.Singleton(fees.from_env, config.fee_environment)
    # The outbox relay (its own function): the payouts the wallet's event store records, to the bus.
    relay = providers.Singleton(OutboxRelay, events, config.event_bus_name, SOURCE, published_types=PUBLISHED_TYPES)
    app = providers.Singleton(
        _app,
        store=event_store,
        balances=balances,
        fees=fee_schedule,
        shards=config.shards.as_int(),
        settlement_delay_s=config.settlement_delay_s.as_int(),
        retry_policy=providers.Factory(RetryPolicy, attempts=config.max_attempts.as_int()),
    )


def build_container(env: Mapping[str, str] = os.environ) -> Container:
    container = Container()
    container.config.from_dict(
        {
            "principals_table": env.get("API_PRINCIPALS_TABLE", "ApiPrincipals"),
            "event_store_table": env.get("EVENT_STORE_TABLE", "wallet-events"),
            "balances_table": env.get("BALANCES_TABLE", "WalletBalances"),
            "event_bus_name": env.get("EVENT_BUS_NAME", "payments"),
            "max_attempts": env.get("WALLET_MAX_ATTEMPTS", "12"),
            # The fee rule as the ledger reads it too (contracts/fees.json, set by Terraform on both).
            "fee_environment": {name: env[name] for name in fees.VARIABLES if name in env},
            # Changing it later is safe: balances sum whatever shard rows exist.
            "shards": env.get("WALLET_SHARDS", str(DEFAULT_SHARDS)),
            # How long a capture's net stays pending (wallet.domain.settlement): T+2 deployed, seconds locally.
            "settlement_delay_s": env.get("SETTLEMENT_DELAY_S", str(DEFAULT_SETTLEMENT_DELAY_S)),
        }
    )
    return container
