"""The fee rule, stated once: the ledger books it and the wallet nets it, so they cannot disagree.

Configuration has one source too: `contracts/fees.json`, which Terraform sets as FEE_BASIS_POINTS and
FEE_FIXED_MINOR on the ledger's and the wallet's functions alike; both containers read them with `from_env`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from payments_shared.money import Money


@dataclass(frozen=True)
class FeeSchedule:
    """fee = round_half_even(amount * basis_points / 10000) + fixed, capped at the amount.

    Half-even rounding: over many payments, ties round up as often as down, so fees don't drift.
    """

    basis_points: int = 0
    fixed_minor: Mapping[str, int] | None = None

    def fee(self, amount: Money) -> Money:
        percentage = amount.scale(self.basis_points, 10_000)
        fixed = Money((self.fixed_minor or {}).get(amount.currency, 0), amount.currency)
        total = percentage + fixed
        return amount if amount < total else total

    def net(self, amount: Money) -> Money:
        """What the merchant is owed for a capture of `amount`: never negative (the fee is capped)."""
        return amount - self.fee(amount)


def fee_schedule(basis_points: str, fixed_minor_json: str) -> FeeSchedule:
    """The schedule as the environment states it: FEE_BASIS_POINTS and FEE_FIXED_MINOR (JSON currency -> minor)."""
    fixed: dict[str, int] = {k: int(v) for k, v in json.loads(fixed_minor_json).items()}
    return FeeSchedule(basis_points=int(basis_points), fixed_minor=fixed)


# The environment variables that state the schedule (a container passes exactly these to `from_env`).
VARIABLES = ("FEE_BASIS_POINTS", "FEE_FIXED_MINOR")


def from_env(env: Mapping[str, str] | None) -> FeeSchedule:
    """No fee unless configured: merchants are then owed exactly what was captured."""
    env = env or {}  # a container's configuration holds an empty mapping as None
    return fee_schedule(env.get("FEE_BASIS_POINTS", "0"), env.get("FEE_FIXED_MINOR", "{}"))


FEES_FILE = Path("contracts/fees.json")


def environment_of(path: Path = FEES_FILE) -> dict[str, str]:
    """The environment variables the configuration file sets on the functions (as Terraform sets them): what
    the local stack gives its functions, so they charge the fees a deployment does."""
    configured = json.loads(path.read_text())
    return {
        "FEE_BASIS_POINTS": str(configured["basis_points"]),
        "FEE_FIXED_MINOR": json.dumps(configured["fixed_minor"]),
    }
