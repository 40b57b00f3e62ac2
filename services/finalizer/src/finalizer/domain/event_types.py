"""The finalizer's stored event types: what its outbox relay needs of its domain (domain.streams maps them to
the integration events it publishes).

Here, not in the deciders' modules (payment, refund, dispute, psp_payout, which import them from here), so the
relay, which publishes stored events and never decides, loads none of the deciders at its cold start.
"""

from __future__ import annotations

# payment.py's
PAYMENT_SUCCEEDED = "PaymentSucceeded"
PAYMENT_FAILED = "PaymentFailed"
PAYMENT_ACTION_REQUIRED = "PaymentActionRequired"
PAYMENT_AUTHORIZED = "PaymentAuthorized"
PAYMENT_CANCELED = "PaymentCanceled"

# refund.py's
REFUND_SUCCEEDED = "RefundSucceeded"
REFUND_FAILED = "RefundFailed"
REFUND_REVERSED = "RefundReversed"

# dispute.py's
DISPUTE_OPENED = "DisputeOpened"
DISPUTE_WON = "DisputeWon"
DISPUTE_LOST = "DisputeLost"

# psp_payout.py's
PSP_PAYOUT_PAID = "PspPayoutPaid"
PSP_PAYOUT_FAILED = "PspPayoutFailed"
