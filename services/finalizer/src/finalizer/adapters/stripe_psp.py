"""The PSP is Stripe: one PaymentIntent per payment, created and confirmed in one call (official SDK).

Exactly one charge per payment: the payment order id is Stripe's idempotency key, so a retry — the SDK's own
(connection errors, 409, 5xx; up to `max_network_retries`) or a redelivery from the queue — gets the first
answer back instead of a second charge. Stripe prunes a key once it is 24 hours old, and a letter redriven
from a DLQ (kept 14 days) can come later than that: for such an old event the use case first asks `find`,
which looks the intent up by the order id in its metadata, and charges only when there is none.

Retries and Stripe's 429s (docs.stripe.com/rate-limits): the SDK (stripe-python 16, _http_client._should_retry)
retries what Stripe asks it to with `Stripe-Should-Retry: true` (a lock_timeout 429), never what it answers with
`Stripe-Should-Retry: false`, and otherwise only connection errors, 409 and 5xx: a rate-limited 429 (no header)
is not retried here. Stripe executed nothing for it, so it is an unknown outcome for the queue to redeliver later
(PspOutcomeUnknown), never a decline. This adapter has no retry loop of its own. A per-environment RequestBudget
keeps the finalizer's demand under the account's limit before a request is sent (adapters.request_budget).

Outcomes: `succeeded` → APPROVED; a card error (HTTP 402) → DECLINED with Stripe's decline code and message;
`requires_action` (3-D Secure) → REQUIRES_ACTION with what the buyer's page needs (Stripe's redirect page when
the order gave a return URL, else the client secret for Stripe.js); `processing` → asked again once, then
PspOutcomeUnknown; a `processing` or authenticating intent that failed since (`requires_payment_method` with its
`last_payment_error`) → DECLINED as a card error is; `canceled` → DECLINED; no answer → PspOutcomeUnknown (the
queue redelivers). An amount Stripe refuses (below its minimum, above its maximum, not writable in its `amount`:
payments_shared.stripe_amounts, or its own answer) → DECLINED with that code: no retry would charge it. Any other
refusal of our request itself (bad key, bad parameters, idempotency key reused with other parameters) →
PspRequestRefused: it is not the buyer's fault, so the payment is not failed; the event waits in the DLQ.

Refunds (`refund`): one Refund per refund request, our refund id its idempotency key and metadata, on the
PaymentIntent the payment succeeded with. Stripe's `pending` or `succeeded` → SUCCEEDED (the money has left the
balance), `failed` or `canceled` → FAILED with its failure_reason; a refusal of the refund (already refunded, more
than is left, disputed…: HTTP 400) → FAILED with Stripe's code and message, never retried; no answer →
PspOutcomeUnknown. `find_refund` looks a refund up among the intent's refunds by our id in its metadata (the key
may be pruned); `retrieve_refund` re-reads one (a webhook said it changed).

Manual capture (docs.stripe.com/payments/place-a-hold-on-a-payment-method): a charge with capture_method
"manual" leaves an approved card's intent in `requires_capture` → AUTHORIZED. `capture` asks for
amount_to_capture of it ("you can capture less than the authorized amount, but not more"; the rest is released)
→ APPROVED with Stripe's amount_received as `captured`; `cancel` with a merchant's cancellation_reason releases
it → DECLINED (canceled). Either, refused because the intent moved on meanwhile (payment_intent_unexpected_state:
captured before, or canceled by Stripe once its 7-day window passed), answers with the intent as it is now.

Stripe's processing fee (docs.stripe.com/expand/use-cases: "After a payment succeeds, the fees are available on
the associated Charge's balance transaction"): every call that can answer a succeeded intent asks for it with
`expand[]=latest_charge.balance_transaction` (a nested expand, dot-separated), so learning the fee costs no request
of its own; a succeeded intent whose charge came back as a bare id (the replay of a key first used without the
expand) is read once more with it. The balance transaction's `fee` (the sum of its `fee_details`) is what Stripe
keeps. It can be null: "The balance_transaction field on the Charge object might be null immediately after
confirmation" under asynchronous capture (docs.stripe.com/payments/payment-intents/asynchronous-capture), and a
charge settled in another currency than the payment's has its fee in that currency: either way no fee is given
(the ledger then books none, and reconcile names what is missing).

An intent awaiting authentication is settled later by id: `retrieve` (a webhook or a redelivery re-reads it:
webhooks arrive late, twice and out of order, so their payload is never trusted) or `cancel` (the sweep, once
the buyer abandoned it).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import stripe
from opentelemetry.trace import SpanKind, Status, StatusCode

from finalizer.adapters.request_budget import RequestBudget
from finalizer.domain.payment import ChargeResult, NextAction, PaymentSource, PaymentToken, PspDecision
from finalizer.domain.psp_views import (
    STRIPE_DISPUTE_STATUSES,
    STRIPE_PAYOUT_STATUSES,
    DisputeView,
    PspPayoutView,
    RefundAnswer,
    RefundStatus,
)
from finalizer.ports import PspOutcomeUnknown, PspRequestRefused
from payments_shared import stripe_amounts
from payments_shared.money import Money
from payments_shared.observability.tracing import tracer
from payments_shared.stripe_amounts import UnchargeableAmount, api_units, from_api_units, stripe_amount

# Stripe's SDK logs the form it posts (card number included) at DEBUG: never let that reach a log.
logging.getLogger("stripe").setLevel(logging.WARNING)
_log = logging.getLogger(__name__)

ROUTE_OF_AN_INTENT = "/v1/payment_intents/{intent}"
ROUTE_OF_A_REFUND = "/v1/refunds/{refund}"
ROUTE_OF_A_DISPUTE = "/v1/disputes/{dispute}"
# A refund Stripe holds: taken (the money has left the balance) or not.
REFUND_TAKEN = frozenset({"pending", "succeeded"})
REFUND_NOT_TAKEN = frozenset({"failed", "canceled"})
# Stripe's refusals of an amount (docs.stripe.com/error-codes): retrying cannot help, so the payment fails.
AMOUNT_REFUSALS = frozenset(
    {"amount_too_small", "amount_too_large", "invalid_charge_amount", "invalid_charge_amount_no_decimal_compatible"}
)
ABANDONED = "abandoned"  # our cancellation_reason for an authentication the buyer never completed
# Stripe's own cancel of an authorization left uncaptured past its window. Its reasons "generated by Stripe internally
# (failed_invoice, void_invoice, automatic, or expired)" (PaymentIntent.cancellation_reason) are listed without
# saying which an expiry carries: either of the two that could reads as expired (the fake PSP sends automatic).
EXPIRED = frozenset({"automatic", "expired"})
# What a succeeded intent's answer carries its fee in: the latest charge and its balance transaction, expanded.
FEE_EXPAND = ["latest_charge.balance_transaction"]


class _TracedRequestsClient(stripe.RequestsClient):
    """Stripe's requests-based client with a CLIENT span per HTTP attempt (retries show as resends), each attempt
    sent only within the environment's request budget (RequestBudget), if any."""

    def __init__(self, budget: RequestBudget | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._budget = budget

    def request(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None, **kwargs: Any
    ) -> Any:
        if self._budget is not None and not self._budget.take():
            # Not sent: the SDK does not retry it (should_retry False) and the adapter sees no answer, so the
            # record goes back to its queue rather than add to the account's 429s.
            raise stripe.APIConnectionError("Stripe request budget spent: the request was not sent", should_retry=False)
        parts = urlsplit(url)
        route = parts.path
        if parts.path.count("/") > 2 and not parts.path.endswith("/search"):  # an object's id: not a span name
            route = (
                ROUTE_OF_A_REFUND
                if parts.path.startswith("/v1/refunds/")
                else ROUTE_OF_A_DISPUTE
                if parts.path.startswith("/v1/disputes/")
                else ROUTE_OF_AN_INTENT
            )
        with tracer().start_as_current_span(
            f"{method.upper()} {route}",
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": method.upper(),
                "server.address": parts.hostname or "",
                "server.port": parts.port or 443,
                "url.path": parts.path,
                "peer.service": "stripe",
            },
            record_exception=True,
        ) as span:
            content, status, response_headers = super().request(method, url, headers, post_data, **kwargs)
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))
            return content, status, response_headers


