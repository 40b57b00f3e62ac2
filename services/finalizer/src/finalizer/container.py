"""Composition root of the finalizer: environment → adapters → app.

Every function of the service builds this container at its cold start, but each uses a part of it: the relay
only its OutboxRelay. So the app, the deciders and the adapters that speak their types are imported by the
factories below when first built, not with this module.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers

from finalizer.adapters.ssm_secret import ssm_secret
from finalizer.domain.streams import PUBLISHED_TYPES, SOURCE
from payments_shared.aws_clients import traced_client
from payments_shared.events import utc_now
from payments_shared.eventstore.dynamodb import DynamoDBEventStore
from payments_shared.eventstore.relay import OutboxRelay
from payments_shared.sealed_cards import CardCipher, KmsCardCipher

if TYPE_CHECKING:
    from finalizer.adapters.dynamodb_results import DynamoDBPaymentResults
    from finalizer.adapters.sealed_cards import SealedCardOpener
    from finalizer.app import FinalizerApp
    from finalizer.ports import CardOpener, Clock, PaymentResults, PaymentServiceProvider
    from payments_shared.eventstore import EventStore


def _stripe_psp(api_key: Callable[[], str], requests_per_s: float, burst: float, wait_s: float, **settings: Any) -> Any:
    # Imported on first use: the SDK loads in the consumer that charges, never in the relay's cold start.
    from finalizer.adapters.request_budget import RequestBudget
    from finalizer.adapters.stripe_psp import StripePsp

    # 0: no budget (the local run and tests, which call the fake PSP); Terraform always sets one.
    budget = RequestBudget(requests_per_s, burst, wait_s) if requests_per_s > 0 else None
    return StripePsp(api_key, budget=budget, **settings)


def _cards(cipher: Callable[[], CardCipher]) -> SealedCardOpener:
    from finalizer.adapters.sealed_cards import SealedCardOpener

    return SealedCardOpener(cipher)


def _results(table: str, dynamodb: Any) -> DynamoDBPaymentResults:
    from finalizer.adapters.dynamodb_results import DynamoDBPaymentResults

    return DynamoDBPaymentResults(table, dynamodb)


def _app(
    *, store: EventStore, cards: CardOpener, psp: PaymentServiceProvider, clock: Clock, results: PaymentResults
) -> FinalizerApp:
    from finalizer.app import FinalizerApp

    return FinalizerApp(store=store, cards=cards, psp=psp, clock=clock, results=results)


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()

    dynamodb = providers.Singleton(traced_client, "dynamodb")
    events = providers.Singleton(traced_client, "events")

    event_store = providers.Singleton(DynamoDBEventStore, dynamodb, config.event_store_table)
    kms = providers.Singleton(traced_client, "kms")
    ssm = providers.Singleton(traced_client, "ssm")
    # Decrypt only (the ciphertext names its key); the card data key's policy admits this role alone.
    card_cipher = providers.ThreadSafeSingleton(KmsCardCipher, kms)
    cards = providers.Singleton(_cards, card_cipher.provider)  # the KMS client on the first card opened
    psp_api_key = providers.Singleton(
        ssm_secret, ssm, config.psp_api_key_parameter, config.psp_api_key_max_age_s.as_int()
    )
    psp = providers.Singleton(
        _stripe_psp,
        psp_api_key,
        requests_per_s=config.stripe_requests_per_s.as_float(),
        burst=config.stripe_request_burst.as_float(),
        wait_s=config.stripe_request_wait_s.as_float(),
        api_base=config.psp_api_base,
        connect_timeout_s=config.psp_connect_timeout_s.as_float(),
        read_timeout_s=config.psp_read_timeout_s.as_float(),
        max_network_retries=config.psp_max_network_retries.as_int(),
    )
    # Stripe signs its webhooks with the endpoint's secret (whsec_…), kept in SSM like the API key.
    stripe_webhook_secret = providers.Singleton(
        ssm_secret, ssm, config.stripe_webhook_secret_parameter, config.psp_api_key_max_age_s.as_int()
    )
    clock = providers.Object(utc_now)
    results = providers.Singleton(_results, config.results_table, dynamodb)
    # Thread-safe: a batch's records are charged on several threads, and each asks for the app (one per process).
    app = providers.ThreadSafeSingleton(_app, store=event_store, cards=cards, psp=psp, clock=clock, results=results)
    relay = providers.Singleton(OutboxRelay, events, config.event_bus_name, SOURCE, published_types=PUBLISHED_TYPES)


def build_container(env: Mapping[str, str] = os.environ) -> Container:
    container = Container()
    container.config.from_dict(
        {
            "event_store_table": env.get("EVENT_STORE_TABLE", "finalizer-events"),
            "results_table": env.get("RESULTS_TABLE", "BreakingTheBank"),
            "event_bus_name": env.get("EVENT_BUS_NAME", "payments"),
            "psp_api_base": env.get("PSP_API_BASE", "https://api.stripe.com"),
            "psp_api_key_parameter": env.get("PSP_API_KEY_PARAMETER", "/payments/finalizer/stripe-secret-key"),
            "psp_api_key_max_age_s": env.get("PSP_API_KEY_MAX_AGE_S", "300"),
            "psp_connect_timeout_s": env.get("PSP_CONNECT_TIMEOUT_S", "1.0"),
            "psp_read_timeout_s": env.get("PSP_READ_TIMEOUT_S", "5.0"),
            "psp_max_network_retries": env.get("PSP_MAX_NETWORK_RETRIES", "2"),
            # This environment's share of the account's Stripe request budget (Terraform: budget / environments),
            # the bucket's burst, and how long a request may wait for a token before it is not sent. 0: no budget.
            "stripe_requests_per_s": env.get("STRIPE_REQUESTS_PER_S", "0"),
            "stripe_request_burst": env.get("STRIPE_REQUEST_BURST", "10"),
            "stripe_request_wait_s": env.get("STRIPE_REQUEST_WAIT_S", "1.0"),
            # Records of one batch charged at once (threads); Terraform checks the batch's worst case fits the timeout.
            "charge_concurrency": int(env.get("FINALIZER_CHARGE_CONCURRENCY", "10")),
            "stripe_webhook_secret_parameter": env.get(
                "STRIPE_WEBHOOK_SECRET_PARAMETER", "/payments/finalizer/stripe-webhook-secret"
            ),
            # How long a buyer has to authenticate (3-D Secure) before the sweep cancels the payment.
            "authentication_deadline_s": int(env.get("AUTHENTICATION_DEADLINE_S", "900")),
            # How long an authorization is held for a capture before the sweep cancels it: Stripe's window for
            # online card payments, 7 days (the local run scales it down).
            "capture_window_s": int(env.get("CAPTURE_WINDOW_S", str(7 * 24 * 3600))),
        }
    )
    return container
