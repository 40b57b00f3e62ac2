"""Stripe's webhooks (POST /webhooks/stripe on the function's own URL, auth type NONE: Stripe signs instead):
settle payments awaiting 3-D Secure or capture (an authorization Stripe canceled on its own once its window
passed), record the reversal of a refund that failed after it was taken, record disputes (opened, won or lost),
and record the payouts of the PSP's balance to our bank (paid, or failed and given back).

Verified with the SDK (`Webhook.construct_event`: `Stripe-Signature` over the raw body, the endpoint secret from
SSM, 300 s tolerance) before anything else; a bad signature is a 400 and nothing is recorded. The payload is
never trusted for the outcome — webhooks arrive late, twice and out of order — only for which payment to look
at: the PaymentIntent (or the Refund, the Dispute, the Payout) is re-read and fed to the use case. Each event id is
claimed forever with what it records, so a redelivered event changes nothing. A PSP that cannot be asked
now gets a 503: Stripe retries its webhooks for three days.

The endpoint is a Lambda function URL (contracts/function_urls.json), not a REST API route: its event is payload
format 2.0 (header names lower-cased, repeated values comma-joined; the body base64-encoded when Lambda deems it
binary) and its answer the function URL response format. A function URL sends every path and method to the
function, so anything but POST on the webhook's path is refused here (404, 405) before the signature is read.
"""

from __future__ import annotations

import base64
from typing import Any

import stripe
from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent
from opentelemetry.trace import SpanKind

from finalizer.domain.refund import RefundNotRecorded
from finalizer.money_out import DisputeNotRecordable
from finalizer.outcome_metrics import record_metrics
from finalizer.ports import PspOutcomeUnknown
from finalizer.refund_metrics import record_refund_metrics
from finalizer.runtime import SERVICE, container, logger
from payments_shared.eventstore.port import ConcurrencyConflict, StoreUnavailable
from payments_shared.eventstore.repository import Cause
from payments_shared.lambda_entry.function_url import problem_url_response, url_response
from payments_shared.lambda_entry.span import LambdaHandler, function_name, invocation_span
from payments_shared.observability.metrics import MetricUnit, build_metrics
from payments_shared.observability.tracing import mark_error
from payments_shared.problems import InvalidRequest, MethodNotAllowed, NotFound, Problem, ServiceBusy

# The path Stripe's endpoint is registered with (the URL's own host + this): contracts/function_urls.json's
# "path" for this function, which a test holds it to.
WEBHOOK_PATH = "/webhooks/stripe"
SIGNATURE_TOLERANCE_S = 300  # Stripe's default: a replayed delivery older than this is refused
# The PaymentIntent events whose intent may have settled; any other type is acknowledged and ignored.
SETTLING_TYPES = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.requires_action",
        # An authorization held for a manual capture (after 3-D Secure too); its cancel by Stripe itself once
        # the capture window passed comes as payment_intent.canceled, which settles it CANCELED.
        "payment_intent.amount_capturable_updated",
    }
)
# The events that carry a Refund whose status may have changed (docs.stripe.com/api/events/types: `refund.failed`
# when a refund fails, `charge.refund.updated` when one is updated); data.object is the Refund in both.
REFUND_TYPES = frozenset({"refund.failed", "charge.refund.updated"})
# The events that carry a Dispute (docs.stripe.com/api/events/types: charge.dispute.created when a customer
# disputes a charge, .closed when it is won or lost, .funds_withdrawn/.funds_reinstated as money moves).
DISPUTE_TYPES = frozenset(
    {
        "charge.dispute.created",
        "charge.dispute.closed",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
    }
)

# The events that carry a Payout of our balance to our bank (docs.stripe.com/api/events/types: payout.paid "occurs
# whenever a payout is expected to be available in the destination account", payout.failed "whenever a payout
# attempt fails"); data.object is the Payout.
PAYOUT_TYPES = frozenset({"payout.paid", "payout.failed"})

metrics = build_metrics(SERVICE)


RECEIVED = url_response(200, {"received": True})


def _problem(problem: Problem, headers: dict[str, str] | None = None) -> dict[str, Any]:
    logger.info("webhook refused", extra={"problem": problem.type, "status": problem.status})
    return problem_url_response(problem, headers)


def _busy(detail: str) -> dict[str, Any]:
    return problem_url_response(ServiceBusy(detail))


def _raw_body(request: LambdaFunctionUrlEvent) -> bytes:
    """The bytes Stripe signed: the body as sent, base64-decoded when the function URL encoded it."""
    body = request.body or ""
    return base64.b64decode(body, validate=True) if request.is_base64_encoded else body.encode()


def _signature(event: dict[str, Any]) -> str | None:
    # A function URL lower-cases header names (payload format 2.0): no case-insensitive lookup to lean on.
    signature = (event.get("headers") or {}).get("stripe-signature")
    return str(signature) if signature else None