class StripePsp:
    def __init__(
        self,
        api_key: Callable[[], str],
        *,
        api_base: str | None = None,
        connect_timeout_s: float = 2.0,
        read_timeout_s: float = 10.0,
        max_network_retries: int = 2,
        budget: RequestBudget | None = None,
    ) -> None:
        if os.environ.get("STRIPE_LOG") == "debug":
            raise ValueError("STRIPE_LOG=debug would print card numbers to the function's log")
        self._api_key = api_key  # called per charge: the SSM-backed value is cached and refreshed by max age
        self._api_base = api_base
        self._http = _TracedRequestsClient(budget, timeout=(connect_timeout_s, read_timeout_s))
        self._retries = max_network_retries
        self._client: tuple[str, stripe.StripeClient] | None = None
        self._client_lock = threading.Lock()  # a batch's records call from several threads

    def charge(
        self,
        idempotency_key: str,
        amount: Money,
        merchant_id: str,
        card: PaymentSource,
        return_url: str | None = None,
        capture_method: str = "automatic",
    ) -> ChargeResult:
        with tracer().start_as_current_span(
            "psp charge",
            kind=SpanKind.CLIENT,
            attributes={
                "payment.order_id": idempotency_key,
                "payment.amount_minor": amount.minor,
                "payment.currency": amount.currency,
                "peer.service": "stripe",
            },
        ) as span:
            result = self._charge(idempotency_key, amount, merchant_id, card, return_url, capture_method)
            span.set_attribute("payment.outcome", result.decision.value)
            if result.psp_fee is not None:
                span.set_attribute("psp.fee_minor", result.psp_fee.minor)
            if result.psp_reference:
                span.set_attribute("psp.reference", result.psp_reference)
            if result.decline_code:
                span.set_attribute("psp.decline_code", result.decline_code)
            return result

    def _charge(
        self,
        idempotency_key: str,
        amount: Money,
        merchant_id: str,
        card: PaymentSource,
        return_url: str | None,
        capture_method: str,
    ) -> ChargeResult:
        try:
            stripe_minor = stripe_amount(amount)
        except UnchargeableAmount as refused:  # accepted before these rules: Stripe would refuse it every time
            return ChargeResult(PspDecision.DECLINED, None, f"{refused.code}: {refused}", refused.code)
        client = self._stripe()
        params: dict[str, Any] = {
            "amount": stripe_minor,
            "currency": amount.currency.lower(),
            "confirm": True,
            "payment_method_types": ["card"],
            **_payment_method(card),
            "metadata": {"payment_order_id": idempotency_key, "merchant_id": merchant_id},
            **({"return_url": return_url} if return_url else {}),
            # Only when asked: an automatic charge's parameters stay as they were, so its key's replays still match.
            **({"capture_method": capture_method} if capture_method != "automatic" else {}),
        }
        try:
            intent = _expanding_fee(
                lambda asked: client.v1.payment_intents.create(
                    params=asked,  # type: ignore[arg-type]
                    options={"idempotency_key": idempotency_key},
                ),
                params,
            )
            if intent.status == "processing":  # settles within seconds for cards: look once more
                intent = client.v1.payment_intents.retrieve(intent.id, params={"expand": FEE_EXPAND})
            intent = _with_fee(client, intent)
        except stripe.CardError as declined:
            error = declined.error
            code = (error.decline_code if error else None) or declined.code or "card_declined"
            reference = error.payment_intent.id if error and error.payment_intent else None
            return ChargeResult(PspDecision.DECLINED, reference, f"{code}: {declined.user_message}", code)
        except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as unknown:
            raise PspOutcomeUnknown(f"Stripe gave no answer for {idempotency_key}: {type(unknown).__name__}") from None
        except stripe.StripeError as refused:  # authentication, permission, invalid request, idempotency
            if isinstance(refused, stripe.InvalidRequestError) and refused.code in AMOUNT_REFUSALS:
                # Its rules for amounts changed or differ for this account: this amount will never be charged.
                message = refused.error.message if refused.error else None
                return ChargeResult(PspDecision.DECLINED, None, f"{refused.code}: {message}", refused.code)
            raise PspRequestRefused(
                f"Stripe refused the request for {idempotency_key}: "
                f"{type(refused).__name__} {refused.code or ''}".rstrip()
            ) from None
        return _result(intent)

    def find(self, idempotency_key: str) -> ChargeResult | None:
        """The outcome of the PaymentIntent made for this key, found by the order id in its metadata (Stripe's
        Search API); None when Stripe has none. For a key Stripe may have pruned (24 h): its search index lags
        writes by about a minute, and only intents created over 24 h ago can have lost their key."""
        with tracer().start_as_current_span(
            "psp find", kind=SpanKind.CLIENT, attributes={"payment.order_id": idempotency_key, "peer.service": "stripe"}
        ) as span:
            client = self._stripe()
            query = f"metadata['payment_order_id']:'{idempotency_key}'"  # an order id is a UUID: nothing to escape
            with _answered(f"the search for {idempotency_key}"):
                found = client.v1.payment_intents.search(params={"query": query, "limit": 10}).data
                span.set_attribute("psp.intents_found", len(found))
                if not found:
                    return None
                # Two would mean a second charge was already made: the succeeded one is the payment's outcome.
                intent = next((i for i in found if i.status == "succeeded"), found[0])
                if intent.status == "processing":
                    intent = client.v1.payment_intents.retrieve(intent.id, params={"expand": FEE_EXPAND})
                intent = _with_fee(client, intent)  # a search answers its intents unexpanded
            return _result(intent)

    def retrieve(self, intent_id: str) -> ChargeResult:
        """What the PaymentIntent's state says now (a webhook's payload is never trusted: it may be stale)."""
        with (
            tracer().start_as_current_span(
                "psp retrieve", kind=SpanKind.CLIENT, attributes={"psp.reference": intent_id, "peer.service": "stripe"}
            ),
            _answered(f"reading {intent_id}"),
        ):
            return _result(self._stripe().v1.payment_intents.retrieve(intent_id, params={"expand": FEE_EXPAND}))

    def cancel(
        self, intent_id: str, reason: str | None = ABANDONED, idempotency_key: str | None = None
    ) -> ChargeResult:
        """Cancel an intent whose authentication was abandoned, or an authorization (released); an intent that
        settled meanwhile (Stripe: no cancel once succeeded) answers with that state instead, so a late success
        is never lost."""
        with tracer().start_as_current_span(
            "psp cancel", kind=SpanKind.CLIENT, attributes={"psp.reference": intent_id, "peer.service": "stripe"}
        ):
            with _answered(f"the cancel of {intent_id}"):
                try:
                    intent = self._stripe().v1.payment_intents.cancel(
                        intent_id,
                        params={"cancellation_reason": reason} if reason else {},
                        options={"idempotency_key": idempotency_key or f"cancel-{intent_id}"},
                    )
                except stripe.InvalidRequestError as refused:
                    if refused.code != "payment_intent_unexpected_state":
                        raise
                    return self.retrieve(intent_id)  # settled meanwhile: Stripe cancels no succeeded intent
            return _result(intent)

    def capture(self, intent_id: str, amount: Money, idempotency_key: str) -> ChargeResult:
        """Capture `amount` of an authorization once per key (the rest released). An intent no longer capturable
        (captured before, canceled meanwhile) answers with its state now; an amount Stripe refuses (more than
        is capturable) is our request's fault: PspRequestRefused."""
        with tracer().start_as_current_span(
            "psp capture",
            kind=SpanKind.CLIENT,
            attributes={
                "psp.reference": intent_id,
                "payment.amount_minor": amount.minor,
                "payment.currency": amount.currency,
                "peer.service": "stripe",
            },
        ) as span:
            with _answered(f"the capture of {intent_id}"):
                client = self._stripe()
                try:
                    intent = _expanding_fee(
                        lambda asked: client.v1.payment_intents.capture(
                            intent_id,
                            params=asked,  # type: ignore[arg-type]
                            options={"idempotency_key": idempotency_key},
                        ),
                        {"amount_to_capture": api_units(amount)},
                    )
                except stripe.InvalidRequestError as refused:
                    if refused.code != "payment_intent_unexpected_state":
                        raise
                    return self.retrieve(intent_id)  # captured or canceled meanwhile: its state says which
                intent = _with_fee(client, intent)
            result = _result(intent)
            span.set_attribute("psp.outcome", result.decision.value)
            if result.psp_fee is not None:
                span.set_attribute("psp.fee_minor", result.psp_fee.minor)
            return result

    def refund(
        self, idempotency_key: str, payment_intent: str, amount: Money, reason: str | None, metadata: dict[str, str]
    ) -> RefundAnswer:
        with tracer().start_as_current_span(
            "psp refund",
            kind=SpanKind.CLIENT,
            attributes={
                "refund.id": idempotency_key,
                "psp.payment_intent": payment_intent,
                "payment.amount_minor": amount.minor,
                "payment.currency": amount.currency,
                "peer.service": "stripe",
            },
        ) as span:
            answer = self._refund(idempotency_key, payment_intent, amount, reason, metadata)
            span.set_attribute("refund.outcome", answer.status.value)
            if answer.psp_reference:
                span.set_attribute("psp.reference", answer.psp_reference)
            return answer

    def _refund(
        self, idempotency_key: str, payment_intent: str, amount: Money, reason: str | None, metadata: dict[str, str]
    ) -> RefundAnswer:
        stripe_minor = _refund_amount(amount)
        if stripe_minor is None:  # a refund Stripe could never take: fail it rather than ask again and again
            return RefundAnswer(RefundStatus.FAILED, None, f"invalid_amount: {amount} cannot be written for Stripe")
        params: dict[str, Any] = {
            "payment_intent": payment_intent,
            "amount": stripe_minor,
            "metadata": metadata,
            **({"reason": reason} if reason else {}),
        }
        try:
            refund = self._stripe().v1.refunds.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as refused:  # Stripe's refusal of this refund: asking again cannot help
            message = refused.error.message if refused.error else None
            return RefundAnswer(RefundStatus.FAILED, None, f"{refused.code or 'refused'}: {message}")
        except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as unknown:
            # No answer, a 5xx, or a 409: the same key's first request still running. The queue asks again.
            raise PspOutcomeUnknown(f"Stripe gave no answer for {idempotency_key}: {type(unknown).__name__}") from None
        except stripe.StripeError as refused:  # authentication, permission, the key reused: our request, not the refund
            raise PspRequestRefused(
                f"Stripe refused the refund {idempotency_key}: {type(refused).__name__} {refused.code or ''}".rstrip()
            ) from None
        return _refund_answer(refund)

    def retrieve_refund(self, refund_id: str) -> RefundAnswer:
        """What the Refund's state says now (a webhook's payload is never trusted: it may be stale)."""
        with (
            tracer().start_as_current_span(
                "psp retrieve refund",
                kind=SpanKind.CLIENT,
                attributes={"psp.reference": refund_id, "peer.service": "stripe"},
            ),
            _answered(f"reading {refund_id}"),
        ):
            return _refund_answer(self._stripe().v1.refunds.retrieve(refund_id))

    def find_refund(self, payment_intent: str, refund_id: str) -> RefundAnswer | None:
        """The refund made for `refund_id`, found among the intent's refunds by our id in its metadata (a list is
        read-after-write, unlike search); None when Stripe has none."""
        with tracer().start_as_current_span(
            "psp find refund",
            kind=SpanKind.CLIENT,
            attributes={"refund.id": refund_id, "psp.payment_intent": payment_intent, "peer.service": "stripe"},
        ) as span:
            with _answered(f"the refunds of {payment_intent}"):
                refunds = self._stripe().v1.refunds.list(params={"payment_intent": payment_intent, "limit": 100})
                ours = [r for r in refunds.auto_paging_iter() if _our_refund_id(r) == refund_id]
            span.set_attribute("psp.refunds_found", len(ours))
            return _refund_answer(ours[0]) if ours else None

    def retrieve_dispute(self, dispute_id: str) -> DisputeView | None:
        """What the Dispute says now (a webhook's payload is never trusted), with our order id from its
        PaymentIntent's metadata; None for an inquiry (Stripe's warning_… statuses: no funds withdrawn)."""
        with (
            tracer().start_as_current_span(
                "psp retrieve dispute",
                kind=SpanKind.CLIENT,
                attributes={"psp.reference": dispute_id, "peer.service": "stripe"},
            ),
            _answered(f"reading {dispute_id}"),
        ):
            client = self._stripe()
            dispute = client.v1.disputes.retrieve(dispute_id)
            if str(dispute.status).startswith("warning_"):
                return None
            status = STRIPE_DISPUTE_STATUSES.get(str(dispute.status))
            if status is None:
                raise PspOutcomeUnknown(f"Stripe's Dispute {dispute.id} is {dispute.status}: not a status we know")
            intent_id = _id_of(dispute.payment_intent)
            order_id = None
            if intent_id is not None:
                metadata = client.v1.payment_intents.retrieve(intent_id).metadata
                order_id = (metadata.to_dict() if metadata else {}).get("payment_order_id")
            return _dispute_view(dispute, intent_id, order_id)

    def retrieve_payout(self, payout_id: str) -> PspPayoutView | None:
        """What the Payout of our balance to our bank says now (a webhook's payload is never trusted); None while it
        is pending or in transit, or canceled (it never left the balance)."""
        with (
            tracer().start_as_current_span(
                "psp retrieve payout",
                kind=SpanKind.CLIENT,
                attributes={"psp.reference": payout_id, "peer.service": "stripe"},
            ),
            _answered(f"reading {payout_id}"),
        ):
            payout = self._stripe().v1.payouts.retrieve(payout_id)
            status = STRIPE_PAYOUT_STATUSES.get(str(payout.status))
            if status is None:
                return None
            currency = str(payout.currency).upper()
            return PspPayoutView(
                payout_id=str(payout.id),
                amount_minor=stripe_amounts.from_api_units(int(payout.amount), currency).minor,
                currency=currency,
                status=status,
                failure_code=getattr(payout, "failure_code", None),
            )

    def _stripe(self) -> stripe.StripeClient:
        """One client per API key value: a rotated key (new SSM value) gets a new client."""
        key = self._api_key()
        with self._client_lock:
            return self._client_for(key)

    def _client_for(self, key: str) -> stripe.StripeClient:
        if self._client is None or self._client[0] != key:
            client = stripe.StripeClient(
                key,
                http_client=self._http,
                max_network_retries=self._retries,
                base_addresses={"api": self._api_base} if self._api_base else None,
            )
            self._client = (key, client)
        return self._client[1]


