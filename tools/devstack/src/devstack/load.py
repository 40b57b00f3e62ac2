"""Drives payments through the local API: approvals, declines, business refusals and bad requests."""

from __future__ import annotations

import json
import random
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from devstack.sigv4 import Keyring, LocalPrincipal, signed_headers
from payments_shared.money import Money

# Stripe's test cards: the fake PSP (a Stripe subset) answers each as Stripe documents.
APPROVED_CARDS = ("4242424242424242", "5555555555554444")
# generic decline, insufficient funds, expired, incorrect CVC, processing error, 3-D Secure required
DECLINED_CARDS = (
    "4000000000000002",
    "4000000000009995",
    "4000000000000069",
    "4000000000000127",
    "4000000000000119",
)
# The same outcomes as Stripe's test PaymentMethods (what a buyer's browser would have made with Stripe.js).
APPROVED_METHODS = ("pm_card_visa", "pm_card_mastercard")
DECLINED_METHODS = (
    "pm_card_chargeDeclined",
    "pm_card_chargeDeclinedInsufficientFunds",
    "pm_card_chargeDeclinedExpiredCard",
    "pm_card_chargeDeclinedIncorrectCvc",
    "pm_card_chargeDeclinedProcessingError",
)
# A card whose issuer asks for 3-D Secure, and what its buyer then does on Stripe's authentication page:
# completes it (SUCCESS), fails it (FAILED), or walks away (FAILED once the sweep cancels it past the deadline).
AUTHENTICATION_CARD, AUTHENTICATION_METHOD = "4000002500003155", "pm_card_authenticationRequired"
BUYER_ACTIONS = {"authenticate": "complete", "authenticate-fail": "fail", "abandon": None}
TOO_LATE = "TOO_LATE"
# A merchant's back end waits a little longer than API Gateway's integration timeout (29 s), so the gateway's 504
# normally comes first; either way it sends the order again with the same Idempotency-Key, up to this many times.
CLIENT_TIMEOUT_S = 35.0
POST_ATTEMPTS = 4
UNANSWERED = (0, 504)  # 0: no answer at all
# Answers that say "not now, try again": API Gateway's 500 when Lambda throttled the invoke (the function did not
# run), the initializer's 503 + Retry-After (its table throttled), a 429. The same key is sent again after a
# jittered exponential backoff (a 504 is sent again at once: the client already waited the integration timeout).
TRY_AGAIN = (429, 500, 503)
BACKOFF_S = 0.2  # the first resend's most; doubling each time
RETURN_URL = "https://shop.example/payments/return"
TOKEN_SHARE = 0.8  # the main mix pays with PaymentMethods; the rest sends cards (raw card data access on)
# Stripe's card whose refunds fail later, at the card network (refund.failed): the refund is then REVERSED.
REFUND_FAILS_CARD, REFUND_FAILS_METHOD = "4000000000005126", "pm_card_refundFail"
# Stripe's dispute card: the charge succeeds, then the cardholder's bank disputes it (devstack.disputes).
DISPUTE_CARD, DISPUTE_METHOD = "4000000000000259", "pm_card_createDispute"
# Authorize now, capture later: the merchant's back end then captures the hold (all of it, or a part: the rest is
# released) or cancels it, once the order shows AUTHORIZED.
MERCHANT_ACTIONS = {"authorize-capture": "capture", "authorize-cancel": "cancel"}
# A merchant that never saw its order AUTHORIZED within its wait (a loaded machine) leaves the hold to expire:
# the system cancels it once the capture window passes.
NEVER_AUTHORIZED, LEFT_TO_EXPIRE = "never AUTHORIZED", "authorize-expire"
FINAL_STATUSES = ("SUCCESS", "FAILED", "CANCELED")
# What GET shows of a SUCCESS payment once refunds or a dispute followed: its outcome is still SUCCESS.
SHOWN_AFTER_SUCCESS = ("PARTIALLY_REFUNDED", "REFUNDED", "DISPUTED")
INVALID_CARD = "4242424242424241"  # fails the Luhn check: 400
CARDS = (*APPROVED_CARDS, *DECLINED_CARDS, INVALID_CARD)
KINDS = [
    ("approve", 0.56),
    ("approve-refund-fails", 0.02),
    ("approve-dispute", 0.02),
    ("authorize-capture", 0.03),
    ("authorize-cancel", 0.01),
    ("authenticate", 0.03),
    ("authenticate-fail", 0.015),
    ("abandon", 0.015),
    ("decline", 0.15),
    ("refuse", 0.05),
    ("invalid", 0.10),
]
MERCHANTS = [f"merchant-{n:03d}" for n in range(1, 6)]
CURRENCIES = ["EUR", "USD", "PLN"]