def receive(event: dict[str, Any]) -> dict[str, Any]:
    request = LambdaFunctionUrlEvent(event)
    if request.raw_path != WEBHOOK_PATH:
        return _problem(NotFound(f"No such path: {request.raw_path}"))
    if request.request_context.http.method != "POST":
        return _problem(MethodNotAllowed("Stripe's webhooks are POSTed"), {"Allow": "POST"})
    signature = _signature(event)
    if not signature:
        return _problem(InvalidRequest("No Stripe-Signature header", []))
    try:
        stripe_event = stripe.Webhook.construct_event(
            _raw_body(request), signature, container.stripe_webhook_secret()(), tolerance=SIGNATURE_TOLERANCE_S
        )
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError):
        return _problem(InvalidRequest("The Stripe-Signature does not verify this body", []))
    verified = stripe_event.to_dict()
    event_id, event_type = str(verified["id"]), str(verified["type"])
    logger.append_keys(stripe_event_id=event_id, stripe_event_type=event_type)
    if event_type in REFUND_TYPES:
        return _refund_changed(event_id, verified.get("data", {}).get("object") or {})
    if event_type in DISPUTE_TYPES:
        return _dispute_changed(event_id, verified.get("data", {}).get("object") or {})
    if event_type in PAYOUT_TYPES:
        return _payout_changed(event_id, verified.get("data", {}).get("object") or {})
    intent = verified.get("data", {}).get("object") if event_type in SETTLING_TYPES else None
    order_id = ((intent or {}).get("metadata") or {}).get("payment_order_id")
    if not order_id:
        logger.info("webhook ignored: not a payment of ours to settle")
        return RECEIVED
    try:
        settled = container.app().settle(str(order_id), Cause(str(order_id), event_id), once=f"stripe-event-{event_id}")
    except (PspOutcomeUnknown, StoreUnavailable) as unknown:
        logger.warning("webhook left for Stripe to retry", extra={"reason": type(unknown).__name__})
        return _busy("The payment could not be settled now; Stripe retries the webhook.")
    if settled is not None and settled.charged_now:
        record_metrics(metrics, settled)
        logger.info("payment settled", extra={"payment_order_id": order_id, "status": settled.status.value})
    return RECEIVED


def _refund_changed(event_id: str, refund: dict[str, Any]) -> dict[str, Any]:
    """A Refund Stripe says has changed: only its id is taken from the payload; the use case re-reads it and
    records the reversal of one of ours that failed after it was taken (nothing for one that is not ours)."""
    reference = refund.get("id")
    if refund.get("object") != "refund" or not isinstance(reference, str):
        logger.info("webhook ignored: no refund in it")
        return RECEIVED
    correlation = str((refund.get("metadata") or {}).get("payment_order_id") or reference)
    try:
        recorded = container.app().record_refund_failure(
            reference, Cause(correlation, event_id), once=f"stripe-event-{event_id}"
        )
    except (PspOutcomeUnknown, StoreUnavailable, ConcurrencyConflict, RefundNotRecorded) as not_now:
        # RefundNotRecorded: its request is still recording the PSP's first answer; Stripe's retry will find it.
        logger.warning("webhook left for Stripe to retry", extra={"reason": type(not_now).__name__})
        return _busy("The refund could not be recorded now; Stripe retries the webhook.")
    if recorded is not None and recorded.recorded_now:
        record_refund_metrics(metrics, recorded)
        logger.info("refund reversed", extra={"refund_id": recorded.refund_id, "status": recorded.status.value})
    return RECEIVED


def _dispute_changed(event_id: str, dispute: dict[str, Any]) -> dict[str, Any]:
    """A Dispute Stripe says has changed: only its id is taken from the payload; the use case re-reads it and
    records it on our payment (nothing for one that is not ours)."""
    reference = dispute.get("id")
    if dispute.get("object") != "dispute" or not isinstance(reference, str):
        logger.info("webhook ignored: no dispute in it")
        return RECEIVED
    try:
        once = f"stripe-event-{event_id}"
        recorded = container.app().record_dispute(reference, Cause(reference, event_id), once=once)
    except (PspOutcomeUnknown, StoreUnavailable, ConcurrencyConflict, DisputeNotRecordable) as not_now:
        # DisputeNotRecordable: the payment's success is still being recorded; Stripe's retry will find it.
        logger.warning("webhook left for Stripe to retry", extra={"reason": type(not_now).__name__})
        return _busy("The dispute could not be recorded now; Stripe retries the webhook.")
    if recorded is not None and recorded.recorded_now:
        metrics.add_metric(name=f"Disputes{recorded.status.value.capitalize()}", unit=MetricUnit.Count, value=1)
        logger.info("dispute recorded", extra={"dispute_id": recorded.dispute_id, "status": recorded.status.value})
    return RECEIVED


def _payout_changed(event_id: str, payout: dict[str, Any]) -> dict[str, Any]:
    """A Payout of our balance Stripe says was paid or failed: only its id is taken from the payload; the use case
    re-reads it and records it once per status."""
    reference = payout.get("id")
    if payout.get("object") != "payout" or not isinstance(reference, str):
        logger.info("webhook ignored: no payout in it")
        return RECEIVED
    try:
        once = f"stripe-event-{event_id}"
        recorded = container.app().record_psp_payout(reference, Cause(reference, event_id), once=once)
    except (PspOutcomeUnknown, StoreUnavailable, ConcurrencyConflict) as not_now:
        logger.warning("webhook left for Stripe to retry", extra={"reason": type(not_now).__name__})
        return _busy("The payout could not be recorded now; Stripe retries the webhook.")
    if recorded is not None and recorded.recorded_now:
        metrics.add_metric(name=f"PspPayouts{recorded.status.value.capitalize()}", unit=MetricUnit.Count, value=1)
        logger.info("psp payout recorded", extra={"payout_id": recorded.payout_id, "status": recorded.status.value})
    return RECEIVED


def _handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", ""))
    with invocation_span(
        f"{method} {WEBHOOK_PATH}",
        SpanKind.SERVER,
        attributes={
            "http.request.method": method,
            "http.route": WEBHOOK_PATH,
            "faas.trigger": "http",
            "faas.name": function_name(context),
        },
    ) as roots:
        response = receive(event)
        roots[0].set_attribute("http.response.status_code", response["statusCode"])
        if response["statusCode"] >= 500:
            mark_error(roots, description=f"HTTP {response['statusCode']}")
        return response


handler: LambdaHandler = logger.inject_lambda_context(
    metrics.log_metrics(_handler, capture_cold_start_metric=True), clear_state=True
)