@contextmanager
def _answered(request: str) -> Iterator[None]:
    """Stripe's failures as the port names them: no answer → PspOutcomeUnknown (asked again later), a refusal
    of the request itself → PspRequestRefused."""
    try:
        yield
    except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as unknown:
        raise PspOutcomeUnknown(f"Stripe gave no answer to {request}: {type(unknown).__name__}") from None
    except stripe.StripeError as refused:
        raise PspRequestRefused(f"Stripe refused {request}: {refused.code}") from None


def _payment_method(source: PaymentSource) -> dict[str, Any]:
    """A token by its id; a card's own details only where the Stripe account has raw card data access (else
    Stripe refuses them: PspRequestRefused)."""
    if isinstance(source, PaymentToken):
        return {"payment_method": source.id}
    card = {"number": source.number, "exp_month": source.expiry_month, "exp_year": source.expiry_year}
    billing = {"billing_details": {"name": source.holder_name}} if source.holder_name else {}
    return {"payment_method_data": {"type": "card", "card": card, **billing}}


def _expanding_fee(request: Callable[[dict[str, Any]], Any], params: dict[str, Any]) -> Any:
    """A POST that may answer a succeeded intent, asked with its fee expanded. Stripe compares a key's parameters
    with its first request's (docs.stripe.com/api/idempotent_requests): a key first used before fees were read
    (a redelivery across a deploy) is refused with the expand, so it is replayed as it was first asked."""
    try:
        return request({**params, "expand": FEE_EXPAND})
    except stripe.IdempotencyError as refused:
        if refused.http_status != 400:  # 409: the key's first request still running, the caller's to handle
            raise
        return request(params)


