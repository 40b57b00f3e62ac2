"""Fake PSP: a faithful subset of Stripe's PaymentIntents API on 127.0.0.1, scriptable to misbehave.

API (Stripe's wire format: form-encoded requests with bracketed keys, JSON answers, bearer-key auth):
  POST /v1/payment_intents        create; with confirm=true it charges `payment_method` (one of Stripe's test
                                  PaymentMethods, e.g. pm_card_visa) or, only with raw card data access
                                  (`raw_card_access`, off as on a new account), payment_method_data[card][...]
  GET  /v1/payment_intents/{id}   the PaymentIntent as it stands now
  GET  /v1/payment_intents/search?query=metadata['k']:'v'   Stripe's Search API (intents indexed after a lag)
Errors have Stripe's shape: {"error": {"type", "code", "decline_code", "message", "param", "payment_intent"}}.
A card decline is HTTP 402 with type card_error; a bad or missing key 401; a bad parameter 400.

Idempotency as Stripe documents it: an `Idempotency-Key` with the same parameters replays the stored answer
(status and body, header `Idempotent-Replayed: true`); the same key with other parameters → 400
idempotency_error; a key whose first request is still running → 409. Only requests that began executing are
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
"""

from __future__ import annotations

import json
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
from urllib.parse import parse_qsl

from payments_shared import stripe_amounts

API_KEY = "sk_test_fake_psp"
KEY_RETENTION_S = 24 * 3600  # Stripe prunes idempotency keys once they are at least 24 hours old
SEARCH_LAG_S = 60.0  # "data is generally searchable within a minute" (and later during outages)


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
}
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


class StripeError(Exception):
    def __init__(self, http_status: int, error: dict[str, Any]) -> None:
        super().__init__(error.get("message"))
        self.http_status, self.error = http_status, error


def _invalid(message: str, param: str | None = None, code: str = "parameter_missing") -> StripeError:
    return StripeError(400, {"type": "invalid_request_error", "code": code, "message": message, "param": param})


class FakePsp:
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
    ) -> None:
        # Off, as on every new Stripe account: card numbers sent with the secret key are refused.
        self.raw_card_access = raw_card_access
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

    def start(self, port: int = 0) -> FakePsp:
        psp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # - stdlib signature
                return

            def do_POST(self) -> None:  # - stdlib name
                if self.path != "/v1/payment_intents":
                    return self._send(404, _not_found(self.path))
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if not psp._authorized(self.headers.get("Authorization")):
                    return self._send(401, _unauthorized())
                status, payload, delay, replayed = psp._create(self.headers.get("Idempotency-Key"), parse_form(body))
                if delay:
                    time.sleep(delay)
                self._send(status, payload, {"Idempotent-Replayed": "true"} if replayed else {})

            def do_GET(self) -> None:
                if not psp._authorized(self.headers.get("Authorization")):
                    return self._send(401, _unauthorized())
                path, _, query = self.path.partition("?")
                if path == "/v1/payment_intents":
                    return self._send(*psp._list(parse_form(query)))
                if path == "/v1/payment_intents/search":
                    return self._send(*psp._search(parse_form(query)))
                intent = (
                    psp._retrieve(path.removeprefix("/v1/payment_intents/"))
                    if path.startswith("/v1/payment_intents/")
                    else None
                )
                self._send(200, intent) if intent else self._send(404, _not_found(self.path))

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                raw = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.send_header("Request-Id", f"req_{secrets.token_hex(7)}")
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): exactly the "response lost" case

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-psp", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

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

    def _create(self, key: str | None, params: dict[str, Any]) -> tuple[int, dict[str, Any], float, bool]:
        """(HTTP status, body, delay before answering, replayed)."""
        key = key or f"auto-{secrets.token_hex(8)}"
        behaviour = self._next_behaviour(key)  # network faults hit any request, replays included
        if behaviour in ("503", "timeout"):
            error = {"error": {"type": "api_error", "message": "Stripe is temporarily unavailable."}}
            with self._lock:
                self.requests[key] += 1
            return 503, error, (self.hang_seconds if behaviour == "timeout" else 0.0), False
        with self._lock:
            self.requests[key] += 1
            stored = self._stored.get(key)
            if stored is not None and self.clock() - stored[3] >= KEY_RETENTION_S:
                del self._stored[key]  # pruned: the key is new again, and a request with it runs afresh
                stored = None
            if stored is not None:
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
                        0.0,
                        False,
                    )
                return status, body, (self.hang_seconds if behaviour == "lost" else 0.0), True
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
            return self._execute(key, params, behaviour)
        finally:
            with self._lock:
                self._in_flight.discard(key)

    def _execute(self, key: str, params: dict[str, Any], behaviour: str) -> tuple[int, dict[str, Any], float, bool]:
        try:
            card, amount, currency = _validated(params)
            if "payment_method" not in card and not self.raw_card_access:
                raise _raw_card_refusal()
        except StripeError as refused:
            return refused.http_status, {"error": refused.error}, 0.0, False  # not stored, as Stripe does
        outcome = TEST_CARDS.get(card["number"], LIVE_CARD_IN_TEST_MODE)
        intent_id = f"pi_{secrets.token_hex(12)}"
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "currency": currency,
            "amount_received": 0,
            "capture_method": "automatic",
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
            settling = _settling(behaviour, outcome)
            if settling is not None:
                intent["status"] = "processing"
                self._settle[intent_id] = (settling[0], key, settling[1])
            else:
                self._decide(intent, outcome, key)
            self._intents[intent_id] = intent
            status, body = _answer(intent, outcome if settling is None else _SUCCEEDS)
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
            intent["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}}
        else:
            intent["status"] = "succeeded"
            intent["amount_received"] = intent["amount"]
            intent["latest_charge"] = f"ch_{secrets.token_hex(12)}"
            self.charges[key] += 1

    def _list(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Stripe's list: newest first, `limit` (1-100, default 10), `starting_after`, `created[gte]`."""
        limit = str(params.get("limit", "10"))
        if not limit.isdigit() or not 1 <= int(limit) <= 100:
            refused = _invalid("This value must be between 1 and 100.", "limit", "parameter_invalid_integer")
            return 400, {"error": refused.error}
        since = int((params.get("created") or {}).get("gte", 0) or 0)
        with self._lock:
            intents = [dict(i) for i in reversed(self._intents.values()) if i["created"] >= since]  # newest first
        after = params.get("starting_after")
        if after is not None:
            ids = [i["id"] for i in intents]
            if after not in ids:
                return 400, {
                    "error": _invalid(f"No such payment_intent: '{after}'", "starting_after", "resource_missing").error
                }
            intents = intents[ids.index(after) + 1 :]
        page = intents[: int(limit)]
        return 200, {"object": "list", "url": "/v1/payment_intents", "has_more": len(intents) > len(page), "data": page}

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

    def _retrieve(self, intent_id: str) -> dict[str, Any] | None:
        with self._lock:
            intent = self._intents.get(intent_id)
            if intent is None:
                return None
            settling = self._settle.pop(intent_id, None)
            if settling is not None:  # a `processing` intent settles once looked at again (or n times more)
                outcome, key, still_processing = settling
                if still_processing:
                    self._settle[intent_id] = (outcome, key, still_processing - 1)
                else:
                    self._decide(intent, outcome, key)
            return dict(intent)


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
    args = parser.parse_args()
    psp = FakePsp().start(args.port)
    print(f"fake PSP listening on {psp.url} (secret key {psp.api_key})")
    threading.Event().wait()


if __name__ == "__main__":
    main()
