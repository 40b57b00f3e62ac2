"""A payment in each accepted kind of currency, end to end: POST /payments → finalizer → Stripe (the fake PSP) →
ledger, wallet and the order's status, every amount in the currency's own minor units.

JPY has no minor unit (ISO 4217 exponent 0): 1000 yen is `amount: 1000` at Stripe, 1000 in the journal and the
wallet, where 10.00 EUR is 1000 cents. Each service runs its real handler (in-memory stores); events go from one
to the next as each relay publishes them (integration type, contract data) and EventBridge delivers them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest
from fake_psp import FakePsp

from finalizer.adapters.memory_results import InMemoryPaymentResults
from finalizer.adapters.stripe_psp import StripePsp
from initializer.adapters.memory_orders import InMemoryPaymentOrders
from ledger.adapters.memory_accounts import InMemoryAccountTotals
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.port import StoredEvent
from payments_shared.eventstore.relay import integration_envelope
from payments_shared.stripe_amounts import from_api_units
from payments_testing.aws import LambdaContext, fake_credentials
from payments_testing.cards import LocalCardCipher, LocalCardVault
from payments_testing.events import deliver
from payments_testing.fixtures import fresh_runtime
from payments_testing.http import MERCHANT_1, OPERATOR_1, api_event, json_body
from payments_testing.psp import APPROVED_CARD
from wallet.adapters.memory_balances import InMemoryBalances

TODAY = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass
class Service:
    runtime: ModuleType  # its container
    consumer: Any  # the handler of its queue consumer
    api: Any  # the handler of its HTTP API (None: it has none)
    store: InMemoryEventStore
    published: list[StoredEvent] = field(default_factory=list)  # what its store's stream has carried, unrelayed
    source: str = ""  # EventBridge source of what its relay publishes
    integration_types: Mapping[str, str] = field(default_factory=dict)  # its events published, by their type


@dataclass
class Stack:
    initializer: Service
    finalizer: Service
    ledger: Service
    wallet: Service
    psp: FakePsp


@pytest.fixture
def stack() -> Iterator[Stack]:
    fake_credentials()  # the runtimes build their containers at import
    import finalizer.entrypoints.charge
    import finalizer.runtime
    import initializer.entrypoints.api
    import initializer.entrypoints.outcome
    import initializer.runtime
    import ledger.entrypoints.api
    import ledger.entrypoints.post
    import ledger.runtime
    import wallet.entrypoints.api
    import wallet.entrypoints.credit
    import wallet.runtime
    from finalizer.domain import streams as finalizer_names
    from initializer.domain import streams as initializer_names

    psp, cipher = (
        FakePsp(raw_card_access=True).start(),
        LocalCardCipher(),
    )  # one card key: the initializer seals, the finalizer opens
    with ExitStack() as fresh:
        entrypoints = {
            initializer.runtime: (initializer.entrypoints.outcome.handler, initializer.entrypoints.api.handler),
            finalizer.runtime: (finalizer.entrypoints.charge.handler, None),
            ledger.runtime: (ledger.entrypoints.post.handler, ledger.entrypoints.api.handler),
            wallet.runtime: (wallet.entrypoints.credit.handler, wallet.entrypoints.api.handler),
        }
        services = {}
        for module, (consumer, api) in entrypoints.items():
            service = Service(fresh.enter_context(fresh_runtime(module)), consumer, api, InMemoryEventStore())
            service.runtime.container.event_store.override(service.store)
            service.store.subscribe(service.published.append)  # the store's DynamoDB stream, to the relay
            services[module.__name__.split(".")[0]] = service
        init, fin, led, wal = (services[name] for name in ("initializer", "finalizer", "ledger", "wallet"))
        init.source, init.integration_types = initializer_names.SOURCE, initializer_names.PUBLISHED_TYPES
        fin.source, fin.integration_types = finalizer_names.SOURCE, finalizer_names.PUBLISHED_TYPES
        init.runtime.container.orders.override(InMemoryPaymentOrders("ShowMeTheMoney"))
        init.runtime.container.vault.override(LocalCardVault(cipher))
        init.runtime.container.clock.override(lambda: TODAY)
        fin.runtime.container.results.override(InMemoryPaymentResults())
        fin.runtime.container.card_cipher.override(cipher)
        fin.runtime.container.psp.override(StripePsp(lambda: psp.api_key, api_base=psp.url, read_timeout_s=30.0))
        led.runtime.container.totals.override(InMemoryAccountTotals("LedgerAccounts"))
        led.store.subscribe(lambda posted: led.runtime.container.app().add_to_totals(posted))  # totals projection
        wal.runtime.container.balances.override(InMemoryBalances("WalletBalances"))
        try:
            yield Stack(init, fin, led, wal, psp)
        finally:
            psp.stop()


def published_events(service: Service) -> list[dict[str, Any]]:
    """What the service's relay publishes of its new events, as EventBridge hands them to a rule's target."""
    deliveries = []
    for stored in service.published:
        if stored.event_type not in service.integration_types:
            continue  # private to the service
        envelope = integration_envelope(stored, service.integration_types[stored.event_type])
        entry = envelope.to_eventbridge_entry(source=service.source, bus_name="payments")
        deliveries.append(
            {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": entry["DetailType"],
                "source": entry["Source"],
                "account": "123456789012",
                "time": "2026-11-25T12:00:00Z",
                "region": "eu-west-1",
                "resources": [],
                "detail": json.loads(entry["Detail"]),
            }
        )
    service.published.clear()
    return deliveries


def get(service: Service, path: str, resource: str, parameters: dict[str, str], caller: str) -> Any:
    event = api_event("GET", path, resource=resource, path_parameters=parameters, caller=caller)
    response = service.api(event, LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    return json_body(response)


@pytest.mark.parametrize(
    ("currency", "amount", "minor"),
    # Stripe's minimum charge (50 yen, 0.30 GBP) up to the initializer's default limit (1500000 yen, 50000.00 PLN).
    [
        ("JPY", "1000", 1000),
        ("JPY", "50", 50),
        ("JPY", "1500000", 1_500_000),
        ("EUR", "10.00", 1000),
        ("GBP", "0.30", 30),
        ("PLN", "50000.00", 5_000_000),
        ("USD", "1234.56", 123_456),
    ],
)
def test_a_payment_reaches_stripe_the_books_and_the_wallet_in_its_currencys_minor_units(
    stack: Stack, currency: str, amount: str, minor: int
) -> None:
    order = {
        "merchant_id": "merchant-1",
        "amount": amount,
        "currency": currency,
        "buyer_info": {"name": "Ada Lovelace", "email": "ada@example.com", "country": "GB"},
        "payment_details": {
            "card_number": APPROVED_CARD,
            "expiry_month": 12,
            "expiry_year": 2031,
            "cvv": "737",
            "holder_name": "Ada Lovelace",
        },
    }
    created = stack.initializer.api(
        api_event("POST", "/payments", order, {"Idempotency-Key": f"flow-{currency}-{amount}"}), LambdaContext()
    )
    placed = json_body(created)
    assert created["statusCode"] == 201 and placed["status"] == "INITIATED", placed
    order_id = placed["payment_order_id"]

    [initiated] = published_events(stack.initializer)
    assert (initiated["detail"]["data"]["amount_minor"], initiated["detail"]["data"]["currency"]) == (minor, currency)
    assert deliver(stack.finalizer.consumer, initiated) == []

    [intent] = (stack.psp.intent(i) for i in stack.psp._intents)
    assert (intent["amount"], intent["currency"], intent["status"]) == (minor, currency.lower(), "succeeded")
    assert intent["metadata"]["payment_order_id"] == order_id and stack.psp.charges[order_id] == 1

    [outcome] = published_events(stack.finalizer)
    data = outcome["detail"]["data"]
    assert outcome["detail-type"] == "PaymentStatusUpdated" and data["status"] == "SUCCESS"
    assert (data["amount"], data["amount_minor"], data["currency"]) == (amount, minor, currency)
    for consumer in (stack.ledger.consumer, stack.wallet.consumer, stack.initializer.consumer):
        assert deliver(consumer, outcome) == []

    # Stripe's fee, from its balance transaction of the charge in Stripe's units, in ours.
    [txn] = stack.psp.balance_transactions()
    psp_fee = from_api_units(txn["fee"], currency).minor
    assert data["psp_fee_minor"] == psp_fee > 0
    books = get(stack.ledger, "/ledger/trial-balance", "/ledger/trial-balance", {}, OPERATOR_1)
    moved = minor + psp_fee
    assert books["balanced"] is True and books["totals"] == {currency: {"debits_minor": moved, "credits_minor": moved}}
    assert {(a["account"], a["debits_minor"], a["credits_minor"]) for a in books["accounts"]} == {
        ("psp_clearing", minor, psp_fee),
        ("psp_fees", psp_fee, 0),
        ("merchant_payable:merchant-1", 0, minor),
    }  # none of our fees configured; the PSP's is the platform's
    wallet = get(
        stack.wallet, "/wallets/merchant-1", "/wallets/{merchant_id}", {"merchant_id": "merchant-1"}, MERCHANT_1
    )
    [shown] = wallet["balances"]  # with its pending, available and paid_out figures (captured now: all pending)
    assert {k: shown[k] for k in ("currency", "amount", "amount_minor")} == {
        "currency": currency,
        "amount": amount,
        "amount_minor": minor,
    }
    assert shown["pending"] == {"amount": amount, "amount_minor": minor}
    final = get(
        stack.initializer,
        f"/payments/{order_id}",
        "/payments/{payment_order_id}",
        {"payment_order_id": order_id},
        MERCHANT_1,
    )
    assert (final["status"], final["amount"], final["currency"]) == ("SUCCESS", amount, currency)
