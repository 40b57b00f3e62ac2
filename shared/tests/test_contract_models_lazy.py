"""Contract models are built when first used, one event type at a time, and correctly under concurrent first use.

Each check runs in a fresh interpreter: a model, once built in this process, stays built."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import payments_shared.contracts  # noqa: F401 - what the fresh interpreter imports (Pants ships it)


def _run(code: str) -> str:
    done = subprocess.run(  # - our own interpreter, fixed code
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_importing_the_contracts_builds_none_and_a_validation_builds_only_its_own() -> None:
    out = _run(
        """
        from payments_shared import contracts
        built = lambda: sorted(n for n, m in contracts.CONTRACTS.items() if m.__pydantic_complete__)
        print(built())
        # The relay's public_data reads the fields only: nothing built.
        contracts.public_data(contracts.PAYMENT_STATUS_UPDATED, {"status": "SUCCESS", "private": 1})
        print(built())
        contracts.PayoutPaidData.model_validate(
            {"payout_id": "po_" + "0" * 32, "merchant_id": "m-1", "amount_minor": 5, "currency": "EUR", "created": "x"}
        )
        print(built())
        """
    )
    assert out.splitlines() == ["[]", "[]", "['PayoutPaid']"]


def test_concurrent_first_uses_of_a_derived_contract_validate_its_own_fields() -> None:
    # RefundStatusUpdatedData derives from _RefundAmount: a half-built subclass must never validate with its
    # parent's validator (which would drop `status`).
    out = _run(
        """
        from concurrent.futures import ThreadPoolExecutor
        from threading import Barrier
        from payments_shared.contracts import RefundStatusUpdatedData

        data = {"refund_id": "rf_" + "a" * 32, "payment_order_id": "6f1f4d4e-2b0a-4c55-9d55-7b1c0b1e5a10",
                "merchant_id": "m-1", "amount": "1.00", "amount_minor": 100, "currency": "EUR", "status": "REVERSED"}
        start = Barrier(8)

        def first_use(_: int) -> str:
            start.wait()
            return RefundStatusUpdatedData.model_validate(data).status

        with ThreadPoolExecutor(8) as pool:
            print(sorted(set(pool.map(first_use, range(8)))))
        """
    )
    assert out == "['REVERSED']"
