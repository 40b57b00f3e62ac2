"""The notifier API's bodies: what its POSTs take and what its routes answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from notifier.domain.url_policy import MAX_URL_LENGTH
from payments_shared.ids import MerchantId

# The merchant event types (notifier.domain.catalog.EVENT_TYPES, which a test keeps equal), for the documents.
EventType = Literal[
    "payment.succeeded",
    "payment.failed",
    "payment.requires_action",
    "payment.authorized",
    "payment.captured",
    "payment.canceled",
    "refund.succeeded",
    "refund.failed",
    "dispute.opened",
    "dispute.closed",
    "payout.paid",
]

MerchantField = Annotated[
    MerchantId | None,
    Field(default=None, description="whose: an operator names the merchant; a merchant's own if omitted"),
]


class EndpointRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merchant_id: MerchantField
    url: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_URL_LENGTH,
            description="https URL on a public address (checked now and at every delivery)",
            examples=["https://merchant.example/webhooks"],
        ),
    ]
    enabled_events: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]],
        Field(min_length=1, max_length=32, description='event types to receive, or ["*"] for all'),
    ]
    description: Annotated[str | None, Field(default=None, max_length=500)]


class RotateSecretRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merchant_id: MerchantField
    grace_period_s: Annotated[
        int | None,
        Field(
            default=None,
            description="how long the old secret keeps signing (seconds; default 86400, at most 604800)",
        ),
    ]


class RedeliverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merchant_id: MerchantField
    endpoint_id: Annotated[
        str | None,
        Field(default=None, pattern=r"^we_[0-9a-f]{24}$", description="one endpoint; omitted: every subscribed one"),
    ]


class EndpointOut(BaseModel):
    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    merchant_id: str
    url: str
    enabled_events: list[str]
    status: str
    created: int
    description: str | None = None
    secret: str | None = Field(default=None, description="shown only when created and when rotated")


class EndpointList(BaseModel):
    object: Literal["list"] = "list"
    data: list[EndpointOut]
    has_more: bool = False


class DeletedOut(BaseModel):
    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    deleted: bool = True


class EventList(BaseModel):
    object: Literal["list"] = "list"
    data: list[dict[str, Any]]
    has_more: bool


class RedeliveryOut(BaseModel):
    event_id: str
    endpoint_ids: list[str] = Field(description="the endpoints a delivery was queued to")


class DeliveryOut(BaseModel):
    endpoint_id: str
    attempts: int
    last_attempt_at: int | None = Field(description="unix s")
    last_status: str | None = Field(description='e.g. "200", "timeout", "refused: <reason>"')
    delivered_at: int | None = Field(description="unix s of the first 2xx")
    parked: bool = Field(description="every retry failed: no more attempts (redeliver to try again)")
