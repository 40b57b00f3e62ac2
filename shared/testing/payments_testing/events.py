"""Integration events as EventBridge delivers them to a Lambda target."""

from __future__ import annotations

import json
import uuid
from typing import Any

from payments_shared.ids import PaymentOrderId, PayoutId, RefundId
from payments_shared.money import Money


def eventbridge_delivery(detail: dict[str, Any], source: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail["event_type"],
        "source": source,
        "account": "123456789012",
        "time": "2026-11-25T10:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
    }


def integration_event(
    event_type: str,
    source: str,
    aggregate_id: str,
    data: dict[str, Any],
    *,
    correlation_id: str,
    occurred_at: str,
    aggregate_version: int = 1,
    event_id: str | None = None,
    traceparent: str | None = None,
) -> dict[str, Any]:
    """An integration event in the kernel's envelope (payments_shared.events.EventEnvelope, as `detail`), as
    EventBridge delivers it from `source`: the one place the builders below spell the envelope."""
    detail = {
        "event_id": event_id or str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": occurred_at,
        "aggregate_id": aggregate_id,
        "aggregate_version": aggregate_version,
        "correlation_id": correlation_id,
        "causation_id": None,
        "trace": {"traceparent": traceparent, "tracestate": None},
        "data": data,
    }
    return eventbridge_delivery(detail, source)


def payment_action_required(
    order_id: str, merchant_id: str = "merchant-1", event_id: str | None = None, intent_id: str = "pi_3ds"
) -> dict[str, Any]:
    """The finalizer's PaymentActionRequired: the buyer must authenticate on Stripe's 3-D Secure page."""
    data = {
        "payment_order_id": order_id,
        "merchant_id": merchant_id,
        "status": "REQUIRES_ACTION",
        "psp_reference": intent_id,
        "next_action_type": "redirect_to_url",
        "redirect_url": f"https://hooks.stripe.com/3d_secure_2/hosted?payment_intent={intent_id}",
        "client_secret": f"{intent_id}_secret_x",
    }
    return integration_event(
        "PaymentActionRequired",
        "payments.finalizer",
        f"payment-{order_id}",
        data,
        correlation_id=order_id,
        occurred_at="2026-11-25T10:00:01+00:00",
        event_id=event_id,
    )


def payment_status_updated(
    merchant_id: str = "merchant-1",
    amount: str = "12.34",
    currency: str = "EUR",
    status: str = "SUCCESS",
    order_id: str | None = None,
    event_id: str | None = None,
    traceparent: str | None = None,
    psp_fee_minor: int | None = None,
    initiated_at: str | None = None,
) -> dict[str, Any]:
    """initiated_at: as the outcome of a first charge says (the initializer then writes before it reads)."""
    order_id = order_id or PaymentOrderId.new()
    data = {
        "payment_order_id": order_id,
        "merchant_id": merchant_id,
        "amount": amount,
        "amount_minor": Money.parse(amount, currency).minor,
        "currency": currency,
        "status": status,
        "error_message": None if status == "SUCCESS" else "insufficient funds",
        "psp_reference": "psp_1",
        **({"psp_fee_minor": psp_fee_minor} if psp_fee_minor is not None else {}),
        **({"initiated_at": initiated_at} if initiated_at is not None else {}),
    }
    return integration_event(
        "PaymentStatusUpdated",
        "payments.finalizer",
        f"payment-{order_id}",
        data,
        correlation_id=order_id,
        occurred_at="2026-11-25T10:00:01+00:00",
        event_id=event_id,
        traceparent=traceparent,
    )


def _refund_event(
    event_type: str,
    source: str,
    order_id: str,
    refund_id: str,
    merchant_id: str,
    amount: str,
    currency: str,
    event_id: str | None,
    **fields: Any,
) -> dict[str, Any]:
    data = {
        "refund_id": refund_id,
        "payment_order_id": order_id,
        "merchant_id": merchant_id,
        "amount": amount,
        "amount_minor": Money.parse(amount, currency).minor,
        "currency": currency,
        **fields,
    }
    return integration_event(
        event_type,
        source,
        f"payment-{order_id}" if source == "payments.initializer" else f"refund-{refund_id}",
        data,
        correlation_id=order_id,
        occurred_at="2026-11-25T10:05:00+00:00",
        event_id=event_id,
    )


def refund_requested(
    order_id: str,
    refund_id: str | None = None,
    merchant_id: str = "merchant-1",
    amount: str = "5.00",
    currency: str = "EUR",
    reason: str | None = "requested_by_customer",
    event_id: str | None = None,
) -> dict[str, Any]:
    """The initializer's RefundRequested: the merchant asked to refund part of a captured payment."""
    refund_id = refund_id or RefundId.for_idempotency_key(order_id, str(uuid.uuid4()))
    return _refund_event(
        "RefundRequested",
        "payments.initializer",
        order_id,
        refund_id,
        merchant_id,
        amount,
        currency,
        event_id,
        reason=reason,
    )


