"""After the run's refunds, every merchant pays itself out its available balance through the local API, as a
merchant's back end would: once the settlement delay (SETTLEMENT_DELAY_S, a few seconds here) has made its
captures available, POST /payouts per currency without an amount (everything available). Each POST is sent
twice under its Idempotency-Key: the second must return the same payout and move nothing. Half of what is
available goes first, then the rest."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from devstack.load import http_retrying
from devstack.sigv4 import Keyring, LocalPrincipal
from payments_shared.money import Money

# The local settlement delay: long enough that the run's first reads show money pending, short enough to wait.
SETTLEMENT_DELAY_S = 3


@dataclass
class Payouts:
    """What each merchant was paid out, per currency (minor units), the API's answers and what it should not
    have answered."""

    paid_minor: dict[tuple[str, str], int] = field(default_factory=dict)
    answers: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)


def pay_out_everyone(api_url: str, keys: Keyring, merchants: set[str], seed: int) -> Payouts:
    """Wait out the settlement delay, then pay each merchant's available balance out, per currency: half of it,
    then the rest (the second payout appends to the merchant's payouts stream after the first)."""
    time.sleep(SETTLEMENT_DELAY_S + 1)  # every capture of the run settled (its bucket rounds up to a second)
    done = Payouts()
    for merchant in sorted(merchants):
        signer = keys.merchant(merchant)
        status, wallet = http_retrying("GET", f"{api_url}/wallets/{merchant}", signer=signer)
        for balance in wallet.get("balances", []) if status == 200 else []:
            currency, available = balance["currency"], balance["available"]["amount_minor"]
            if available <= 0:  # nothing to pay out (a negative balance: the merchant owes us)
                first, refused = _pay_out(
                    api_url, signer, {"currency": currency}, f"payout-{seed}-{merchant}-{currency}", done
                )
                if first != 422:
                    done.unexpected.append(f"{merchant}/{currency}: nothing available, answered {first} {refused}")
                continue
            half = Money(available // 2, currency)
            asks = (
                [{"currency": currency}]
                if half.minor == 0
                else [{"currency": currency, "amount": half.to_decimal_string()}, {"currency": currency}]
            )
            for step, body in enumerate(asks):
                first, paid = _pay_out(api_url, signer, body, f"payout-{seed}-{merchant}-{currency}-{step}", done)
                if first != 201:
                    done.unexpected.append(f"{merchant}/{currency} #{step}: {first} {paid}")
                    break
                done.paid_minor[(merchant, currency)] = done.paid_minor.get((merchant, currency), 0) + int(
                    paid["amount_minor"]
                )
    return done


def _pay_out(
    api_url: str, signer: LocalPrincipal, body: dict[str, str], key: str, done: Payouts
) -> tuple[int, dict[str, Any]]:
    """POST /payouts twice under one Idempotency-Key: the second must answer as the first and move nothing."""
    answers = [http_retrying("POST", f"{api_url}/payouts", body, {"Idempotency-Key": key}, signer=signer) for _ in "12"]
    done.answers.update(str(status) for status, _ in answers)
    (first, paid), (again, replayed) = answers
    if (first, paid) != (again, replayed):
        done.unexpected.append(f"{key}: {first} {paid}, then {again} {replayed}")
    return first, paid