def _with_fee(client: stripe.StripeClient, intent: Any) -> Any:
    """A succeeded intent whose charge came back unexpanded (a replay, a search), read once more with its fee."""
    if intent.status == "succeeded" and isinstance(getattr(intent, "latest_charge", None), str):
        return client.v1.payment_intents.retrieve(intent.id, params={"expand": FEE_EXPAND})
    return intent


def _psp_fee(intent: Any) -> Money | None:
    """Stripe's processing fee on a succeeded intent's charge: its balance transaction's `fee` (what Stripe kept,
    every fee_details line of it). None while there is no balance transaction yet (asynchronous capture), or for
    a charge settled in another currency (currency conversion: its fee is not in the payment's currency)."""
    charge = getattr(intent, "latest_charge", None)
    txn = None if charge is None or isinstance(charge, str) else getattr(charge, "balance_transaction", None)
    if txn is None or isinstance(txn, str):
        return None
    currency = str(txn.currency).upper()
    if currency != str(intent.currency).upper():
        _log.warning(
            "no fee booked: %s settled in %s, not the payment's %s", intent.id, currency, str(intent.currency).upper()
        )
        return None
    return from_api_units(int(txn.fee), currency)


def _result(intent: Any) -> ChargeResult:
    """What a PaymentIntent's state says of the payment; PspOutcomeUnknown while it is not settled."""
    if intent.status == "succeeded":
        received = from_api_units(intent.amount_received, intent.currency) if intent.amount_received else None
        return ChargeResult(PspDecision.APPROVED, intent.id, None, captured=received, psp_fee=_psp_fee(intent))
    if intent.status == "requires_capture":
        return ChargeResult(PspDecision.AUTHORIZED, intent.id, None)
    if intent.status == "requires_action":
        return ChargeResult(PspDecision.REQUIRES_ACTION, intent.id, None, None, _next_action(intent))
    if intent.status == "canceled":
        reason = getattr(intent, "cancellation_reason", None)
        if getattr(intent, "latest_charge", None):  # an authorization, released: nothing was captured
            if reason in EXPIRED:
                message = "expired: Stripe canceled the authorization, not captured within its window"
                return ChargeResult(PspDecision.DECLINED, intent.id, message, "expired")
            code = reason or "canceled"
            return ChargeResult(PspDecision.DECLINED, intent.id, f"{code}: the authorization was canceled", code)
        if reason == ABANDONED:
            return ChargeResult(
                PspDecision.DECLINED,
                intent.id,
                "authentication_abandoned: the buyer did not authenticate in time",
                "authentication_abandoned",
            )
        return ChargeResult(PspDecision.DECLINED, intent.id, "canceled: the intent was canceled", "canceled")
    failure = intent.last_payment_error if intent.status == "requires_payment_method" else None
    if failure is not None:  # it was `processing`, then the charge failed: the create answered 200, not 402
        code = getattr(failure, "decline_code", None) or getattr(failure, "code", None) or "card_declined"
        message = getattr(failure, "message", None) or "the card was declined"
        return ChargeResult(PspDecision.DECLINED, intent.id, f"{code}: {message}", code)
    raise PspOutcomeUnknown(f"Stripe's PaymentIntent {intent.id} is {intent.status}: outcome not known yet")


