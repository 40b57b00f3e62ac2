"""Composition root of the ledger: environment → adapters → app."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from dependency_injector import containers, providers

from ledger.adapters.dynamodb_accounts import DynamoDBAccountTotals
from ledger.app import LedgerApp
from ledger.domain.journal import FeeSchedule
from payments_shared.aws_clients import traced_client
from payments_shared.callers import DynamoDBCallerDirectory
from payments_shared.eventstore.dynamodb import DynamoDBEventStore


def fee_schedule(basis_points: str, fixed_minor_json: str) -> FeeSchedule:
    fixed: dict[str, int] = {k: int(v) for k, v in json.loads(fixed_minor_json).items()}
    return FeeSchedule(basis_points=int(basis_points), fixed_minor=fixed)


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()

    dynamodb = providers.Singleton(traced_client, "dynamodb")
    # Who may call the HTTP routes: the principals directory onboarding keeps (platform table).
    callers = providers.Singleton(DynamoDBCallerDirectory, dynamodb, config.principals_table)
    event_store = providers.Singleton(DynamoDBEventStore, dynamodb, config.event_store_table)
    totals = providers.Singleton(DynamoDBAccountTotals, dynamodb, config.accounts_table)
    fees = providers.Singleton(fee_schedule, config.fee_basis_points, config.fee_fixed_minor)
    app = providers.Singleton(LedgerApp, store=event_store, totals=totals, fees=fees)


def build_container(env: Mapping[str, str] = os.environ) -> Container:
    container = Container()
    container.config.from_dict(
        {
            "principals_table": env.get("API_PRINCIPALS_TABLE", "ApiPrincipals"),
            "event_store_table": env.get("EVENT_STORE_TABLE", "ledger-events"),
            "accounts_table": env.get("ACCOUNTS_TABLE", "LedgerAccounts"),
            # No fee unless configured: merchants are then owed exactly what was captured.
            "fee_basis_points": env.get("FEE_BASIS_POINTS", "0"),
            "fee_fixed_minor": env.get("FEE_FIXED_MINOR", "{}"),
        }
    )
    return container