@dataclass(frozen=True)
class Sent:
    kind: str
    status: int
    body: dict[str, Any]
    latency_ms: float
    too_late: bool = False  # the buyer did not reach the authentication page in time: it counts as abandoned
    posted_at: float = 0.0  # the POST's start (epoch seconds): devstack.time_to_final measures from it
    unanswered: int = 0  # POSTs of this order left without an answer (504, or none), then sent again
    throttled: int = 0  # POSTs of this order answered 500, 503 or 429 (TRY_AGAIN), then sent again


def http(
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    signer: LocalPrincipal | None = None,
) -> tuple[int, dict[str, Any]]:
    """One request to the local API, SigV4-signed as `signer` (None: unsigned)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", **(headers or {})}
    if signer is not None:
        headers = signed_headers(signer, method, url, data, headers)
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def backoff(attempt: int) -> float:
    """Full jitter ("Exponential Backoff And Jitter", AWS Architecture Blog): uniform up to BACKOFF_S * 2**attempt."""
    return random.uniform(0, BACKOFF_S * 2**attempt)


def http_retrying(
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    signer: LocalPrincipal | None = None,
    attempts: int = POST_ATTEMPTS,
) -> tuple[int, dict[str, Any]]:
    """http(), sent again while it answers TRY_AGAIN, after a backoff, up to `attempts` in all (a write carries
    its Idempotency-Key in `headers`): the last answer."""
    for attempt in range(attempts):
        status, answer = http(method, url, body, headers, signer=signer)
        if status not in TRY_AGAIN:
            break
        if attempt + 1 < attempts:
            time.sleep(backoff(attempt))
    return status, answer


def order(
    kind: str, rng: random.Random, hot_merchant_share: float = 0.0, token_share: float = TOKEN_SHARE
) -> dict[str, Any]:
    """hot_merchant_share: the share of all payments that go to merchant-001 (0: uniform). An order pays with
    a PaymentMethod (TOKEN_SHARE of them) or a card; an invalid one sends a card failing the Luhn check."""
    card = INVALID_CARD if kind == "invalid" else rng.choice(DECLINED_CARDS if kind == "decline" else APPROVED_CARDS)
    hot = rng.random() < hot_merchant_share
    by_token = kind != "invalid" and rng.random() < token_share
    method = rng.choice(DECLINED_METHODS if kind == "decline" else APPROVED_METHODS)
    if kind in BUYER_ACTIONS:
        card, method = AUTHENTICATION_CARD, AUTHENTICATION_METHOD
    if kind == "approve-refund-fails":
        card, method = REFUND_FAILS_CARD, REFUND_FAILS_METHOD
    if kind == "approve-dispute":
        card, method = DISPUTE_CARD, DISPUTE_METHOD
    paid_with: dict[str, Any] = (
        {"payment_method": method}
        if by_token
        else {
            "payment_details": {
                "card_number": card,
                "expiry_month": 12,
                "expiry_year": 2031,
                "cvv": "123",
                "holder_name": "Ada Lovelace",
            }
        }
    )
    return {
        "merchant_id": MERCHANTS[0] if hot else rng.choice(MERCHANTS[1:] if hot_merchant_share else MERCHANTS),
        # 2.00 to 501.00: at or above Stripe's minimum charge in each currency (PLN's is 2.00)
        "amount": f"{rng.randint(200, 50_100) / 100:.2f}",
        "currency": "CHF" if kind == "refuse" else rng.choice(CURRENCIES),  # CHF: not supported → FAILED
        "buyer_info": {"name": "Ada Lovelace", "email": "ada@example.com", "country": "GB"},
        "return_url": RETURN_URL,
        **({"capture_method": "manual"} if kind in MERCHANT_ACTIONS else {}),
        **paid_with,
    }


class _StayOnThePage(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the page sends the buyer back to the shop (return_url): not ours to follow


def press(button: str) -> bool:
    """A button of Stripe's authentication page: it answers by sending the buyer back to the shop (303). False
    when the buyer came too late: the authentication deadline passed and the sweep cancelled the intent."""
    try:
        urllib.request.build_opener(_StayOnThePage).open(
            urllib.request.Request(button, data=b"", method="POST"), timeout=30
        )
    except urllib.error.HTTPError as answer:
        if answer.code == 303:
            return True
        text = answer.read()[:300]
        if answer.code == 400 and b"has status canceled" in text:
            return False
        raise RuntimeError(f"{button}: {answer.code} {text!r}") from None
    return True


def authenticate(
    api_url: str, signer: LocalPrincipal, order_id: str, action: str | None, timeout_s: float = 60.0
) -> str | None:
    """The buyer's page: once the order is REQUIRES_ACTION, follow its redirect to Stripe's authentication page
    and complete or fail it there (None: the buyer walks away). The order's status when the buyer left it, or
    TOO_LATE when the page refused a buyer who came after the deadline (the order then ends FAILED)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, body = http("GET", f"{api_url}/payments/{order_id}", signer=signer)
        if status == 200 and body["status"] == "REQUIRES_ACTION":
            if action is not None and not press(f"{body['next_action']['redirect_url']}/{action}"):
                return TOO_LATE
            return "REQUIRES_ACTION"
        if status == 200 and body["status"] != "INITIATED":
            return str(body["status"])  # final without asking the buyer (an outcome the sweep or PSP decided)
        time.sleep(0.2)
    return None