def _refund_amount(amount: Money) -> int | None:
    """Stripe's `amount` for a refund: its decimals for the currency (no minimum: that is a charge's rule); None
    when Stripe cannot take it (a currency it does not support, three decimals not ending in 0)."""
    try:
        return api_units(amount)
    except UnchargeableAmount:
        return None


def _our_refund_id(refund: Any) -> str | None:
    """Our refund id, kept in the Refund's metadata; None for a refund made elsewhere (the Dashboard, another
    integration)."""
    metadata = getattr(refund, "metadata", None)
    found = metadata.to_dict().get("refund_id") if metadata else None
    return str(found) if found else None


def _refund_answer(refund: Any) -> RefundAnswer:
    """What a Refund's state says; PspOutcomeUnknown for a state that is neither taken nor refused (a refund
    awaiting the customer's action, which card refunds never do)."""
    ours = _our_refund_id(refund)
    if refund.status in REFUND_TAKEN:
        return RefundAnswer(RefundStatus.SUCCEEDED, refund.id, None, ours)
    if refund.status in REFUND_NOT_TAKEN:
        reason = getattr(refund, "failure_reason", None) or refund.status
        return RefundAnswer(RefundStatus.FAILED, refund.id, reason, ours)
    raise PspOutcomeUnknown(f"Stripe's Refund {refund.id} is {refund.status}: outcome not known yet")


