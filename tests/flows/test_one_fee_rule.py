"""The ledger and the wallet read one fee rule from one configuration: the same environment gives both the same
schedule (Terraform sets it on both from contracts/fees.json: tests/infra/test_apply_on_moto.py), and no
environment gives both no fee."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.container import build_container as ledger_container
from payments_shared.fees import FeeSchedule, from_env
from payments_shared.money import Money
from wallet.container import build_container as wallet_container

CONFIGURED = {"FEE_BASIS_POINTS": "290", "FEE_FIXED_MINOR": json.dumps({"EUR": 30})}


@pytest.mark.parametrize("env", [CONFIGURED, {}])
def test_the_ledger_and_the_wallet_read_the_same_schedule(env: dict[str, str]) -> None:
    ledger, wallet = ledger_container(env).fee_schedule(), wallet_container(env).fee_schedule()
    assert ledger == wallet == from_env(env)


def test_the_environment_states_the_schedule() -> None:
    assert from_env(CONFIGURED) == FeeSchedule(290, {"EUR": 30})
    assert from_env({}) == FeeSchedule(0, {})
    assert from_env(CONFIGURED).net(Money(1000, "EUR")) == Money(941, "EUR")


def test_the_committed_configuration_is_a_schedule() -> None:
    fees = json.loads(Path("contracts/fees.json").read_text())
    env = {"FEE_BASIS_POINTS": str(fees["basis_points"]), "FEE_FIXED_MINOR": json.dumps(fees["fixed_minor"])}
    assert isinstance(from_env(env), FeeSchedule)