def captured(body: dict[str, Any]) -> Money:
    """What a SUCCESS order took from the buyer: its captured amount (a manual capture may take less than the
    hold), else its amount."""
    return Money.parse(body.get("amount_captured") or body["amount"], body["currency"])


def settle_authorization(
    api_url: str, signer: LocalPrincipal, order_id: str, action: str, rng: random.Random, timeout_s: float = 90.0
) -> str:
    """The merchant's back end: once the order is AUTHORIZED, capture it (half the time a part of it) or cancel
    it, retrying a 5xx or 429 under the same Idempotency-Key. What the order showed, or the API's unexpected answer."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, body = http("GET", f"{api_url}/payments/{order_id}", signer=signer)
        if status == 200 and body["status"] == "AUTHORIZED":
            break
        if status == 200 and body["status"] in FINAL_STATUSES:
            return str(body["status"])
        time.sleep(0.2)
    else:
        return NEVER_AUTHORIZED
    request: dict[str, Any] = {}
    if action == "capture" and rng.random() < 0.5:
        held = Money.parse(body["amount_authorized"], body["currency"])
        part = Money(rng.randint(max(1, held.minor // 2), held.minor), held.currency)
        request = {"amount": part.to_decimal_string(), "currency": part.currency}
    elif action == "cancel":
        request = {"cancellation_reason": "requested_by_customer"}
    for _ in range(3):
        answered, answer = http(
            "POST", f"{api_url}/payments/{order_id}/{action}", request, {"Idempotency-Key": f"{action}-{order_id}"},
            signer=signer,
        )  # fmt: skip
        if answered < 500 and answered not in TRY_AGAIN:
            break
        time.sleep(1.0)
    return "AUTHORIZED" if answered == 202 else f"{action} answered {answered} {answer}"


def drive(
    api_url: str,
    keys: Keyring,
    payments: int,
    concurrency: int,
    seed: int,
    progress: bool = True,
    mix: list[tuple[str, float]] = KINDS,
    hot_merchant_share: float = 0.0,
    retry_share: float = 0.0,
    token_share: float = TOKEN_SHARE,
    unsigned_share: float = 0.0,
) -> list[Sent]:
    """Each order is sent by its merchant's back end (signed with that merchant's credentials); `retry_share`
    of them are sent a second time with the same Idempotency-Key, as a client does that lost the answer;
    `unsigned_share` of them are first sent unsigned, as a misconfigured client would: the edge must refuse
    those (403) before any function runs — the requests-vs-invocations gap the dashboards look for."""
    rng = random.Random(seed)
    plan = [(i, rng.choices([k for k, _ in mix], [w for _, w in mix])[0]) for i in range(payments)]
    bodies = {i: order(kind, rng, hot_merchant_share, token_share) for i, kind in plan}
    retries = random.Random(seed + 1)  # its own draws: the orders stay those of the seed
    retried = {i for i in range(payments) if retries.random() < retry_share}
    unsigned_draws = random.Random(seed + 2)
    unsigned = {i for i in range(payments) if unsigned_draws.random() < unsigned_share}
    done: list[Sent] = []
    unanswered: Counter[int] = Counter()  # per order: POSTs that got no answer, then were sent again
    throttled: Counter[int] = Counter()  # per order: POSTs answered TRY_AGAIN, then sent again

    def post(index: int) -> tuple[int, dict[str, Any]]:
        """The order, as a merchant's back end sends it: a POST left without an answer (API Gateway's 504 once its
        integration timeout passed, or no answer at all) or answered TRY_AGAIN is sent again with the same
        Idempotency-Key, which answers the order the first one made, if it made one."""
        for attempt in range(POST_ATTEMPTS):
            try:
                status, body = http(
                    "POST",
                    f"{api_url}/payments",
                    bodies[index],
                    {"Idempotency-Key": f"load-{seed}-{index}"},
                    signer=keys.merchant(bodies[index]["merchant_id"]),
                    timeout=CLIENT_TIMEOUT_S,
                )
            except (TimeoutError, urllib.error.URLError):
                status, body = 0, {}
            if status in TRY_AGAIN and attempt + 1 < POST_ATTEMPTS:
                throttled[index] += 1  # each order is sent by one thread
                time.sleep(backoff(attempt))
                continue
            if status not in UNANSWERED:
                return status, body
            unanswered[index] += 1
        return status, body

    def send(item: tuple[int, str]) -> Sent:
        index, kind = item
        if index in unsigned:
            refused, answer = http("POST", f"{api_url}/payments", bodies[index], {"Idempotency-Key": f"u-{index}"})
            if refused != 403:
                raise AssertionError(f"an unsigned POST answered {refused} {answer}, not the edge's 403")
        started, posted_at = time.perf_counter(), time.time()
        status, body = post(index)
        latency_ms = (time.perf_counter() - started) * 1000
        if index in retried:
            again, replayed = post(index)
            if status >= 500:  # every attempt failed (a 5xx each time): the retry's answer is the order's
                status, body = again, replayed
            elif (again, replayed.get("payment_order_id")) != (status, body.get("payment_order_id")):
                raise AssertionError(f"a retried POST answered {again} {replayed}, the first {status} {body}")
        too_late = False
        if kind in BUYER_ACTIONS and status == 201:
            signer = keys.merchant(bodies[index]["merchant_id"])
            seen = authenticate(api_url, signer, body["payment_order_id"], BUYER_ACTIONS[kind])
            # A buyer who meant to act but never met the page in time (refused past the deadline, or the order
            # already final, or never REQUIRES_ACTION within the wait: a loaded machine) walked away in effect.
            too_late = BUYER_ACTIONS[kind] is not None and seen != "REQUIRES_ACTION"
            if too_late:
                kind = "abandon"  # the deadline passed first: it ends as a walked-away buyer's order does
        if kind in MERCHANT_ACTIONS and status == 201:
            signer = keys.merchant(bodies[index]["merchant_id"])
            seen = settle_authorization(
                api_url, signer, body["payment_order_id"], MERCHANT_ACTIONS[kind], random.Random(f"{seed}-{index}")
            )
            if seen == NEVER_AUTHORIZED:
                kind = LEFT_TO_EXPIRE
            elif seen != "AUTHORIZED":
                raise AssertionError(f"{body['payment_order_id']} ({kind}): {seen}")
        sent = Sent(kind, status, body, latency_ms, too_late, posted_at, unanswered[index], throttled[index])
        done.append(sent)
        if progress:
            filled = int(30 * len(done) / payments)
            sys.stderr.write(f"\r  payments [{'#' * filled}{'.' * (30 - filled)}] {len(done)}/{payments}")
            sys.stderr.flush()
        return sent

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(send, plan))
    if progress:
        sys.stderr.write("\n")
    return results


def settle(api_url: str, keys: Keyring, sent: list[Sent], timeout_s: float) -> dict[str, dict[str, Any]]:
    """Poll every accepted order, as its merchant, until it is final (or the time is up): each with its outcome
    as `status` (a dispute the dispute card opened may already show, DISPUTED, over its SUCCESS)."""
    final: dict[str, dict[str, Any]] = {}
    owner = {s.body["payment_order_id"]: keys.merchant(s.body["merchant_id"]) for s in sent if s.status == 201}
    pending = set(owner)
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        for order_id in sorted(pending):
            status, body = http("GET", f"{api_url}/payments/{order_id}", signer=owner[order_id])
            if status == 200 and (body["status"] in FINAL_STATUSES or body["status"] in SHOWN_AFTER_SUCCESS):
                final[order_id] = {
                    **body,
                    "status": "SUCCESS" if body["status"] in SHOWN_AFTER_SUCCESS else body["status"],
                }
                pending.discard(order_id)
        if pending:
            time.sleep(0.2)
    for order_id in pending:
        final[order_id] = http("GET", f"{api_url}/payments/{order_id}", signer=owner[order_id])[1]
    return final