def refund_status_updated(
    order_id: str,
    refund_id: str | None = None,
    status: str = "SUCCEEDED",
    merchant_id: str = "merchant-1",
    amount: str = "5.00",
    currency: str = "EUR",
    event_id: str | None = None,
) -> dict[str, Any]:
    """The finalizer's RefundStatusUpdated: the PSP took the refund, refused it, or it failed later."""
    refund_id = refund_id or RefundId.for_idempotency_key(order_id, str(uuid.uuid4()))
    return _refund_event(
        "RefundStatusUpdated",
        "payments.finalizer",
        order_id,
        refund_id,
        merchant_id,
        amount,
        currency,
        event_id,
        status=status,
        psp_reference=f"re_{refund_id[3:27]}",
        failure_reason=None if status == "SUCCEEDED" else "expired_or_canceled_card",
    )


def dispute_status_updated(
    order_id: str,
    dispute_id: str = "dp_1",
    status: str = "OPENED",
    merchant_id: str = "merchant-1",
    amount_minor: int = 500,
    fee_minor: int = 1500,
    currency: str = "EUR",
    event_id: str | None = None,
) -> dict[str, Any]:
    """The finalizer's DisputeStatusUpdated: a payment disputed (OPENED), then the dispute WON or LOST."""
    data = {
        "dispute_id": dispute_id,
        "payment_order_id": order_id,
        "merchant_id": merchant_id,
        "currency": currency,
        "amount_minor": amount_minor,
        "fee_minor": fee_minor,
        "status": status,
        "reason": "fraudulent",
    }
    return integration_event(
        "DisputeStatusUpdated",
        "payments.finalizer",
        f"dispute-{dispute_id}",
        data,
        correlation_id=order_id,
        occurred_at="2026-11-25T10:05:00+00:00",
        aggregate_version=1 if status == "OPENED" else 2,
        event_id=event_id,
    )


def sqs_record(
    body: str, message_id: str, receipt_handle: str, attributes: dict[str, str], queue_arn: str, md5: str = ""
) -> dict[str, Any]:
    """One message as Lambda's SQS event source mapping hands it to the function."""
    return {
        "messageId": message_id,
        "receiptHandle": receipt_handle,
        "body": body,
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfBody": md5,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "eu-west-1",
    }


def sqs_delivery(*events: dict[str, Any], receive_count: int = 1) -> dict[str, Any]:
    """EventBridge events as a consumer's event source mapping hands them over from its queue."""
    attributes = {
        "ApproximateReceiveCount": str(receive_count),
        "SentTimestamp": "1764064800000",
        "SenderId": "AROAEVENTS",
        "ApproximateFirstReceiveTimestamp": "1764064800000",
    }
    return {
        "Records": [
            sqs_record(
                json.dumps(event),
                str(uuid.uuid4()),
                f"rh-{n}",
                attributes,
                "arn:aws:sqs:eu-west-1:123456789012:consumer-inbox",
            )
            for n, event in enumerate(events)
        ]
    }


def deliver(handler: Any, *events: dict[str, Any], context: Any = None) -> list[int]:
    """Hand events to a queue consumer as one batch; the positions of the records it reported failed."""
    from payments_testing.aws import LambdaContext

    batch = sqs_delivery(*events)
    response = handler(batch, context or LambdaContext())
    ids = [record["messageId"] for record in batch["Records"]]
    return sorted(ids.index(failure["itemIdentifier"]) for failure in response["batchItemFailures"])


def payout_paid(
    payout_id: str | None = None,
    merchant_id: str = "merchant-1",
    amount_minor: int = 500,
    currency: str = "EUR",
    event_id: str | None = None,
) -> dict[str, Any]:
    """The wallet's PayoutPaid: a payout left the merchant's available balance."""
    payout_id = payout_id or PayoutId.for_idempotency_key(merchant_id, str(uuid.uuid4()))
    data = {
        "payout_id": payout_id,
        "merchant_id": merchant_id,
        "amount_minor": amount_minor,
        "currency": currency,
        "created": "2026-11-27T10:05:00Z",
    }
    return integration_event(
        "PayoutPaid",
        "payments.wallet",
        f"payouts-{merchant_id}-{currency}",
        data,
        correlation_id=str(uuid.uuid4()),
        occurred_at="2026-11-27T10:05:00+00:00",
        event_id=event_id,
    )


def psp_payout_updated(
    payout_id: str = "po_1",
    status: str = "PAID",
    amount_minor: int = 5000,
    currency: str = "EUR",
    event_id: str | None = None,
) -> dict[str, Any]:
    """The finalizer's PspPayoutUpdated: a payout of the PSP's balance to our bank PAID, or FAILED (money back)."""
    data = {
        "payout_id": payout_id,
        "currency": currency,
        "amount_minor": amount_minor,
        "status": status,
        "failure_code": None if status == "PAID" else "account_closed",
    }
    return integration_event(
        "PspPayoutUpdated",
        "payments.finalizer",
        f"psp-payout-{payout_id}",
        data,
        correlation_id=payout_id,
        occurred_at="2026-11-28T10:05:00+00:00",
        aggregate_version=1 if status == "PAID" else 2,
        event_id=event_id,
    )
