"""Stripe's disputes in the fake PSP: the dispute test card and what test mode lets an integration do with one.

Rules modelled (docs.stripe.com/testing#disputes, /disputes/api, support.stripe.com/topics/disputes):
- The card 4000000000000259 (pm_card_createDispute) "charge succeeds, only to be disputed" (reason fraudulent):
  a Dispute `needs_response` on the charge, `charge.dispute.created` (and `charge.dispute.funds_withdrawn`).
- "The payment amount, along with a separate dispute received fee levied by the card network, is deducted from
  your account balance": one balance transaction of -amount with a `fee` (Dispute fee), net -(amount + fee).
- "If the dispute is found in your favor, the disputed amount and the dispute countered fee is returned to you":
  the dispute (received) fee is not returned; a won dispute adds a reinstatement of +amount, fee 0. The "dispute
  counter fee" (since June 2025, charged when a dispute is countered, "returned if you win") is not modelled: the
  fake charges none on submitting evidence, so there is none to return (see README, Disputes).
- A charge with a chargeback cannot be refunded: Dispute.is_charge_refundable ("If true, it's still possible to
  refund the disputed payment") is false, and POST /v1/refunds answers 400 charge_disputed ("The charge you're
  attempting to refund has been charged back", docs.stripe.com/error-codes), nothing refunded.
- Test mode decides on the evidence: POST /v1/disputes/{id} with evidence[uncategorized_text]=winning_evidence
  closes it `won`, losing_evidence `lost` (other evidence: `under_review`; submit=false only saves it);
  POST /v1/disputes/{id}/close accepts it: `lost`. Each close sends `charge.dispute.closed`. A closed dispute
  cannot be updated or closed again (400).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fake_psp.balance import balance_transaction

DISPUTE_CARD = "4000000000000259"
DISPUTE_REASON = "fraudulent"  # what the test card's dispute gives as its reason
# Stripe's dispute (received) fee in minor units, by currency. Stripe documents only that "the fee for disputes
# varies by region" (support.stripe.com/questions/dispute-fees-faq); $15.00 is its US fee, the others here are
# stand-ins (unconfirmed per-currency amounts); a currency not listed is charged 1500 of its own minor units.
DISPUTE_FEES = {"usd": 1500, "eur": 1500, "gbp": 1500}
DEFAULT_DISPUTE_FEE = 1500
WINNING_EVIDENCE = "winning_evidence"
LOSING_EVIDENCE = "losing_evidence"
OPEN_STATUSES = frozenset({"warning_needs_response", "needs_response", "under_review", "warning_under_review"})
EVIDENCE_FIELDS = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)


def dispute_fee(currency: str) -> int:
    return DISPUTE_FEES.get(currency, DEFAULT_DISPUTE_FEE)


def _txn(amount: int, fee: int, currency: str, created: int, dispute_id: str, description: str) -> dict[str, Any]:
    """A balance transaction as the Dispute lists it (fake_psp.balance lists the same one): a withdrawal or a
    reinstatement moves the balance at once."""
    return balance_transaction(
        amount=amount,
        fee=fee,
        currency=currency,
        created=created,
        available_on=created,
        source=dispute_id,
        type_="adjustment",
        reporting_category="dispute" if amount < 0 else "dispute_reversal",
        description=description,
        fee_description="Dispute fee",
    )


class DisputesMixin:
    """FakePsp's disputes (it provides _lock, _charges, _emit, clock and _stored_answer)."""

    _lock: threading.Lock
    _charges: dict[str, dict[str, Any]]
    _disputes: dict[str, dict[str, Any]]
    _balance: list[dict[str, Any]]
    clock: Callable[[], float]
    requests: Any
    _stored: dict[str, Any]

    if TYPE_CHECKING:

        def _emit(self, event_type: str, intent: dict[str, Any], origin: dict[str, str | None]) -> None: ...

        def _stored_answer(self, key: str, params: dict[str, Any]) -> tuple[int, dict[str, Any], bool] | None: ...

    def dispute(self, dispute_id: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._disputes[dispute_id])

    def disputes_of(self, intent_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(d) for d in self._disputes.values() if d["payment_intent"] == intent_id]

    def _charged_back(self, charge_id: str) -> dict[str, Any] | None:
        """A dispute of the charge that keeps it from being refunded (caller holds the lock). The test card's
        chargeback shows `is_charge_refundable` false, and the fake keeps it so once closed: Stripe's documentation
        does not say a closed chargeback makes its charge refundable again."""
        return next(
            (d for d in self._disputes.values() if d["charge"] == charge_id and not d["is_charge_refundable"]), None
        )

    def _open_dispute(self, charge: dict[str, Any], origin: dict[str, str | None]) -> dict[str, Any]:
        """The cardholder's bank disputes a charge (caller holds the lock)."""
        dispute_id = f"dp_{secrets.token_hex(12)}"
        created = int(self.clock())
        amount, currency = charge["amount"], charge["currency"]
        withdrawal = _txn(
            -amount, dispute_fee(currency), currency, created, dispute_id, f"Chargeback withdrawal for {charge['id']}"
        )
        dispute: dict[str, Any] = {
            "id": dispute_id,
            "object": "dispute",
            "amount": amount,
            "balance_transactions": [withdrawal],
            "charge": charge["id"],
            "created": created,
            "currency": currency,
            "evidence": dict.fromkeys(EVIDENCE_FIELDS),
            "evidence_details": {
                "due_by": created + 7 * 24 * 3600,
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "reason": DISPUTE_REASON,
            "status": "needs_response",
        }
        self._disputes[dispute_id] = dispute
        self._balance.append(withdrawal)  # the same transaction, in the account's balance
        charge["disputed"] = True
        self._emit("charge.dispute.created", dispute, origin)
        self._emit("charge.dispute.funds_withdrawn", dispute, origin)
        return dispute

    def _update_dispute(
        self, dispute_id: str, key: str | None, params: dict[str, Any], request_id: str, close: bool
    ) -> tuple[int, dict[str, Any], bool]:
        """POST /v1/disputes/{id} (evidence, submit, metadata) or /v1/disputes/{id}/close: (status, body,
        replayed)."""
        origin = {"id": request_id, "idempotency_key": key}
        endpoint = f"/v1/disputes/{dispute_id}" + ("/close" if close else "")
        stored_params = {**params, "(endpoint)": endpoint}
        with self._lock:
            if key is not None:
                self.requests[key] += 1
                stored = self._stored_answer(key, stored_params)
                if stored is not None:
                    return stored
            dispute = self._disputes.get(dispute_id)
            if dispute is None:
                return 404, _error(f"No such dispute: '{dispute_id}'", "dispute", "resource_missing"), False
            status, body = self._close(dispute, origin) if close else self._respond(dispute, params, origin)
            if key is not None and status == 200:
                self._stored[key] = (stored_params, status, body, self.clock())
            return status, body, False

    def _respond(
        self, dispute: dict[str, Any], params: dict[str, Any], origin: dict[str, str | None]
    ) -> tuple[int, dict[str, Any]]:
        if dispute["status"] not in OPEN_STATUSES:
            return 400, _closed(dispute)
        evidence = params.get("evidence") or {}
        if not isinstance(evidence, dict) or (unknown := sorted(set(evidence) - set(EVIDENCE_FIELDS))):
            name = unknown[0] if isinstance(evidence, dict) else ""
            return 400, _error(f"Received unknown parameter: evidence[{name}]", f"evidence[{name}]", None)
        submit = str(params.get("submit", "true")).lower() != "false"
        dispute["evidence"].update(evidence)
        dispute["metadata"].update(params.get("metadata") or {})
        dispute["evidence_details"]["has_evidence"] = any(dispute["evidence"].values())
        if not submit:
            self._emit("charge.dispute.updated", dispute, origin)
            return 200, _copy(dispute)
        dispute["evidence_details"]["submission_count"] += 1
        text = dispute["evidence"].get("uncategorized_text")
        if text == WINNING_EVIDENCE:
            dispute["status"] = "won"
            reinstatement = _txn(
                dispute["amount"],
                0,
                dispute["currency"],
                int(self.clock()),
                dispute["id"],
                f"Chargeback reversal for {dispute['charge']}",
            )
            dispute["balance_transactions"].append(reinstatement)
            self._balance.append(reinstatement)
            self._emit("charge.dispute.updated", dispute, origin)
            self._emit("charge.dispute.funds_reinstated", dispute, origin)
            self._emit("charge.dispute.closed", dispute, origin)
        elif text == LOSING_EVIDENCE:
            dispute["status"] = "lost"
            self._emit("charge.dispute.updated", dispute, origin)
            self._emit("charge.dispute.closed", dispute, origin)
        else:
            dispute["status"] = "under_review"
            self._emit("charge.dispute.updated", dispute, origin)
        return 200, _copy(dispute)

    def _close(self, dispute: dict[str, Any], origin: dict[str, str | None]) -> tuple[int, dict[str, Any]]:
        """Accepting a dispute: it is lost (the amount and the fee stay withdrawn)."""
        if dispute["status"] not in OPEN_STATUSES:
            return 400, _closed(dispute)
        dispute["status"] = "lost"
        self._emit("charge.dispute.closed", dispute, origin)
        return 200, _copy(dispute)

    def _retrieve_dispute(self, dispute_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            dispute = self._disputes.get(dispute_id)
            if dispute is None:
                return 404, _error(f"No such dispute: '{dispute_id}'", "dispute", "resource_missing")
            return 200, _copy(dispute)

    def _list_disputes(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Newest first, `payment_intent` or `charge` to filter."""
        with self._lock:
            return [
                _copy(d)
                for d in reversed(self._disputes.values())
                if params.get("payment_intent") in (None, d["payment_intent"])
                and params.get("charge") in (None, d["charge"])
            ]


def _copy(dispute: dict[str, Any]) -> dict[str, Any]:
    return {
        **dispute,
        "balance_transactions": [dict(t) for t in dispute["balance_transactions"]],
        "evidence": dict(dispute["evidence"]),
        "evidence_details": dict(dispute["evidence_details"]),
        "metadata": dict(dispute["metadata"]),
    }


def _error(message: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"type": "invalid_request_error", "message": message, "param": param, "code": code}}


def _closed(dispute: dict[str, Any]) -> dict[str, Any]:
    return _error(f"This dispute is already closed (status {dispute['status']}): it cannot be updated.", None, None)
