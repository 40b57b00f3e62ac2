"""After the run's refunds, every merchant pays itself out its available balance through the local API, as a
merchant's back end would: once the settlement delay (SETTLEMENT_DELAY_S, a few seconds here) has made its
captures available, POST /payouts per currency without an amount (everything available). Each POST is sent
twice under its Idempotency-Key: the second must return the same payout and move nothing."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from devstack.load import http
from devstack.sigv4 import Keyring

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
    """Wait out the settlement delay, then pay each merchant's available balance out, per currency."""
    time.sleep(SETTLEMENT_DELAY_S + 1)  # every capture of the run settled (its bucket rounds up to a second)
    done = Payouts()
    for merchant in sorted(merchants):
        signer = keys.merchant(merchant)
        status, wallet = http("GET", f"{api_url}/wallets/{merchant}", signer=signer)
        for balance in wallet.get("balances", []) if status == 200 else []:
            currency, available = balance["currency"], balance["available"]["amount_minor"]
            key = {"Idempotency-Key": f"payout-{seed}-{merchant}-{currency}"}
            answers = [http("POST", f"{api_url}/payouts", {"currency": currency}, key, signer=signer) for _ in "12"]
            done.answers.update(str(status) for status, _ in answers)
            (first, paid), (_, again) = answers
            if available <= 0:  # nothing to pay out (a negative balance: the merchant owes us)
                if first != 422:
                    done.unexpected.append(f"{merchant}/{currency}: nothing available, answered {first} {paid}")
                continue
            if first != 201 or paid != again:
                done.unexpected.append(f"{merchant}/{currency}: {first} {paid}, then {again}")
                continue
            done.paid_minor[(merchant, currency)] = int(paid["amount_minor"])
    return done
