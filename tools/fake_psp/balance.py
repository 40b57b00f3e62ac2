"""Stripe's balance transactions in the fake PSP: every movement of the account's balance, with its fees.

Rules modelled (docs.stripe.com/api/balance_transactions, /reports/reporting-categories, stripe.com/pricing):
- One balance transaction per captured charge (type `charge`, reporting_category `charge`): amount the captured
  amount, `fee` Stripe's processing fee ("2.9% + 30¢ per successful transaction for domestic cards", a setting
  here: `card_fee_bps`, `card_fee_fixed`, applied in every currency as the fake has no card countries), net
  amount - fee. An authorization alone moves nothing; a capture of 0 neither.
- One per refund (type `refund`, category `refund`): -amount, fee 0 (Stripe keeps its processing fee), its id
  the refund's `balance_transaction`.
- One per failed refund (type `payment_failure_refund`, category `refund_failure`): the money back, +amount, its
  id the refund's `failure_balance_transaction`.
- Disputes: the Dispute's own `balance_transactions` (type `adjustment`, categories `dispute` and
  `dispute_reversal`, built in fake_psp.disputes) are listed here as they are, not written twice.
- Payouts to the bank: type `payout` (category `payout`), -amount, and `payout_failure` (category
  `payout_reversal`), +amount, when one fails: booked by fake_psp.payouts, available at once.
- `available_on` is `created` + the fake's settlement delay (`settlement_delay_s`, 2 days by default: a US card
  payment is available "2 business days later", docs.stripe.com/payments/balances; the fake counts calendar
  days); `status` is `pending` until then, `available` after.
- Not modelled: a partial capture's `partial_capture_reversal` (Stripe books the authorized amount as the charge
  and reverses the uncaptured part; the fake books the captured amount once).
- GET /v1/balance_transactions: newest first, `limit` (1-100, default 10), `starting_after`, `type`, `source`.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

SETTLEMENT_DELAY_S = 2 * 24 * 3600
CARD_FEE_BPS = 290  # 2.9%
CARD_FEE_FIXED = 30  # 30¢, in the charge's minor units


def card_fee(amount: int, bps: int, fixed: int) -> int:
    """Stripe's percentage plus fixed fee, rounded half up to a minor unit."""
    return (amount * bps + 5000) // 10000 + fixed


def balance_transaction(
    *,
    amount: int,
    fee: int,
    currency: str,
    created: int,
    available_on: int,
    source: str,
    type_: str,
    reporting_category: str,
    description: str | None,
    fee_description: str = "Stripe processing fees",
    txn_id: str | None = None,
) -> dict[str, Any]:
    """fixtures3.json's balance_transaction shape."""
    fee_details = (
        [
            {
                "amount": fee,
                "application": None,
                "currency": currency,
                "description": fee_description,
                "type": "stripe_fee",
            }
        ]
        if fee
        else []
    )
    return {
        "id": txn_id or f"txn_{secrets.token_hex(12)}",
        "object": "balance_transaction",
        "amount": amount,
        "available_on": available_on,
        "created": created,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": fee_details,
        "net": amount - fee,
        "reporting_category": reporting_category,
        "source": source,
        "status": "available",
        "type": type_,
    }


class BalanceMixin:
    """FakePsp's balance transactions (it provides _lock and clock)."""

    _lock: threading.Lock
    clock: Callable[[], float]
    settlement_delay_s: int
    card_fee_bps: int
    card_fee_fixed: int
    _balance: list[dict[str, Any]]  # every balance transaction, oldest first

    def _book(
        self,
        amount: int,
        fee: int,
        currency: str,
        source: str,
        type_: str,
        reporting_category: str,
        description: str | None,
        txn_id: str | None = None,
    ) -> dict[str, Any]:
        """Record one balance transaction (caller holds the lock)."""
        created = int(self.clock())
        txn = balance_transaction(
            amount=amount,
            fee=fee,
            currency=currency,
            created=created,
            available_on=created + self.settlement_delay_s,
            source=source,
            type_=type_,
            reporting_category=reporting_category,
            description=description,
            txn_id=txn_id,
        )
        self._balance.append(txn)
        return txn

    def _book_charge(self, charge: dict[str, Any], amount: int) -> None:
        """A captured charge (caller holds the lock); its id goes on the charge as Stripe's does."""
        if amount <= 0:
            return
        fee = card_fee(amount, self.card_fee_bps, self.card_fee_fixed)
        txn = self._book(amount, fee, charge["currency"], charge["id"], "charge", "charge", None)
        charge["balance_transaction"] = txn["id"]

    def _transaction(self, txn_id: str) -> dict[str, Any] | None:
        """One balance transaction as shown (caller holds the lock): what an expand of it puts in place."""
        found = next((t for t in self._balance if t["id"] == txn_id), None)
        return self._shown(found) if found is not None else None

    def balance_transactions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._shown(t) for t in self._balance]

    def _shown(self, txn: dict[str, Any]) -> dict[str, Any]:
        now = self.clock()
        return {
            **txn,
            "status": "available" if now >= txn["available_on"] else "pending",
            "fee_details": [dict(f) for f in txn["fee_details"]],
        }

    def _list_balance_transactions(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Newest first; `type` and `source` filter."""
        with self._lock:
            return [
                self._shown(t)
                for t in reversed(self._balance)
                if params.get("type") in (None, t["type"]) and params.get("source") in (None, t["source"])
            ]
