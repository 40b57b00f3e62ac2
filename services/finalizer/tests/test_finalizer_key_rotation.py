"""Stripe's secret key rotated in SSM reaches the finalizer once its cached value is older than its max age.

The finalizer reads the key from SSM (moto's here), cached for PSP_API_KEY_MAX_AGE_S. The cache dates its value
with `monotonic()` in finalizer.adapters.ssm_secret: the test moves that clock, so "before" and "after" the max age
are states, not waits.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest
from fake_psp import FakePsp
from finalizer_testdata import Clock, payment_initiated
from moto import mock_aws

from finalizer.adapters import ssm_secret
from finalizer.entrypoints import charge
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_testing.aws import aws_client
from payments_testing.events import deliver

OLD_KEY, NEW_KEY = "sk_test_before_rotation", "sk_test_after_rotation"


@pytest.fixture
def deployed(
    runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """The finalizer as deployed on the PSP side: its key from SSM (SecureString), the Stripe adapter it builds."""
    clock = Clock()
    monkeypatch.setattr(ssm_secret, "monotonic", clock.epoch)
    monkeypatch.setattr(psp, "api_key", OLD_KEY)
    with mock_aws():
        ssm = aws_client("ssm")
        container = runtime.container
        parameter = container.config.psp_api_key_parameter()
        ssm.put_parameter(Name=parameter, Value=OLD_KEY, Type="SecureString")
        container.psp.reset_override()  # the container's own: SSM-backed key, Stripe's SDK
        deployed_base = container.config.psp_api_base()
        container.config.psp_api_base.from_value(psp.url)
        try:
            yield {
                "ssm": ssm,
                "parameter": parameter,
                "max_age": timedelta(seconds=container.config.psp_api_key_max_age_s.as_int()()),
                "clock": clock,
            }
        finally:
            container.config.psp_api_base.from_value(deployed_base)


def rotate(deployed: dict[str, Any], psp: FakePsp) -> None:
    """Stripe rolls the key (the old one stops working at once) and the new one is put in SSM."""
    psp.api_key = NEW_KEY
    deployed["ssm"].put_parameter(Name=deployed["parameter"], Value=NEW_KEY, Type="SecureString", Overwrite=True)


def recorded(store: InMemoryEventStore, event: dict[str, Any]) -> list[str]:
    order_id = event["detail"]["data"]["payment_order_id"]
    return [e.data["status"] for e in store.load(f"payment-{order_id}").events]


def test_a_rotated_key_is_used_once_the_cached_one_is_older_than_its_max_age(
    deployed: dict[str, Any], runtime: ModuleType, store: InMemoryEventStore, psp: FakePsp
) -> None:
    before = payment_initiated()
    assert deliver(charge.handler, before) == []
    assert recorded(store, before) == ["SUCCESS"]  # charged with the key SSM held

    rotate(deployed, psp)
    deployed["clock"].now += deployed["max_age"] - timedelta(seconds=1)
    during = payment_initiated()
    # Still the cached key, which Stripe no longer takes: the request is refused, the payment not failed, nothing
    # charged; the queue redelivers it.
    assert deliver(charge.handler, during) == [0]
    assert recorded(store, during) == [] and sum(psp.intents.values()) == 1

    deployed["clock"].now += timedelta(seconds=2)  # the cached key is now older than its max age
    assert deliver(charge.handler, during) == []  # the redelivery reads the new key from SSM
    assert recorded(store, during) == ["SUCCESS"]
    after = payment_initiated()
    assert deliver(charge.handler, after) == [] and recorded(store, after) == ["SUCCESS"]
    assert sum(psp.charges.values()) == 3
