"""Composition root of the ledger: environment → adapters → app."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers

from ledger.adapters.dynamodb_accounts import DynamoDBAccountTotals
from ledger.app import LedgerApp
from ledger.domain.journal import EVENT_SCHEMAS
from payments_shared import fees
from payments_shared.aws_clients import traced_client
from payments_shared.eventstore.dynamodb import DynamoDBEventStore

if TYPE_CHECKING:
    from payments_shared.callers import DynamoDBCallerDirectory


def _callers(client: Any, table: str) -> DynamoDBCallerDirectory:
    """Only the API asks who calls: its directory is imported when first built, not by the consumers."""
    from payments_shared.callers import DynamoDBCallerDirectory

    return DynamoDBCallerDirectory(client, table)


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()

    dynamodb = providers.Singleton(traced_client, "dynamodb")
    # Who may call the HTTP routes: the principals directory onboarding keeps (platform table).
    callers = providers.Singleton(_callers, dynamodb, config.principals_table)
    event_store = providers.Singleton(DynamoDBEventStore, dynamodb, config.event_store_table, EVENT_SCHEMAS)
    totals = providers.Singleton(DynamoDBAccountTotals, dynamodb, config.accounts_table)
    fee_schedule = providers.Singleton(fees.from_env, config.fee_environment)
    app = providers.Singleton(LedgerApp, store=event_store, totals=totals, fees=fee_schedule)


def build_container(env: Mapping[str, str] = os.environ) -> Container:
    container = Container()
    container.config.from_dict(
        {
            "principals_table": env.get("API_PRINCIPALS_TABLE", "ApiPrincipals"),
            "event_store_table": env.get("EVENT_STORE_TABLE", "ledger-events"),
            "accounts_table": env.get("ACCOUNTS_TABLE", "LedgerAccounts"),
            # The fee rule as the wallet reads it too (contracts/fees.json, set by Terraform on both).
            "fee_environment": {name: env[name] for name in fees.VARIABLES if name in env},
        }
    )
    return container
