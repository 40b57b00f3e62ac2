"""Stripe's payouts of the account's balance to its bank in the fake PSP, and the balance they draw on.

Rules modelled (docs.stripe.com/api/payouts, /api/balance, /payouts, /reports/balance-transaction-types; the
Payout object's shape is stripe/openapi's fixtures3.json `payout`):
- POST /v1/payouts `amount` (a positive integer in minor units), `currency`, `description`, `metadata`: a standard
  payout to the default bank account draws on the `available` balance in that currency; more than is available
  is refused (400 invalid_request_error, code `balance_insufficient`) and nothing moves. The same idempotency
  rules as the fake's other POSTs (a refusal for bad parameters or balance is not stored, so a retry runs afresh).
- The payout's balance transaction is booked at once: type `payout`, reporting_category `payout`, amount -amount,
  fee 0, available at once (the money has left the balance); its id is the payout's `balance_transaction`.
- "A payout is pending until it's submitted to the bank, when it becomes in_transit. The status changes to paid
  if the transaction succeeds, or to failed or canceled": here `pending` → `paid` once its `arrival_date`
  (created + `payout_arrival_s`) has passed on the fake's clock (when next looked at, `pay_payouts_due()`, or a
  timer `payout_arrival_s` later), announced by `payout.paid`.
- "Some payouts that fail might initially show as paid, then change to failed": `fail_payout(id)` (a pending or
  paid payout; the tests' trigger, as `fail_refund` is for refunds) makes it `failed` with a failure_code and
  message, books the money back (type `payout_failure`, reporting_category `payout_reversal`, +amount, its id the
  payout's `failure_balance_transaction`) and sends `payout.failed`.
- GET /v1/balance: per currency `available` (credits once their available_on has passed; debits — refunds,
  disputes, payouts — count at once, so a payout never draws on money a pending debit has taken) and `pending`.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

PAYOUT_ARRIVAL_S = 2 * 24 * 3600  # Stripe's standard payouts: about two business days to the bank
PAYOUT_FAILURE_CODE = "account_closed"  # one of Stripe's payout failure codes
PAYOUT_FAILURE_MESSAGE = "The bank account has been closed."
INSUFFICIENT_BALANCE = (
    "You have insufficient funds in your Stripe account for this transfer. Your card balance is too low. You can use "
    "the /v1/balance endpoint to view your Stripe balance (for more details, see stripe.com/docs/api#balance)."
)


class PayoutsMixin:
    """FakePsp's payouts (it provides _lock, _balance, _book, _emit, clock, _stored_answer and _stored)."""

    _lock: threading.Lock
    _balance: list[dict[str, Any]]
    _payouts: dict[str, dict[str, Any]]
    _payout_timers: list[threading.Timer]
    payout_arrival_s: float
    pay_payouts_after_s: float | None
    clock: Callable[[], float]
    requests: Any
    _stored: dict[str, Any]

    if TYPE_CHECKING:

        def _emit(self, event_type: str, intent: dict[str, Any], origin: dict[str, str | None]) -> None: ...

        def _stored_answer(self, key: str, params: dict[str, Any]) -> tuple[int, dict[str, Any], bool] | None: ...

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
        ) -> dict[str, Any]: ...

    # -- control (tests, the local run)
    def payout(self, payout_id: str) -> dict[str, Any]:
        with self._lock:
            self._pay_if_due(self._payouts[payout_id])
            return dict(self._payouts[payout_id])

    def pay_payouts_due(self) -> list[str]:
        """Every pending payout whose arrival_date has passed on the fake's clock becomes paid; their ids."""
        with self._lock:
            return [p["id"] for p in list(self._payouts.values()) if self._pay_if_due(p)]

    def fail_payout(self, payout_id: str) -> dict[str, Any]:
        """The bank returns a payout (pending or paid): it becomes `failed`, its amount comes back on the balance
        (a payout_failure transaction) and payout.failed is sent. KeyError for an unknown payout, ValueError
        (nothing changed) for one already failed or canceled."""
        with self._lock:
            payout = self._payouts[payout_id]
            if payout["status"] not in ("pending", "in_transit", "paid"):
                raise ValueError(f"Payout {payout_id} has status {payout['status']}: it cannot fail")
            back = self._book(
                payout["amount"], 0, payout["currency"], payout_id, "payout_failure", "payout_reversal", "STRIPE PAYOUT"
            )
            back["available_on"] = back["created"]  # the money is back at once
            payout.update(
                status="failed",
                failure_balance_transaction=back["id"],
                failure_code=PAYOUT_FAILURE_CODE,
                failure_message=PAYOUT_FAILURE_MESSAGE,
            )
            self._emit("payout.updated", payout, {"id": None, "idempotency_key": None})
            self._emit("payout.failed", payout, {"id": None, "idempotency_key": None})
            return dict(payout)

    def balance(self) -> dict[str, dict[str, int]]:
        """{currency: {"available": minor units, "pending": minor units}} as GET /v1/balance shows them."""
        with self._lock:
            return self._balances()

    # -- the API
    def _create_payout(
        self, key: str | None, params: dict[str, Any], request_id: str
    ) -> tuple[int, dict[str, Any], bool]:
        """POST /v1/payouts: (HTTP status, body, replayed)."""
        origin = {"id": request_id, "idempotency_key": key}
        stored_params = {**params, "(endpoint)": "/v1/payouts"}
        with self._lock:
            if key is not None:
                self.requests[key] += 1
                stored = self._stored_answer(key, stored_params)
                if stored is not None:
                    return stored
            refusal = self._payout_refusal(params)
            if refusal is not None:
                return 400, {"error": refusal}, False  # not stored: a retry runs afresh
            payout = self._new_payout(int(params["amount"]), str(params["currency"]), params, origin)
            if key is not None:
                self._stored[key] = (stored_params, 200, dict(payout), self.clock())
        return 200, dict(payout), False

    def _payout_refusal(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """Stripe's refusal of a payout's parameters or of its amount against the available balance (caller holds
        the lock); None when it may go."""
        amount, currency = params.get("amount"), str(params.get("currency") or "")
        if amount is None:
            return _error("Missing required param: amount.", "amount", "parameter_missing")
        if not str(amount).isdigit() or int(amount) < 1:
            return _error("This value must be greater than or equal to 1.", "amount", "parameter_invalid_integer")
        if not currency:
            return _error("Missing required param: currency.", "currency", "parameter_missing")
        if len(currency) != 3 or not currency.isalpha() or not currency.islower():
            return _error(f"Invalid currency: {currency}.", "currency", "parameter_invalid_empty")
        method = params.get("method") or "standard"
        if method != "standard":
            return _error("This fake pays out with method=standard only.", "method", "parameter_invalid_empty")
        if int(amount) > self._balances().get(currency, {}).get("available", 0):
            return _error(INSUFFICIENT_BALANCE, None, "balance_insufficient")
        return None

    def _new_payout(
        self, amount: int, currency: str, params: dict[str, Any], origin: dict[str, str | None]
    ) -> dict[str, Any]:
        """Caller holds the lock."""
        payout_id = f"po_{secrets.token_hex(12)}"
        created = int(self.clock())
        txn = self._book(-amount, 0, currency, payout_id, "payout", "payout", "STRIPE PAYOUT")
        txn["available_on"] = created  # the money has left the balance
        payout: dict[str, Any] = {
            "id": payout_id,
            "object": "payout",
            "amount": amount,
            "application_fee": None,
            "application_fee_amount": None,
            "arrival_date": created + int(self.payout_arrival_s),
            "automatic": False,  # requested through the API (Stripe's own schedule sets true)
            "balance_transaction": txn["id"],
            "created": created,
            "currency": currency,
            "description": params.get("description") or "STRIPE PAYOUT",
            "destination": "ba_fake_psp_default",
            "failure_balance_transaction": None,
            "failure_code": None,
            "failure_message": None,
            "livemode": False,
            "metadata": dict(params.get("metadata") or {}),
            "method": "standard",
            "original_payout": None,
            "reconciliation_status": "not_applicable",
            "reversed_by": None,
            "source_type": "card",
            "statement_descriptor": params.get("statement_descriptor") or None,
            "status": "pending",
            "type": "bank_account",
        }
        self._payouts[payout_id] = payout
        self._emit("payout.created", payout, origin)
        if self.pay_payouts_after_s is not None:
            timer = threading.Timer(self.pay_payouts_after_s, self._arrive, [payout_id])
            timer.daemon = True
            self._payout_timers.append(timer)
            timer.start()
        return payout

    def _arrive(self, payout_id: str) -> None:
        """The bank's answer, from a timer thread: the payout is paid (unless it failed meanwhile)."""
        with self._lock:
            payout = self._payouts.get(payout_id)
            if payout is not None and payout["status"] == "pending":
                self._paid(payout)

    def _pay_if_due(self, payout: dict[str, Any]) -> bool:
        """Caller holds the lock."""
        if payout["status"] != "pending" or self.clock() < payout["arrival_date"]:
            return False
        self._paid(payout)
        return True

    def _paid(self, payout: dict[str, Any]) -> None:
        payout["status"] = "paid"
        self._emit("payout.updated", payout, {"id": None, "idempotency_key": None})
        self._emit("payout.paid", payout, {"id": None, "idempotency_key": None})

    def _retrieve_payout(self, payout_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            payout = self._payouts.get(payout_id)
            if payout is None:
                return 404, {"error": _error(f"No such payout: '{payout_id}'", "id", "resource_missing")}
            self._pay_if_due(payout)
            return 200, dict(payout)

    def _list_payouts(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Newest first; `status` filters."""
        with self._lock:
            for payout in self._payouts.values():
                self._pay_if_due(payout)
            return [dict(p) for p in reversed(self._payouts.values()) if params.get("status") in (None, p["status"])]

    def _balances(self) -> dict[str, dict[str, int]]:
        """Caller holds the lock. A credit is available once its available_on has passed; a debit at once."""
        now = self.clock()
        sums: dict[str, dict[str, int]] = {}
        for txn in self._balance:
            figures = sums.setdefault(txn["currency"], {"available": 0, "pending": 0})
            settled = txn["net"] < 0 or now >= txn["available_on"]
            figures["available" if settled else "pending"] += txn["net"]
        return sums

    def _balance_object(self) -> tuple[int, dict[str, Any]]:
        """GET /v1/balance, in fixtures3.json's `balance` shape."""
        with self._lock:
            sums = self._balances()

        def funds(which: str) -> list[dict[str, Any]]:
            return [
                {"amount": figures[which], "currency": currency, "source_types": {"card": figures[which]}}
                for currency, figures in sorted(sums.items())
            ]

        return 200, {
            "object": "balance",
            "available": funds("available"),
            "connect_reserved": [{"amount": 0, "currency": c} for c in sorted(sums)],
            "livemode": False,
            "pending": funds("pending"),
        }


def _error(message: str, param: str | None, code: str) -> dict[str, Any]:
    return {
        "type": "invalid_request_error",
        "code": code,
        "message": message,
        "param": param,
        "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
    }