def _next_action(intent: Any) -> NextAction:
    """Stripe's redirect page when the intent has one (a return URL was given), else Stripe.js's way."""
    action = intent.next_action
    redirect = getattr(action, "redirect_to_url", None) if action is not None else None
    if redirect is not None and getattr(redirect, "url", None):
        return NextAction("redirect_to_url", redirect.url, intent.client_secret)
    return NextAction(getattr(action, "type", None) or "use_stripe_sdk", None, intent.client_secret)


def _id_of(expandable: Any) -> str | None:
    """An expandable field's id, whether Stripe sent the id or the object."""
    if expandable is None or isinstance(expandable, str):
        return expandable
    return str(expandable.id)


def _dispute_view(dispute: Any, intent_id: str | None, order_id: str | None) -> DisputeView:
    """Our view of a Dispute: its amount, and the dispute fee of the withdrawal Stripe made for it (Stripe's
    balance transaction of the disputed amount, with the fee in `fee`), in our minor units."""
    currency = str(dispute.currency).upper()
    withdrawals = [t for t in dispute.balance_transactions or [] if not isinstance(t, str) and t.amount < 0]
    fee = sum(int(t.fee) for t in withdrawals if str(t.currency).upper() == currency)
    return DisputeView(
        dispute_id=str(dispute.id),
        payment_intent=intent_id,
        amount_minor=stripe_amounts.from_api_units(int(dispute.amount), currency).minor,
        currency=currency,
        fee_minor=stripe_amounts.from_api_units(fee, currency).minor,
        status=STRIPE_DISPUTE_STATUSES[str(dispute.status)],
        reason=getattr(dispute, "reason", None),
        payment_order_id=str(order_id) if order_id else None,
    )
