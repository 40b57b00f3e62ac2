"""Fake PSP: a faithful subset of Stripe's PaymentIntents API on 127.0.0.1, scriptable to misbehave.

API (Stripe's wire format: form-encoded requests with bracketed keys, JSON answers, bearer-key auth):
  POST /v1/payment_intents        create; with confirm=true it charges `payment_method` (one of Stripe's test
                                  PaymentMethods, e.g. pm_card_visa) or, only with raw card data access
                                  (`raw_card_access`, off as on a new account), payment_method_data[card][...];
                                  `return_url` is where 3-D Secure sends the buyer back
  POST /v1/payment_intents/{id}/capture  `amount_to_capture` (default and at most `amount_capturable`) of an
                                  intent in requires_capture (a create with capture_method=manual); the rest is
                                  released; other states → 400 payment_intent_unexpected_state
  POST /v1/payment_intents/{id}/cancel   `cancellation_reason` (duplicate, fraudulent, requested_by_customer,
                                  abandoned) from requires_payment_method, requires_capture, requires_confirmation,
                                  requires_action or processing; from succeeded or canceled a 400
                                  payment_intent_unexpected_state with the intent in `error.payment_intent`
  GET  /v1/payment_intents/{id}   the PaymentIntent as it stands now
  expand[]=latest_charge(.balance_transaction) on a create, capture, cancel or GET of an intent: its Charge and
                                  that charge's balance transaction (with Stripe's fee) in place of their ids
                                  (fake_psp.expand); any other path → 400
  GET  /v1/payment_intents/search?query=metadata['k']:'v'   Stripe's Search API (intents indexed after a lag)
  POST /v1/refunds                `payment_intent` (a succeeded one), `amount` (default: what is left), `reason`
                                  (duplicate, fraudulent, requested_by_customer), `metadata`; Stripe's refusals:
                                  more than is left → amount_too_large, nothing left → charge_already_refunded,
                                  a charge with a chargeback (is_charge_refundable false) → charge_disputed, an
                                  uncaptured intent (requires_capture: cancel it instead) →
                                  payment_intent_unexpected_state
  GET  /v1/refunds/{id}, GET /v1/refunds?payment_intent=…   a refund; an intent's refunds (newest first)
  GET  /v1/charges/{id}           the charge a succeeded intent made (`amount_refunded`, `refunded`)
  GET  /v1/balance_transactions  every move of the balance (charges, refunds, failed refunds, disputes), newest
                                 first, `type`, `source`, `limit`, `starting_after` (fake_psp.balance)
  GET  /v1/disputes/{id}, GET /v1/disputes?payment_intent=…   a dispute; disputes (newest first)
  POST /v1/payouts                `amount`, `currency` (at most the available balance, else balance_insufficient),
                                  `description`, `metadata`; GET /v1/payouts/{id}, GET /v1/payouts (newest first,
                                  `status`); GET /v1/balance: available and pending per currency (fake_psp.payouts)
  POST /v1/disputes/{id}          evidence[...], submit, metadata; POST /v1/disputes/{id}/close accepts (lost):
                                  the dispute test card's rules, in fake_psp.disputes
  GET  /3ds/{id}, POST /3ds/{id}/complete|fail   the buyer's 3-D Secure page (no key: the buyer's browser); the
                                  POST answers 303 to the return_url, with payment_intent and
                                  payment_intent_client_secret appended, or without one a small "done" page;
                                  `authenticate(id, succeed)` does the same from Python
Errors have Stripe's shape: {"error": {"type", "code", "decline_code", "message", "param", "payment_intent"}}.
A card decline is HTTP 402 with type card_error; a bad or missing key 401; a bad parameter 400.

3-D Secure: a card that asks for it (pm_card_authenticationRequired, 4000002500003155) answers 200 with status
requires_action and `next_action` redirect_to_url {url: this fake's /3ds/{id}, return_url} when the create had a
return_url, else use_stripe_sdk (opaque to integrations; its `stripe_js` is the same page). Completing it → succeeded
(a charge, counted in `charges` under the creation's key); failing it → requires_payment_method with
last_payment_error payment_intent_authentication_failure. Authenticating an intent not in requires_action: 400 /
ValueError, nothing changes.

Idempotency as Stripe documents it: an `Idempotency-Key` with the same parameters replays the stored answer
(status and body, header `Idempotent-Replayed: true`); the same key with other parameters (or on another endpoint)
→ 400 idempotency_error; a key whose first request is still running → 409. Only requests that began executing are
stored: a 400 for bad parameters or a 503 before execution is not, so a retry runs afresh. Keys are pruned
once 24 hours old on the fake's clock (`clock`, which a test moves): a request with a pruned key runs afresh.

Amounts follow Stripe's rules (currencies, minimum and maximum charge, ISK in whole krónur, three-decimal
amounts ending in 0): a refusal is a 400 with Stripe's code (amount_too_small, ...), not stored.
Outcomes follow Stripe's documented test cards (TEST_CARDS); any other number is declined as a live card
used in test mode, as Stripe does. Faults are scripted per idempotency key (`script(key, [...])`) or drawn
at random (`fault_rates`):
  "503"           answer 503 before executing (nothing stored, nothing charged)
  "timeout"       hang past the client's read timeout, then 503 (nothing charged)
  "lost"          execute (or replay) and store, then hang past the client's read timeout (outcome unknown)
  "processing"    the intent answers `processing`; it settles to the card's outcome on the next retrieve
  "processing:<n>"  the same, but it stays `processing` through the next n retrieves and settles on the one after
  "canceled[:<reason>]"  the intent answers `processing`, and is canceled before it settles (as by a cancel call
                  from the Dashboard or an operator): the next retrieve finds it `canceled`, with `canceled_at`
                  and `cancellation_reason` (default requested_by_customer), nothing charged
  "latency:<ms>"  answer normally after a delay
Every API answer also takes the `latency` model's time (fake_psp.latency: none by default, `fixed:<ms>`, or a
Stripe-like distribution, an assumption stated there); `answer_seconds` holds each answer's time per endpoint.

Manual capture (docs.stripe.com/payments/place-a-hold-on-a-payment-method): capture_method=manual leaves an
approved card's intent in requires_capture with `amount_capturable` = amount and an uncaptured charge (captured
false, amount_captured 0), announced by payment_intent.amount_capturable_updated. A capture makes it succeeded
with amount_received = the captured amount; the charge's amount_captured is that and the released rest counts
in its amount_refunded, so refunds are bounded by what was captured. A cancel releases the whole authorization
(amount_capturable 0, the charge refunded). "You must capture the funds before the authorization expires. If
the authorization expires before you capture the funds, the funds are released and the payment status changes
to canceled": an intent left in requires_capture for AUTHORIZATION_WINDOW_S (7 days for online card payments)
on the fake's clock is canceled by the fake itself (cancellation_reason `automatic`) when next looked at, or by
`expire_authorizations()`.

Refunds: a refund of a charge starts `succeeded` and counts in its charge's `amount_refunded` (`refunded` once
all of it is). The refund-fail test card (pm_card_refundFail, 4000000000005126) charges normally, but each of its
refunds fails `refund_fail_after_s` later (None: only when `fail_refund(id)` is called): `failed` with a
failure_reason, the amount back on the charge, and the events refund.failed and charge.refund.updated.
Refund creation follows the same idempotency rules and scripted faults ("503", "timeout", "lost") as a create.

Payouts of the balance to the bank (fake_psp.payouts): booked at once (a `payout` balance transaction), `pending`
until paid at arrival (payout.paid), or failed by `fail_payout(id)` with the money back (payout.failed).

Webhooks, signed as Stripe signs them. Every status change of an intent (create, a `processing` intent settling,
authentication, capture, cancel) emits an Event (`webhook_events`, in order: payment_intent.created,
.processing, .succeeded, .payment_failed, .requires_action, .amount_capturable_updated, .canceled; data.object
the intent as it then stood). Those of
`webhook_types` are POSTed to `webhook_url` (if set when the event is emitted; settable after construction) by
a background worker, never the request thread, with `Stripe-Signature: t=<ts>,v1=<HMAC-SHA256 of "<t>.<body>"
keyed by webhook_secret>,v0=<fake>` (`stripe_signature`; test mode's extra v0 is a signature nobody can verify,
as Stripe's). A 2xx answer delivers it; any other answer, a connection error or a `webhook_timeout_s` timeout
is retried with exponential backoff (`webhook_retry_base_s` doubling, capped at `webhook_retry_cap_s`) up to
`webhook_max_attempts`, then abandoned: Stripe retries for up to 3 days, the fake compresses that into seconds.
Faults, drawn from the `seed`ed random (drawn only when set, so the other draws stay as they were):
`webhook_duplicate_rate` (an event delivered twice), `webhook_delay_s=(lo, hi)` (a random wait before an event's
first attempt: late and out of order); `pause_webhooks()` / `resume_webhooks()` hold them. Counters by event id:
`webhook_attempts`, `webhooks_delivered`, `webhooks_abandoned`; `wait_for_webhooks(timeout_s)` is True once
nothing is pending or in flight. `stop()` stops the worker too (undelivered events are dropped).
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import html
import http.client
import itertools
import json
import os
import random
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fake_psp.balance import CARD_FEE_BPS, CARD_FEE_FIXED, SETTLEMENT_DELAY_S, BalanceMixin
from fake_psp.disputes import DISPUTE_CARD, DisputesMixin
from fake_psp.expand import expanded_intent
from fake_psp.expand import refusal as expand_refusal
from fake_psp.expand import requested as expand_requested
from fake_psp.latency import Latency
from fake_psp.latency import parse as parse_latency
from fake_psp.payouts import PAYOUT_ARRIVAL_S, PayoutsMixin
from fake_psp.rate_limits import RateLimits, endpoint
from payments_shared import stripe_amounts

API_KEY = "sk_test_fake_psp"
KEY_RETENTION_S = 24 * 3600  # Stripe prunes idempotency keys once they are at least 24 hours old
SEARCH_LAG_S = 60.0  # "data is generally searchable within a minute" (and later during outages)
# "Authorization validity windows": 7 days for online (card-not-present) card payments, then Stripe cancels it.
AUTHORIZATION_WINDOW_S = 7 * 24 * 3600
# The cancellation_reason of Stripe's own cancel of an expired hold: one of its internal reasons ("failed_invoice,
# void_invoice, automatic, or expired"); which one an expiry carries is not documented (automatic assumed).
EXPIRED_AUTHORIZATION_REASON = "automatic"
CAPTURE_METHODS = ("automatic", "automatic_async", "manual")


@dataclass(frozen=True)
class CardOutcome:
    status: str  # the intent's status, or "declined"
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None


_SUCCEEDS = CardOutcome("succeeded")
# https://docs.stripe.com/testing: numbers and the answers Stripe gives for them.
TEST_CARDS: dict[str, CardOutcome] = {
    "4242424242424242": _SUCCEEDS,
    "4000056655665556": _SUCCEEDS,  # visa debit
    "5555555555554444": _SUCCEEDS,  # mastercard
    "378282246310005": _SUCCEEDS,  # amex
    "6011111111111117": _SUCCEEDS,  # discover
    "4000000000000002": CardOutcome("declined", "card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": CardOutcome(
        "declined", "card_declined", "insufficient_funds", "Your card has insufficient funds."
    ),
    "4000000000000069": CardOutcome("declined", "expired_card", "expired_card", "Your card has expired."),
    "4000000000000127": CardOutcome(
        "declined", "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."
    ),
    "4000000000000119": CardOutcome(
        "declined",
        "processing_error",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    "4000002500003155": CardOutcome("requires_action"),
    "4000000000005126": _SUCCEEDS,  # its refunds fail later (REFUND_FAIL_CARD)
    DISPUTE_CARD: _SUCCEEDS,  # "charge succeeds, only to be disputed" (fake_psp.disputes)
}
REFUND_FAIL_CARD = "4000000000005126"
# What a refund of REFUND_FAIL_CARD fails with: one of Stripe's Refund.failure_reason values.
REFUND_FAILURE_REASON = "expired_or_canceled_card"
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
# Stripe's test PaymentMethods (docs.stripe.com/testing) and the test card each stands for.
TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005",
    "pm_card_discover": "6011111111111117",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_authenticationRequired": "4000002500003155",
    "pm_card_refundFail": REFUND_FAIL_CARD,
    "pm_card_createDispute": DISPUTE_CARD,
}
# Stripe's PaymentIntent.cancellation_reason values.
CANCELLATION_REASONS = frozenset(
    {
        "abandoned",
        "automatic",
        "duplicate",
        "expired",
        "failed_invoice",
        "fraudulent",
        "requested_by_customer",
        "void_invoice",
    }
)
# What POST /v1/payment_intents/{id}/cancel accepts (a subset of the values an intent can carry).
CANCEL_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
CANCELABLE = frozenset(
    {"requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing"}
)
# The event that announces each status an intent reaches.
STATUS_EVENTS = {
    "processing": "payment_intent.processing",
    "requires_action": "payment_intent.requires_action",
    "requires_payment_method": "payment_intent.payment_failed",
    "succeeded": "payment_intent.succeeded",
    "canceled": "payment_intent.canceled",
    "requires_capture": "payment_intent.amount_capturable_updated",
}
WEBHOOK_TYPES = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.requires_action",
        "payment_intent.amount_capturable_updated",
        "refund.failed",
        "charge.refund.updated",
        "charge.dispute.created",
        "charge.dispute.closed",
        "payout.paid",
        "payout.failed",
    }
)
API_VERSION = "2026-10-28.endive"  # what the repo's stripe SDK (16.x) pins: its events carry this version
WEBHOOK_USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
AUTHENTICATION_FAILURE_MESSAGE = (
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new "
    "PaymentMethod to attempt to fulfill this PaymentIntent again."
)
_NO_REQUEST: dict[str, str | None] = {"id": None, "idempotency_key": None}  # what caused it was no API request
LIVE_CARD_IN_TEST_MODE = CardOutcome(
    "declined",
    "card_declined",
    "test_mode_live_card",
    "Your card was declined. Your request was in test mode, but used a non test (live) card.",
)


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding back into nested values: a[b][c]=v → {"a": {"b": {"c": "v"}}}."""
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        path = re.findall(r"[^\[\]]+", key)
        node = params
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return params


def stripe_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` value for a body (docs.stripe.com/webhooks#verify-manually): t=<timestamp>, then v1=
    the hex HMAC-SHA256 of "<timestamp>.<body>" keyed by the endpoint's secret (the whole string, whsec_ included)."""
    signed = f"{timestamp}.".encode() + payload
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


@dataclass
class _Delivery:
    """One event on its way to the endpoint (a duplicated event travels as two)."""

    event_id: str
    body: bytes
    attempts: int = 0


class StripeError(Exception):
    def __init__(self, http_status: int, error: dict[str, Any]) -> None:
        super().__init__(error.get("message"))
        self.http_status, self.error = http_status, error


def _limit_refused(params: dict[str, Any]) -> dict[str, Any] | None:
    """Stripe's refusal of a list's `limit` outside 1-100 (default 10); None when it is fine."""
    limit = str(params.get("limit", "10"))
    if limit.isdigit() and 1 <= int(limit) <= 100:
        return None
    return {"error": _invalid("This value must be between 1 and 100.", "limit", "parameter_invalid_integer").error}


def _list_page(
    objects: list[dict[str, Any]], params: dict[str, Any], url: str, noun: str
) -> tuple[int, dict[str, Any]]:
    """One page of a Stripe list (objects newest first): after `starting_after`, at most `limit`."""
    after = params.get("starting_after")
    if after is not None:
        ids = [o["id"] for o in objects]
        if after not in ids:
            return 400, {"error": _invalid(f"No such {noun}: '{after}'", "starting_after", "resource_missing").error}
        objects = objects[ids.index(after) + 1 :]
    page = objects[: int(params.get("limit", "10"))]
    return 200, {"object": "list", "url": url, "has_more": len(objects) > len(page), "data": page}


def _invalid(message: str, param: str | None = None, code: str = "parameter_missing") -> StripeError:
    return StripeError(400, {"type": "invalid_request_error", "code": code, "message": message, "param": param})


class FakePsp(DisputesMixin, BalanceMixin, PayoutsMixin):
    def __init__(
        self,
        *,
        hang_seconds: float = 2.0,
        fault_rates: dict[str, float] | None = None,
        seed: int = 0,
        api_key: str = API_KEY,
        clock: Callable[[], float] = time.time,
        search_lag_s: float = SEARCH_LAG_S,
        raw_card_access: bool = False,
        webhook_url: str | None = None,
        webhook_secret: str = "whsec_fake_psp",  # noqa: S107 - the fake's own signing secret, not a credential
        webhook_types: frozenset[str] = WEBHOOK_TYPES,
        webhook_max_attempts: int = 8,
        webhook_retry_base_s: float = 0.5,
        webhook_retry_cap_s: float = 5.0,
        webhook_timeout_s: float = 5.0,
        webhook_duplicate_rate: float = 0.0,
        webhook_delay_s: tuple[float, float] = (0.0, 0.0),
        refund_fail_after_s: float | None = 0.5,
        settlement_delay_s: int = SETTLEMENT_DELAY_S,
        card_fee_bps: int = CARD_FEE_BPS,
        card_fee_fixed: int = CARD_FEE_FIXED,
        payout_arrival_s: float = PAYOUT_ARRIVAL_S,
        pay_payouts_after_s: float | None = 0.5,
        rate_limits: RateLimits | None = None,
        latency: Latency | None = None,
    ) -> None:
        # Off, as on every new Stripe account: card numbers sent with the secret key are refused.
        self.raw_card_access = raw_card_access
        self.rate_limits = rate_limits  # Stripe's 429s (fake_psp.rate_limits); None: never limited
        # How long each API answer takes (fake_psp.latency): none unless asked, as the tests want.
        self.latency = latency or Latency()
        # Seconds from each API request's arrival to its answer, per endpoint: the PSP's own latency, as a run
        # reports it next to its time to final status.
        self.answer_seconds: dict[str, list[float]] = {}
        self.clock = clock  # Stripe's clock: a test moves it to age keys and intents
        self.search_lag_s = search_lag_s
        self.hang_seconds = hang_seconds
        self.fault_rates = fault_rates or {}
        self.api_key = api_key
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._scripts: dict[str, list[str]] = {}
        # key → (params, status, body, when stored): pruned once KEY_RETENTION_S old, as Stripe does
        self._stored: dict[str, tuple[dict[str, Any], int, dict[str, Any], float]] = {}
        self._in_flight: set[str] = set()
        self._intents: dict[str, dict[str, Any]] = {}
        # `processing` intents → (outcome, idempotency key, retrieves that still find it processing)
        self._settle: dict[str, tuple[CardOutcome, str, int]] = {}
        self.intents: Counter[str] = Counter()  # PaymentIntents created per idempotency key (must stay <= 1)
        self.charges: Counter[str] = Counter()  # successful charges per idempotency key (must stay <= 1)
        self.requests: Counter[str] = Counter()  # POSTs per idempotency key, retries and replays included
        self.searches = 0
        self.card_numbers_seen: Counter[str] = Counter()  # what reached "Stripe": for the tests' own checks
        self._server: ThreadingHTTPServer | None = None
        self._keys: dict[str, str] = {}  # intent → the idempotency key it was created with
        self._return_urls: dict[str, str] = {}  # intent → its create's return_url
        # Webhooks: the endpoint (None: none registered), what it gets, and how delivery misbehaves.
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.webhook_types = webhook_types
        self.webhook_max_attempts = webhook_max_attempts
        self.webhook_retry_base_s = webhook_retry_base_s
        self.webhook_retry_cap_s = webhook_retry_cap_s
        self.webhook_timeout_s = webhook_timeout_s
        self.webhook_duplicate_rate = webhook_duplicate_rate
        self.webhook_delay_s = webhook_delay_s
        self.webhook_events: list[dict[str, Any]] = []  # every event emitted, in order
        # Refunds: the charges succeeded intents made, the refunds of them, and when REFUND_FAIL_CARD's fail.
        self.refund_fail_after_s = refund_fail_after_s
        self._charges: dict[str, dict[str, Any]] = {}
        self._refunds: dict[str, dict[str, Any]] = {}
        self._card_of: dict[str, str] = {}  # intent → the test card number it charges
        self._refund_timers: list[threading.Timer] = []
        self.refunds: Counter[str] = Counter()  # refunds created per idempotency key (must stay <= 1)
        self._disputes: dict[str, dict[str, Any]] = {}  # DISPUTE_CARD's disputes (fake_psp.disputes)
        # Balance transactions (fake_psp.balance): when funds become available, and Stripe's card fee.
        self.settlement_delay_s = settlement_delay_s
        self.card_fee_bps = card_fee_bps
        self.card_fee_fixed = card_fee_fixed
        self._balance: list[dict[str, Any]] = []
        # Payouts to the bank (fake_psp.payouts): arrival_date is created + payout_arrival_s on the fake's clock; a
        # timer pays each out pay_payouts_after_s real seconds after it is made (None: only the clock does).
        self.payout_arrival_s = payout_arrival_s
        self.pay_payouts_after_s = pay_payouts_after_s
        self._payouts: dict[str, dict[str, Any]] = {}
        self._payout_timers: list[threading.Timer] = []
        self.webhook_attempts: Counter[str] = Counter()  # POSTs to the endpoint per event id
        self.webhooks_delivered: Counter[str] = Counter()  # 2xx answers per event id (2 for a duplicated one)
        self.webhooks_abandoned: Counter[str] = Counter()  # deliveries given up after webhook_max_attempts
        self._outbox: list[tuple[float, int, _Delivery]] = []  # a heap of (time.monotonic() due, seq, delivery)
        self._outbox_changed = threading.Condition()
        self._outbox_seq = itertools.count()
        self._webhooks_in_flight = 0
        self._webhooks_paused = False
        self._worker_stopping = False
        self._worker: threading.Thread | None = None

    # -- control
    def script(self, idempotency_key: str, behaviours: Iterable[str]) -> None:
        scripted = list(behaviours)
        for behaviour in scripted:
            _settling(behaviour, _SUCCEEDS)  # a misspelt processing count or cancellation reason fails here
        with self._lock:
            self._scripts[idempotency_key] = scripted

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def intent(self, intent_id: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._intents[intent_id])

    def intents_with(self, **metadata: str) -> list[dict[str, Any]]:
        """The PaymentIntents whose metadata has these values (what a Dashboard search would find)."""
        with self._lock:
            return [dict(i) for i in self._intents.values() if metadata.items() <= i["metadata"].items()]

    def charge(self, charge_id: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._charges[charge_id])

    def refund(self, refund_id: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._refunds[refund_id])

    def fail_refund(self, refund_id: str) -> dict[str, Any]:
        """The card network returns a succeeded refund (as Stripe's refund-fail card does): it becomes `failed`,
        its amount goes back on the charge, and refund.failed and charge.refund.updated are sent. KeyError for an
        unknown refund, ValueError (nothing changed) for one that is not `succeeded`."""
        with self._lock:
            refund = self._refunds[refund_id]
            if refund["status"] != "succeeded":
                raise ValueError(f"Refund {refund_id} has status {refund['status']}: it cannot fail")
            back = self._book(
                refund["amount"],
                0,
                refund["currency"],
                refund_id,
                "payment_failure_refund",
                "refund_failure",
                "REFUND FOR FAILED PAYMENT",
            )
            refund.update(status="failed", failure_reason=REFUND_FAILURE_REASON, failure_balance_transaction=back["id"])
            charge = self._charges[refund["charge"]]
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = False
            self._emit("refund.failed", refund, _NO_REQUEST)
            self._emit("charge.refund.updated", refund, _NO_REQUEST)
            return dict(refund)

    def authenticate(self, intent_id: str, succeed: bool) -> dict[str, Any]:
        """The buyer completes (or fails) 3-D Secure for an intent in requires_action; the intent as it is then.
        KeyError for an unknown intent, ValueError (nothing changed) for one not awaiting authentication."""
        with self._lock:
            intent = self._intents[intent_id]
            if intent["status"] != "requires_action":
                raise ValueError(f"PaymentIntent {intent_id} has status {intent['status']}: nothing to authenticate")
            intent["next_action"] = None
            if succeed:
                self._decide(intent, _SUCCEEDS, self._keys[intent_id])
            else:
                # Stripe detaches the PaymentMethod that failed: it is in the error, no longer on the intent.
                intent["last_payment_error"] = _authentication_failure(intent["payment_method"])
                intent["payment_method"] = None
                intent["status"] = "requires_payment_method"
            self._emit(STATUS_EVENTS[intent["status"]], intent, _NO_REQUEST)
            return dict(intent)

    def pause_webhooks(self) -> None:
        """Hold every delivery (as an endpoint that is unreachable for a while) until resume_webhooks()."""
        with self._outbox_changed:
            self._webhooks_paused = True

    def resume_webhooks(self) -> None:
        with self._outbox_changed:
            self._webhooks_paused = False
            self._outbox_changed.notify_all()

    def wait_for_webhooks(self, timeout_s: float = 10.0) -> bool:
        """True once no delivery is pending or in flight (delivered or abandoned); False if timeout_s passes first."""
        with self._outbox_changed:
            return self._outbox_changed.wait_for(
                lambda: not self._outbox and not self._webhooks_in_flight, timeout=timeout_s
            )

    def start(self, port: int = 0) -> FakePsp:
        psp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # - stdlib signature
                return

            def do_POST(self) -> None:  # - stdlib name
                self._started = time.monotonic()
                path = self.path.partition("?")[0]
                page = re.fullmatch(r"/3ds/([^/]+)/(complete|fail)", path)
                cancel = re.fullmatch(r"/v1/payment_intents/([^/]+)/cancel", path)
                capture = re.fullmatch(r"/v1/payment_intents/([^/]+)/capture", path)
                refund = path == "/v1/refunds"
                dispute = re.fullmatch(r"/v1/disputes/([^/]+?)(/close)?", path)
                payout = path == "/v1/payouts"
                if path != "/v1/payment_intents" and not (page or cancel or capture or refund or dispute or payout):
                    return self._send(404, _not_found(self.path))
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if page is not None:  # the buyer's browser: no API key
                    return self._send_page(*psp._authentication_page(page[1], page[2] == "complete"))
                if not psp._authorized(self.headers.get("Authorization")):
                    return self._send(401, _unauthorized())
                if psp.rate_limits is not None and (limited := psp.rate_limits.refuse("POST", path)) is not None:
                    return self._send(*limited)  # refused before executing: nothing created, nothing stored
                request_id = f"req_{secrets.token_hex(7)}"
                key = self.headers.get("Idempotency-Key")
                if cancel is not None:
                    status, payload, replayed = psp._cancel(cancel[1], key, parse_form(body), request_id)
                    delay = 0.0
                elif capture is not None:
                    status, payload, delay, replayed = psp._capture(capture[1], key, parse_form(body), request_id)
                elif dispute is not None:
                    close = dispute[2] is not None
                    status, payload, replayed = psp._update_dispute(
                        dispute[1], key, parse_form(body), request_id, close
                    )
                    delay = 0.0
                elif payout:
                    status, payload, replayed = psp._create_payout(key, parse_form(body), request_id)
                    delay = 0.0
                elif refund:
                    status, payload, delay, replayed = psp._create_refund(key, parse_form(body), request_id)
                else:
                    status, payload, delay, replayed = psp._create(key, parse_form(body), request_id)
                if delay:
                    time.sleep(delay)
                headers = {"Request-Id": request_id, **({"Idempotent-Replayed": "true"} if replayed else {})}
                self._send(status, payload, headers)

            def do_GET(self) -> None:
                self._started = time.monotonic()
                path, _, query = self.path.partition("?")
                page = re.fullmatch(r"/3ds/([^/]+)", path)
                if page is not None:
                    return self._send_page(*psp._challenge_page(page[1]))
                if not psp._authorized(self.headers.get("Authorization")):
                    return self._send(401, _unauthorized())
                if psp.rate_limits is not None and (limited := psp.rate_limits.refuse("GET", path)) is not None:
                    return self._send(*limited)
                if path == "/v1/payment_intents":
                    return self._send(*psp._list(parse_form(query)))
                if path == "/v1/payment_intents/search":
                    return self._send(*psp._search(parse_form(query)))
                if path == "/v1/refunds":
                    return self._send(*psp._list_refunds(parse_form(query)))
                if path.startswith(("/v1/refunds/", "/v1/charges/")):
                    return self._send(*psp._retrieve_object(path))
                if path == "/v1/disputes":
                    params = parse_form(query)
                    if (refused := _limit_refused(params)) is not None:
                        return self._send(400, refused)
                    return self._send(*_list_page(psp._list_disputes(params), params, "/v1/disputes", "dispute"))
                if path == "/v1/balance_transactions":
                    params = parse_form(query)
                    if (refused := _limit_refused(params)) is not None:
                        return self._send(400, refused)
                    return self._send(
                        *_list_page(
                            psp._list_balance_transactions(params),
                            params,
                            "/v1/balance_transactions",
                            "balance_transaction",
                        )
                    )
                if path == "/v1/balance":
                    return self._send(*psp._balance_object())
                if path == "/v1/payouts":
                    params = parse_form(query)
                    if (refused := _limit_refused(params)) is not None:
                        return self._send(400, refused)
                    return self._send(*_list_page(psp._list_payouts(params), params, "/v1/payouts", "payout"))
                if path.startswith("/v1/payouts/"):
                    return self._send(*psp._retrieve_payout(path.removeprefix("/v1/payouts/")))
                if path.startswith("/v1/disputes/"):
                    return self._send(*psp._retrieve_dispute(path.removeprefix("/v1/disputes/")))
                expand = expand_requested(parse_form(query))
                if (refused := expand_refusal(expand)) is not None:
                    return self._send(400, {"error": refused})
                intent = (
                    psp._retrieve(path.removeprefix("/v1/payment_intents/"), expand)
                    if path.startswith("/v1/payment_intents/")
                    else None
                )
                self._send(200, intent) if intent else self._send(404, _not_found(self.path))

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                # Every API answer (not the buyer's 3-D Secure pages) takes the latency model's time.
                if (added := psp.latency.delay(self.command, self.path)) > 0:
                    time.sleep(added)
                psp._answered(endpoint(self.command, self.path), time.monotonic() - self._started)
                headers = {"Request-Id": f"req_{secrets.token_hex(7)}", **(headers or {})}
                self._write(status, json.dumps(payload).encode(), "application/json", headers)

            def _send_page(self, status: int, page: str, headers: dict[str, str]) -> None:
                self._write(status, page.encode(), "text/html; charset=utf-8", headers)

            def _write(self, status: int, raw: bytes, content_type: str, headers: dict[str, str]) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(raw)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): exactly the "response lost" case

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        # Polled every 0.1 s rather than the default 0.5: stop() is that much quicker in every test.
        threading.Thread(target=self._server.serve_forever, args=(0.1,), name="fake-psp", daemon=True).start()
        self._worker_stopping = False
        self._worker = threading.Thread(target=self._deliver_webhooks, name="fake-psp-webhooks", daemon=True)
        self._worker.start()
        return self

    def _answered(self, name: str, seconds: float) -> None:
        with self._lock:
            self.answer_seconds.setdefault(name, []).append(seconds)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._outbox_changed:
            self._worker_stopping = True
            self._outbox.clear()  # undelivered events go with the fake
            self._outbox_changed.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=self.webhook_timeout_s + 1)
            self._worker = None
        with self._lock:
            timers, self._refund_timers = self._refund_timers, []
            timers += self._payout_timers
            self._payout_timers = []
        for timer in timers:
            timer.cancel()

    # -- behaviour
    def _authorized(self, header: str | None) -> bool:
        return header == f"Bearer {self.api_key}"

    def _next_behaviour(self, key: str) -> str:
        with self._lock:
            script = self._scripts.get(key)
            if script:
                return script.pop(0)
            draw = self._random.random()
        for behaviour, rate in self.fault_rates.items():
            if draw < rate:
                return behaviour
            draw -= rate
        return "ok"

    def _create(
        self, key: str | None, params: dict[str, Any], request_id: str | None = None
    ) -> tuple[int, dict[str, Any], float, bool]:
        """(HTTP status, body, delay before answering, replayed)."""
        origin = {"id": request_id, "idempotency_key": key}  # the `request` of the events it causes
        key = key or f"auto-{secrets.token_hex(8)}"
        behaviour = self._next_behaviour(key)  # network faults hit any request, replays included
        if behaviour in ("503", "timeout"):
            error = {"error": {"type": "api_error", "message": "Stripe is temporarily unavailable."}}
            with self._lock:
                self.requests[key] += 1
            return 503, error, (self.hang_seconds if behaviour == "timeout" else 0.0), False
        with self._lock:
            self.requests[key] += 1
            stored = self._stored_answer(key, params)
            if stored is not None:
                status, body, replayed = stored
                return status, body, (self.hang_seconds if behaviour == "lost" and replayed else 0.0), replayed
            if key in self._in_flight:
                return (
                    409,
                    {
                        "error": {
                            "type": "idempotency_error",
                            "code": "idempotency_key_in_use",
                            "message": (
                                "There is currently another in-progress request using this Idempotent Key "
                                "(that probably means you submitted twice, and the other request is still "
                                "going through): "
                                f"{key}. Please try again later."
                            ),
                        }
                    },
                    0.0,
                    False,
                )
            self._in_flight.add(key)
        try:
            return self._execute(key, params, behaviour, origin)
        finally:
            with self._lock:
                self._in_flight.discard(key)

    def _stored_answer(self, key: str, params: dict[str, Any]) -> tuple[int, dict[str, Any], bool] | None:
        """What a request with this key gets without running: (status, body, replayed), or None to run it.
        Caller holds the lock."""
        stored = self._stored.get(key)
        if stored is not None and self.clock() - stored[3] >= KEY_RETENTION_S:
            del self._stored[key]  # pruned: the key is new again, and a request with it runs afresh
            stored = None
        if stored is None:
            return None
        first_params, status, body, _ = stored
        if first_params != params:
            return (
                400,
                {
                    "error": {
                        "type": "idempotency_error",
                        "message": (
                            "Keys for idempotent requests can only be used with the same parameters "
                            "they were first used with. Try using a key other than "
                            f"'{key}' if you meant to execute a different request."
                        ),
                    }
                },
                False,
            )
        return status, body, True

    def _execute(
        self, key: str, params: dict[str, Any], behaviour: str, origin: dict[str, str | None]
    ) -> tuple[int, dict[str, Any], float, bool]:
        try:
            card, amount, currency = _validated(params)
            capture_method = _capture_method(params)
            if "payment_method" not in card and not self.raw_card_access:
                raise _raw_card_refusal()
            return_url = _return_url(params)
            expand = expand_requested(params)
            if (bad_expand := expand_refusal(expand)) is not None:
                raise StripeError(400, bad_expand)
        except StripeError as refused:
            return refused.http_status, {"error": refused.error}, 0.0, False  # not stored, as Stripe does
        outcome = TEST_CARDS.get(card["number"], LIVE_CARD_IN_TEST_MODE)
        intent_id = f"pi_{secrets.token_hex(12)}"
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "currency": currency,
            "amount_capturable": 0,
            "amount_received": 0,
            "capture_method": capture_method,
            "confirmation_method": "automatic",
            "client_secret": None,
            "created": int(self.clock()),
            "livemode": False,
            "latest_charge": None,
            "last_payment_error": None,
            "metadata": dict(params.get("metadata") or {}),
            "next_action": None,
            "payment_method": card.get("payment_method") or f"pm_{secrets.token_hex(12)}",
            "payment_method_types": ["card"],
            "status": outcome.status,
            "canceled_at": None,
            "cancellation_reason": None,
        }
        intent["client_secret"] = f"{intent_id}_secret_{secrets.token_hex(12)}"
        with self._lock:
            if "payment_method" not in card:
                self.card_numbers_seen[card["number"]] += 1
            self.intents[key] += 1
            self._keys[intent_id] = key
            self._card_of[intent_id] = card["number"]
            if return_url is not None:
                self._return_urls[intent_id] = return_url
            settling = _settling(behaviour, outcome)
            if settling is not None:
                intent["status"] = "processing"
                self._settle[intent_id] = (settling[0], key, settling[1])
            else:
                self._decide(intent, outcome, key)
            self._intents[intent_id] = intent
            self._emit("payment_intent.created", intent, origin)
            self._emit(STATUS_EVENTS[intent["status"]], intent, origin)
            status, body = _answer(intent, outcome if settling is None else _SUCCEEDS)
            if status == 200:
                body = self._expanded(intent, expand)
            self._stored[key] = (params, status, body, self.clock())
        if behaviour == "lost":
            return status, body, self.hang_seconds, False
        delay = float(behaviour.split(":", 1)[1]) / 1000 if behaviour.startswith("latency:") else 0.0
        return status, body, delay, False

    def _decide(self, intent: dict[str, Any], outcome: CardOutcome, key: str) -> None:
        """Move an intent to its card's outcome (caller holds the lock)."""
        if outcome.status == "declined":
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {
                "type": "card_error",
                "code": outcome.code,
                "message": outcome.message,
                "decline_code": outcome.decline_code,
            }
        elif outcome.status == "canceled":
            intent["status"] = "canceled"
            intent["canceled_at"] = int(self.clock())
            intent["cancellation_reason"] = outcome.code
        elif outcome.status == "requires_action":
            intent["status"] = "requires_action"
            intent["next_action"] = self._next_action(intent)
        else:
            manual = intent["capture_method"] == "manual"  # authorized only: the funds are held until captured
            intent["status"] = "requires_capture" if manual else "succeeded"
            intent["amount_received"] = 0 if manual else intent["amount"]
            intent["amount_capturable"] = intent["amount"] if manual else 0
            intent["latest_charge"] = charge_id = f"ch_{secrets.token_hex(12)}"
            self._charges[charge_id] = {
                "id": charge_id,
                "object": "charge",
                "amount": intent["amount"],
                "amount_captured": 0 if manual else intent["amount"],
                "amount_refunded": 0,
                "balance_transaction": None,  # booked once captured (fake_psp.balance)
                "captured": not manual,
                "created": int(self.clock()),
                "currency": intent["currency"],
                "livemode": False,
                "metadata": dict(intent["metadata"]),
                "paid": True,
                "payment_intent": intent["id"],
                "payment_method": intent["payment_method"],
                "refunded": False,
                "status": "succeeded",
            }
            if not manual:
                self._book_charge(self._charges[charge_id], intent["amount"])
            self.charges[key] += 1

    def _list(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Stripe's list: newest first, `limit` (1-100, default 10), `starting_after`, `created[gte]`."""
        if (refused := _limit_refused(params)) is not None:
            return 400, refused
        since = int((params.get("created") or {}).get("gte", 0) or 0)
        with self._lock:
            self._expire_due()
            intents = [dict(i) for i in reversed(self._intents.values()) if i["created"] >= since]  # newest first
        return _list_page(intents, params, "/v1/payment_intents", "payment_intent")

    def _search(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Stripe's Search API for one clause, `metadata['<key>']:'<value>'`; an intent is found only once the
        index has caught up with it (`search_lag_s` after its creation), as Stripe's search is not
        read-after-write."""
        clause = re.fullmatch(r"metadata\['([^']+)'\]:'([^']*)'", str(params.get("query", "")))
        if clause is None:
            return 400, {"error": _invalid("This fake searches one metadata clause.", "query", "search_query").error}
        name, value = clause.groups()
        indexed_before = self.clock() - self.search_lag_s
        with self._lock:
            self._expire_due()
            self.searches += 1
            found = [
                dict(i)
                for i in reversed(self._intents.values())
                if i["metadata"].get(name) == value and i["created"] <= indexed_before
            ]
        limit = int(params.get("limit", 10))
        return 200, {
            "object": "search_result",
            "url": "/v1/payment_intents/search",
            "has_more": len(found) > limit,
            "next_page": None,
            "data": found[:limit],
        }

    def _expanded(self, intent: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        """The intent as answered with `expand` (caller holds the lock)."""
        return expanded_intent(intent, expand, self._charges.get, self._transaction)

    def _retrieve(self, intent_id: str, expand: list[str] | None = None) -> dict[str, Any] | None:
        with self._lock:
            intent = self._intents.get(intent_id)
            if intent is None:
                return None
            self._expire_if_due(intent)
            settling = self._settle.pop(intent_id, None)
            if settling is not None:  # a `processing` intent settles once looked at again (or n times more)
                outcome, key, still_processing = settling
                if still_processing:
                    self._settle[intent_id] = (outcome, key, still_processing - 1)
                else:
                    self._decide(intent, outcome, key)
                    self._emit(STATUS_EVENTS[intent["status"]], intent, _NO_REQUEST)
            return self._expanded(intent, expand or [])

    # -- refunds
    def _create_refund(
        self, key: str | None, params: dict[str, Any], request_id: str
    ) -> tuple[int, dict[str, Any], float, bool]:
        """POST /v1/refunds: (HTTP status, body, delay before answering, replayed)."""
        origin = {"id": request_id, "idempotency_key": key}
        key = key or f"auto-{secrets.token_hex(8)}"
        behaviour = self._next_behaviour(key)
        if behaviour in ("503", "timeout"):
            error = {"error": {"type": "api_error", "message": "Stripe is temporarily unavailable."}}
            with self._lock:
                self.requests[key] += 1
            return 503, error, (self.hang_seconds if behaviour == "timeout" else 0.0), False
        lost = self.hang_seconds if behaviour == "lost" else 0.0
        # The endpoint is part of what a key was first used with: a create's key reused here is refused.
        stored_params = {**params, "(endpoint)": "/v1/refunds"}
        with self._lock:  # held throughout: no second request with this key can run meanwhile
            self.requests[key] += 1
            stored = self._stored_answer(key, stored_params)
            if stored is not None:
                status, body, replayed = stored
                return status, body, lost if replayed else 0.0, replayed
            try:
                refund = self._refund_of(params, origin)
            except StripeError as refused:
                return refused.http_status, {"error": refused.error}, 0.0, False  # not stored, as a create's
            self.refunds[key] += 1
            self._stored[key] = (stored_params, 200, dict(refund), self.clock())
        return 200, dict(refund), lost, False

    def _refund_of(self, params: dict[str, Any], origin: dict[str, str | None]) -> dict[str, Any]:
        """Refund a succeeded intent's charge by Stripe's rules (caller holds the lock)."""
        intent_id = params.get("payment_intent")
        if not intent_id:
            raise _invalid("Missing required param: payment_intent.", "payment_intent")
        intent = self._intents.get(intent_id)
        if intent is None:
            raise _invalid(f"No such payment_intent: '{intent_id}'", "payment_intent", "resource_missing")
        reason = params.get("reason") or None
        if reason is not None and reason not in REFUND_REASONS:
            message = "Invalid reason: must be one of " + ", ".join(REFUND_REASONS[:-1])
            raise _invalid(f"{message}, or {REFUND_REASONS[-1]}", "reason", "parameter_invalid_empty")
        charge = self._charges.get(intent.get("latest_charge") or "")
        if intent["status"] != "succeeded" or charge is None:
            raise _invalid(  # an uncaptured one too (requires_capture): Stripe releases a hold by a cancel
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                "payment_intent",
                "payment_intent_unexpected_state",
            )
        if (dispute := self._charged_back(charge["id"])) is not None:
            # docs.stripe.com/error-codes, charge_disputed: "The charge you're attempting to refund has been charged
            # back"; Dispute.is_charge_refundable: "If true, it's still possible to refund the disputed payment".
            raise _invalid(
                f"Charge {charge['id']} has been charged back (dispute {dispute['id']}): it cannot be refunded.",
                None,
                "charge_disputed",
            )
        left = charge["amount"] - charge["amount_refunded"]
        if left <= 0:
            raise _invalid(f"Charge {charge['id']} has already been refunded.", None, "charge_already_refunded")
        requested = params.get("amount")
        if requested is not None and (not str(requested).isdigit() or int(requested) < 1):
            raise _invalid("This value must be greater than or equal to 1.", "amount", "parameter_invalid_integer")
        amount = left if requested is None else int(requested)
        if amount > left:
            of = "charge amount" if charge["amount_refunded"] == 0 else "unrefunded amount on charge"
            currency = charge["currency"]
            raise _invalid(
                f"Refund amount ({_shown(amount, currency)}) is greater than {of} ({_shown(left, currency)})",
                "amount",
                "amount_too_large",
            )
        refund_id = f"re_{secrets.token_hex(12)}"
        refund: dict[str, Any] = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": None,  # set below, once booked
            "charge": charge["id"],
            "created": int(self.clock()),
            "currency": charge["currency"],
            "destination_details": {
                "card": {
                    "reference": None,
                    "reference_status": "pending",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            },
            "metadata": dict(params.get("metadata") or {}),
            "payment_intent": intent_id,
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        refund["balance_transaction"] = self._book(
            -amount, 0, charge["currency"], refund_id, "refund", "refund", "REFUND FOR CHARGE"
        )["id"]
        self._refunds[refund_id] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._emit("refund.created", refund, origin)
        self._emit("charge.refunded", charge, origin)
        if self._card_of.get(intent_id) == REFUND_FAIL_CARD and self.refund_fail_after_s is not None:
            timer = threading.Timer(self.refund_fail_after_s, self._fail_later, [refund_id])
            timer.daemon = True
            self._refund_timers.append(timer)
            timer.start()
        return refund

    def _fail_later(self, refund_id: str) -> None:
        """The refund-fail card's network answer, from a timer thread."""
        try:
            self.fail_refund(refund_id)
        except (KeyError, ValueError):
            pass  # gone with a stop(), or already failed by the test

    def _list_refunds(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Stripe's list of refunds: newest first, `payment_intent` to filter, `limit` (1-100, default 10),
        `starting_after`."""
        if (refused := _limit_refused(params)) is not None:
            return 400, refused
        intent_id = params.get("payment_intent")
        with self._lock:
            if intent_id is not None and intent_id not in self._intents:
                missing = _invalid(f"No such payment_intent: '{intent_id}'", "payment_intent", "resource_missing")
                return 400, {"error": missing.error}
            refunds = [
                dict(r)
                for r in reversed(self._refunds.values())
                if intent_id is None or r["payment_intent"] == intent_id
            ]
        return _list_page(refunds, params, "/v1/refunds", "refund")

    def _retrieve_object(self, path: str) -> tuple[int, dict[str, Any]]:
        """GET /v1/refunds/{id} or /v1/charges/{id}."""
        kind, _, object_id = path.removeprefix("/v1/").partition("/")
        with self._lock:
            found = (self._refunds if kind == "refunds" else self._charges).get(object_id)
            if found is not None:
                return 200, dict(found)
        name = "refund" if kind == "refunds" else "charge"
        return 404, {"error": _invalid(f"No such {name}: '{object_id}'", "id", "resource_missing").error}

    # -- cancel
    def _cancel(
        self, intent_id: str, key: str | None, params: dict[str, Any], request_id: str
    ) -> tuple[int, dict[str, Any], bool]:
        """POST /v1/payment_intents/{id}/cancel: (HTTP status, body, replayed)."""
        reason = params.get("cancellation_reason") or None  # an empty form value unsets it, as in Stripe
        if reason is not None and reason not in CANCEL_REASONS:
            message = "Invalid cancellation_reason: must be one of " + ", ".join(CANCEL_REASONS[:-1])
            error = {"type": "invalid_request_error", "message": f"{message}, or {CANCEL_REASONS[-1]}"}
            return 400, {"error": {**error, "param": "cancellation_reason"}}, False  # not stored
        expand = expand_requested(params)
        if (bad_expand := expand_refusal(expand)) is not None:
            return 400, {"error": bad_expand}, False  # not stored
        # The endpoint is part of what a key was first used with: a create's key reused here is refused.
        stored_params = {**params, "(endpoint)": f"/v1/payment_intents/{intent_id}/cancel"}
        with self._lock:
            if key is not None:
                self.requests[key] += 1
                stored = self._stored_answer(key, stored_params)
                if stored is not None:
                    return stored
            intent = self._intents.get(intent_id)
            if intent is None:
                return 404, _no_such_intent(intent_id), False
            self._expire_if_due(intent)
            status, body = self._cancel_intent(intent, reason, {"id": request_id, "idempotency_key": key})
            if status == 200:
                body = self._expanded(intent, expand)
            if key is not None:
                self._stored[key] = (stored_params, status, body, self.clock())
            return status, body, False

    def _cancel_intent(
        self, intent: dict[str, Any], reason: str | None, origin: dict[str, str | None]
    ) -> tuple[int, dict[str, Any]]:
        """Cancel it if its status allows (caller holds the lock)."""
        if intent["status"] not in CANCELABLE:
            error = {
                "type": "invalid_request_error",
                "code": "payment_intent_unexpected_state",
                "message": (
                    f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}. Only a "
                    "PaymentIntent with one of the following statuses may be canceled: requires_payment_method, "
                    "requires_capture, requires_confirmation, requires_action, processing."
                ),
                "param": None,
                "payment_intent": dict(intent),
                "doc_url": "https://stripe.com/docs/error-codes/payment-intent-unexpected-state",
            }
            return 400, {"error": error}
        self._settle.pop(intent["id"], None)  # a `processing` intent canceled first never settles
        self._release(intent)
        intent.update(status="canceled", canceled_at=int(self.clock()), cancellation_reason=reason, next_action=None)
        self._emit("payment_intent.canceled", intent, origin)
        return 200, dict(intent)

    def _release(self, intent: dict[str, Any]) -> None:
        """An authorization canceled: its funds go back to the buyer, the uncaptured charge shows them refunded
        (caller holds the lock)."""
        if intent["status"] != "requires_capture":
            return
        charge = self._charges[intent["latest_charge"]]
        charge.update(amount_refunded=charge["amount"], refunded=True)
        intent["amount_capturable"] = 0

    # -- manual capture
    def expire_authorizations(self) -> list[str]:
        """Cancel every authorization older than AUTHORIZATION_WINDOW_S by the fake's clock, as Stripe does on its
        own (each emits payment_intent.canceled); the ids canceled."""
        with self._lock:
            return self._expire_due()

    def _expire_due(self) -> list[str]:
        """Caller holds the lock."""
        return [i["id"] for i in list(self._intents.values()) if self._expire_if_due(i)]

    def _expire_if_due(self, intent: dict[str, Any]) -> bool:
        """Stripe's cancel of an authorization left uncaptured past its window (caller holds the lock)."""
        if intent["status"] != "requires_capture" or self.clock() - intent["created"] < AUTHORIZATION_WINDOW_S:
            return False
        self._release(intent)
        expired_at = intent["created"] + AUTHORIZATION_WINDOW_S
        intent.update(status="canceled", canceled_at=expired_at, cancellation_reason=EXPIRED_AUTHORIZATION_REASON)
        self._emit("payment_intent.canceled", intent, _NO_REQUEST)
        return True

    def _capture(
        self, intent_id: str, key: str | None, params: dict[str, Any], request_id: str
    ) -> tuple[int, dict[str, Any], float, bool]:
        """POST /v1/payment_intents/{id}/capture: (HTTP status, body, delay before answering, replayed). Stored
        under its key like a cancel (a refusal for bad parameters is not); the scripted faults of a create
        ("503", "timeout", "lost") apply to its key."""
        behaviour = self._next_behaviour(key) if key is not None else "ok"
        if behaviour in ("503", "timeout"):
            error = {"error": {"type": "api_error", "message": "Stripe is temporarily unavailable."}}
            with self._lock:
                self.requests[key or ""] += 1
            return 503, error, (self.hang_seconds if behaviour == "timeout" else 0.0), False
        lost = self.hang_seconds if behaviour == "lost" else 0.0
        requested = params.get("amount_to_capture")
        if requested is not None and (not str(requested).isdigit() or int(requested) < 1):
            invalid = _invalid(
                "This value must be greater than or equal to 1.", "amount_to_capture", "parameter_invalid_integer"
            )
            return 400, {"error": invalid.error}, 0.0, False
        expand = expand_requested(params)
        if (bad_expand := expand_refusal(expand)) is not None:
            return 400, {"error": bad_expand}, 0.0, False  # not stored
        stored_params = {**params, "(endpoint)": f"/v1/payment_intents/{intent_id}/capture"}
        with self._lock:
            if key is not None:
                self.requests[key] += 1
                stored = self._stored_answer(key, stored_params)
                if stored is not None:
                    status, body, replayed = stored
                    return status, body, lost if replayed else 0.0, replayed
            intent = self._intents.get(intent_id)
            if intent is None:
                return 404, _no_such_intent(intent_id), 0.0, False
            self._expire_if_due(intent)
            status, body = self._capture_intent(intent, requested, {"id": request_id, "idempotency_key": key})
            if status == 200:
                body = self._expanded(intent, expand)
            if key is not None:  # it ran: its answer, a refusal of the intent's state too, is the key's
                self._stored[key] = (stored_params, status, body, self.clock())
            return status, body, lost, False

    def _capture_intent(
        self, intent: dict[str, Any], requested: Any, origin: dict[str, str | None]
    ) -> tuple[int, dict[str, Any]]:
        """Capture `requested` (default all) of an authorization; the rest is released (caller holds the lock)."""
        if intent["status"] != "requires_capture":
            error = {
                "type": "invalid_request_error",
                "code": "payment_intent_unexpected_state",
                "message": (
                    f"This PaymentIntent could not be captured because it has a status of {intent['status']}. Only "
                    "a PaymentIntent with one of the following statuses may be captured: requires_capture."
                ),
                "param": None,
                "payment_intent": dict(intent),
                "doc_url": "https://stripe.com/docs/error-codes/payment-intent-unexpected-state",
            }
            return 400, {"error": error}
        capturable = intent["amount_capturable"]
        amount = capturable if requested is None else int(requested)
        if amount > capturable:
            refused = _invalid(
                f"The amount_to_capture ({amount}) must be less than or equal to the PaymentIntent's "
                f"amount_capturable ({capturable}).",
                "amount_to_capture",
                "amount_too_large",
            )
            return 400, {"error": refused.error}
        charge = self._charges[intent["latest_charge"]]
        charge.update(
            amount_captured=amount,
            amount_refunded=charge["amount"] - amount,  # the released rest, as Stripe shows it
            captured=True,
            refunded=amount == 0,
        )
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        self._book_charge(charge, amount)
        self._emit("payment_intent.succeeded", intent, origin)
        return 200, dict(intent)

    # -- 3-D Secure
    def _next_action(self, intent: dict[str, Any]) -> dict[str, Any]:
        """Stripe's next_action for a card that asks for 3-D Secure: the buyer goes to this fake's page."""
        base = self.url if self._server is not None else "http://127.0.0.1"
        page = f"{base}/3ds/{intent['id']}"
        return_url = self._return_urls.get(intent["id"])
        if return_url is not None:
            return {"type": "redirect_to_url", "redirect_to_url": {"url": page, "return_url": return_url}}
        # Opaque to integrations (only Stripe.js reads it): the 3DS redirect form Stripe has answered with.
        sdk = {"type": "three_d_secure_redirect", "stripe_js": page, "source": f"src_{secrets.token_hex(12)}"}
        return {"type": "use_stripe_sdk", "use_stripe_sdk": sdk}

    def _challenge_page(self, intent_id: str) -> tuple[int, str, dict[str, str]]:
        """GET /3ds/{id}: the issuer's challenge, two buttons."""
        with self._lock:
            intent = self._intents.get(intent_id)
            status = intent["status"] if intent is not None else None
        if status is None:
            return 404, _page("No such PaymentIntent."), {}
        quoted = html.escape(intent_id)
        forms = "".join(
            f'<form method="post" action="/3ds/{quoted}/{action}"><button type="submit">{label}</button></form>'
            for action, label in (("complete", "Complete authentication"), ("fail", "Fail authentication"))
        )
        return 200, _page(f"3D Secure test payment {quoted} ({html.escape(status)}).{forms}"), {}

    def _authentication_page(self, intent_id: str, succeed: bool) -> tuple[int, str, dict[str, str]]:
        """POST /3ds/{id}/complete|fail: authenticate, then send the buyer back to the return_url if there is one."""
        try:
            intent = self.authenticate(intent_id, succeed)
        except KeyError:
            return 404, _page("No such PaymentIntent."), {}
        except ValueError as refused:
            return 400, _page(html.escape(str(refused))), {}
        return_url = self._return_urls.get(intent_id)
        if return_url is None:
            return 200, _page(f"Authentication {'completed' if succeed else 'failed'}. You may close this page."), {}
        query = urlencode({"payment_intent": intent_id, "payment_intent_client_secret": intent["client_secret"]})
        location = f"{return_url}{'&' if '?' in return_url else '?'}{query}"
        return 303, _page(f'Returning to <a href="{html.escape(location)}">the shop</a>.'), {"Location": location}

    # -- webhooks
    def _emit(self, event_type: str, intent: dict[str, Any], origin: dict[str, str | None]) -> None:
        """Record the event of an object's change (an intent, a refund, a charge) and queue it for the endpoint
        (caller holds the lock, so events are recorded and queued in the order the changes happened)."""
        deliver = event_type in self.webhook_types and self.webhook_url is not None
        event_id = f"evt_{secrets.token_hex(12)}"
        event: dict[str, Any] = {
            "id": event_id,
            "object": "event",
            "api_version": API_VERSION,
            "created": int(self.clock()),
            "data": {"object": json.loads(json.dumps(intent))},  # a snapshot: later changes do not reach it
            "livemode": False,
            "pending_webhooks": 1 if deliver else 0,
            "request": dict(origin),
            "type": event_type,
        }
        self.webhook_events.append(event)
        if deliver:
            self._queue(event)
        if event_type == "payment_intent.succeeded" and self._card_of.get(intent["id"]) == DISPUTE_CARD:
            self._open_dispute(self._charges[intent["latest_charge"]], _NO_REQUEST)  # disputed once it succeeds

    def _queue(self, event: dict[str, Any]) -> None:
        """Queue an event for the endpoint (caller holds the lock)."""
        event_id = event["id"]
        body = json.dumps(event, indent=2).encode()  # signed and sent as these bytes, on every attempt
        duplicated = self.webhook_duplicate_rate > 0 and self._random.random() < self.webhook_duplicate_rate
        for _ in range(2 if duplicated else 1):
            low, high = self.webhook_delay_s
            delay = self._random.uniform(low, high) if high > 0 else 0.0
            with self._outbox_changed:
                self._schedule(_Delivery(event_id, body), delay)
                self._outbox_changed.notify_all()

    def _schedule(self, delivery: _Delivery, delay: float) -> None:
        """Caller holds _outbox_changed."""
        heapq.heappush(self._outbox, (time.monotonic() + delay, next(self._outbox_seq), delivery))

    def _deliver_webhooks(self) -> None:
        """The worker: one attempt at a time, the earliest due first, until stop()."""
        while True:
            with self._outbox_changed:
                delivery = self._next_due()
                if delivery is None:
                    return
                self._webhooks_in_flight += 1
            delivered = self._post_webhook(delivery.body)
            with self._outbox_changed:  # settled and requeued at once: wait_for_webhooks never sees a gap
                self._webhooks_in_flight -= 1
                delivery.attempts += 1
                self.webhook_attempts[delivery.event_id] += 1
                if delivered:
                    self.webhooks_delivered[delivery.event_id] += 1
                elif delivery.attempts >= self.webhook_max_attempts:
                    self.webhooks_abandoned[delivery.event_id] += 1
                else:
                    backoff = min(self.webhook_retry_base_s * 2 ** (delivery.attempts - 1), self.webhook_retry_cap_s)
                    self._schedule(delivery, backoff)
                self._outbox_changed.notify_all()

    def _next_due(self) -> _Delivery | None:
        """Wait for the earliest delivery to fall due (and for deliveries to be resumed); None once stopping.
        Caller holds _outbox_changed."""
        while not self._worker_stopping:
            wait: float | None = None
            if self._outbox and not self._webhooks_paused:
                wait = self._outbox[0][0] - time.monotonic()
                if wait <= 0:
                    return heapq.heappop(self._outbox)[2]
            self._outbox_changed.wait(wait)
        return None

    def _post_webhook(self, body: bytes) -> bool:
        """One attempt, signed now (Stripe signs each attempt afresh): True for a 2xx answer."""
        url = self.webhook_url
        if url is None:
            return False
        timestamp = int(self.clock())
        # Test mode adds a v0 signature made with a secret nobody has: a receiver must ignore all but v1.
        v0 = hmac.new(b"fake_psp_v0", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": WEBHOOK_USER_AGENT,
            "Stripe-Signature": f"{stripe_signature(body, self.webhook_secret, timestamp)},v0={v0}",
        }
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection: http.client.HTTPConnection | None = None
        try:
            connection = connection_type(parts.hostname or "", parts.port, timeout=self.webhook_timeout_s)
            connection.request("POST", path, body, headers)
            return 200 <= connection.getresponse().status < 300
        except (OSError, ValueError, http.client.HTTPException):  # refused, reset, timed out, a bad URL, not HTTP
            return False
        finally:
            if connection is not None:
                connection.close()


def _settling(behaviour: str, outcome: CardOutcome) -> tuple[CardOutcome, int] | None:
    """For a behaviour that leaves the new intent `processing`: (what it settles to, retrieves before it does)."""
    name, _, argument = behaviour.partition(":")
    if name == "processing":
        return outcome, int(argument or 0)
    if name == "canceled":
        reason = argument or "requested_by_customer"
        if reason not in CANCELLATION_REASONS:
            raise ValueError(f"not a Stripe cancellation_reason: {reason!r}")
        return CardOutcome("canceled", reason), 0
    return None


def _validated(params: dict[str, Any]) -> tuple[dict[str, str], int, str]:
    amount = params.get("amount")
    if amount is None:
        raise _invalid("Missing required param: amount.", "amount")
    if not str(amount).isdigit() or int(amount) < 1:
        raise _invalid("This value must be greater than or equal to 1.", "amount", "parameter_invalid_integer")
    currency = str(params.get("currency") or "")
    if not re.fullmatch(r"[a-z]{3}", currency):
        raise _invalid("Invalid currency: " + currency, "currency", "parameter_invalid_empty")
    refusal = _amount_refusal(int(amount), currency.upper())
    if refusal is not None:
        raise refusal
    if params.get("confirm") != "true":
        raise _invalid("This fake charges only with confirm=true.", "confirm", "parameter_invalid_empty")
    token = params.get("payment_method")
    if token:
        if token not in TEST_PAYMENT_METHODS:
            raise _invalid(f"No such PaymentMethod: '{token}'", "payment_method", "resource_missing")
        return {"number": TEST_PAYMENT_METHODS[token], "payment_method": token}, int(amount), currency
    method = params.get("payment_method_data") or {}
    card = method.get("card") or {}
    if method.get("type") != "card" or not card.get("number"):
        raise _invalid("Missing required param: payment_method.", "payment_method")
    for field in ("exp_month", "exp_year"):
        if not str(card.get(field, "")).isdigit():
            raise _invalid(
                f"Missing required param: payment_method_data[card][{field}].", f"payment_method_data[card][{field}]"
            )
    return card, int(amount), currency


def _capture_method(params: dict[str, Any]) -> str:
    """The create's capture_method (default automatic), one of Stripe's values, else a 400."""
    method = params.get("capture_method") or "automatic"
    if method not in CAPTURE_METHODS:
        message = "Invalid capture_method: must be one of " + ", ".join(CAPTURE_METHODS[:-1])
        raise _invalid(f"{message}, or {CAPTURE_METHODS[-1]}", "capture_method", "parameter_invalid_empty")
    return str(method)


def _raw_card_refusal() -> StripeError:
    """What Stripe answers a secret key whose account has no raw card data access (every new account)."""
    return StripeError(
        400,
        {
            "type": "invalid_request_error",
            "message": (
                "Sending credit card numbers directly to the Stripe API is generally unsafe. We suggest you use "
                "test tokens that map to the test card you are using, see https://stripe.com/docs/testing. To "
                "enable raw card data APIs in test mode, see "
                "https://support.stripe.com/questions/enabling-access-to-raw-card-data-apis."
            ),
        },
    )


def _amount_refusal(amount: int, currency: str) -> StripeError | None:
    """Stripe's rules for its own `amount` (docs.stripe.com/currencies): its currencies, minimum and maximum
    charges, whole krónur for ISK (two-decimal in its API), a last digit of 0 for three-decimal currencies."""
    if currency not in stripe_amounts.CURRENCIES:
        return _invalid(f"Invalid currency: {currency.lower()}.", "currency", "parameter_invalid_empty")
    minimum = stripe_amounts.MINIMUM_CHARGE.get(currency, 1)
    if amount < minimum:
        return _invalid(f"Amount must be at least {minimum} {currency.lower()}", "amount", "amount_too_small")
    if amount > stripe_amounts.MAXIMUM_AMOUNT:
        return _invalid("Amount must be no more than 99999999", "amount", "amount_too_large")
    if currency == "ISK" and amount % 100:
        return _invalid(
            "Invalid amount. Currency ISK has become effectively zero-decimal and charged amounts must be evenly "
            "divisible by 100.",
            "amount",
            "invalid_charge_amount_no_decimal_compatible",
        )
    if currency in stripe_amounts.THREE_DECIMAL and amount % 10:
        return _invalid("Three-decimal amounts must end in 0.", "amount", "invalid_charge_amount")
    return None


def _answer(intent: dict[str, Any], outcome: CardOutcome) -> tuple[int, dict[str, Any]]:
    if outcome.status != "declined":
        return 200, dict(intent)
    error = {
        "type": "card_error",
        "code": outcome.code,
        "decline_code": outcome.decline_code,
        "message": outcome.message,
        "param": None,
        "payment_intent": dict(intent),
        "doc_url": f"https://stripe.com/docs/error-codes/{outcome.code}",
    }
    return 402, {"error": error}


def _return_url(params: dict[str, Any]) -> str | None:
    """The create's return_url: an absolute URL (an app's own scheme too, as Stripe allows), else a 400."""
    value = params.get("return_url")
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*://\S+", value):
        raise _invalid("Not a valid URL", "return_url", "url_invalid")
    return value


def _authentication_failure(payment_method: str | None) -> dict[str, Any]:
    """last_payment_error after the buyer failed 3-D Secure, as Stripe shapes it."""
    return {
        "type": "invalid_request_error",
        "code": "payment_intent_authentication_failure",
        "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
        "message": AUTHENTICATION_FAILURE_MESSAGE,
        "payment_method": {"id": payment_method, "object": "payment_method", "type": "card"},
    }


def _no_such_intent(intent_id: str) -> dict[str, Any]:
    return {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": f"No such payment_intent: '{intent_id}'",
            "param": "intent",
            "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
        }
    }


def _shown(amount: int, currency: str) -> str:
    """An amount as Stripe's messages show it: in major units, with the currency's sign or code."""
    places = stripe_amounts.decimals(currency.upper())
    major = f"{amount / 10**places:.{places}f}"
    sign = {"usd": "$", "eur": "€", "gbp": "£"}.get(currency)
    return f"{sign}{major}" if sign else f"{major} {currency}"


def _page(body: str) -> str:
    return f"<!doctype html><html><head><title>Fake PSP</title></head><body>{body}</body></html>"


def _unauthorized() -> dict[str, Any]:
    return {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}


def _not_found(path: str) -> dict[str, Any]:
    return {
        "error": {"type": "invalid_request_error", "code": "resource_missing", "message": f"No such resource: '{path}'"}
    }


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Run the fake PSP (a Stripe subset) on loopback.")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--webhook-url", help="where to POST signed events (none by default)")
    parser.add_argument(
        "--latency",
        default=os.environ.get("FAKE_PSP_LATENCY", "none"),
        help="how long answers take: none, fixed:<ms> or stripe (fake_psp.latency; env FAKE_PSP_LATENCY)",
    )
    parser.add_argument("--seed", type=int, default=0, help="the latency model's seed")
    args = parser.parse_args()
    psp = FakePsp(webhook_url=args.webhook_url, latency=parse_latency(args.latency, args.seed)).start(args.port)
    print(f"fake PSP listening on {psp.url} (secret key {psp.api_key})")
    threading.Event().wait()


if __name__ == "__main__":
    main()
