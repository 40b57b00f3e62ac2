"""The notifier's table layouts (webhook-endpoints, merchant-events), one definition for every adapter and reader.

webhook-endpoints: pk merchant_id, sk endpoint_id ("we_" + 24 hex); the deliverer reads the same item for each
attempt's URL and live secrets. One more row per merchant, sk COUNT_KEY, counts its endpoints, so the limit holds
under concurrent registrations (a Query-then-Put could pass it twice); a deleted endpoint leaves a tombstone row,
sk DELETED_PREFIX + its id, so a late retry of its creation does not bring it back.
merchant-events: pk merchant_id, sk event_id (sorts by time); body is the exact JSON delivered.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from notifier.domain.catalog import MerchantEvent
from notifier.domain.endpoints import Secret, WebhookEndpoint
from payments_shared.attribute_values import from_item, to_item

COUNT_KEY = "#count"
ENDPOINT_PREFIX = "we_"
DELETED_PREFIX = "deleted#"  # a deleted endpoint's tombstone: its creating key may not make it again
to_attributes, from_attributes = to_item, from_item  # the kernel's codec (no boto3 on the Lambda path)


def _int(value: Any) -> int:
    return int(value) if isinstance(value, Decimal | int) else int(str(value))


def secrets_row(secrets: tuple[Secret, ...]) -> list[dict[str, Any]]:
    return [
        {"secret": s.secret} if s.expires_at is None else {"secret": s.secret, "expires_at": s.expires_at}
        for s in secrets
    ]


def endpoint_row(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "merchant_id": endpoint.merchant_id,
        "endpoint_id": endpoint.endpoint_id,
        "url": endpoint.url,
        "enabled_events": list(endpoint.enabled_events),
        "status": endpoint.status,
        "secrets": secrets_row(endpoint.secrets),
        "created": endpoint.created,
        "description": endpoint.description,
        "request_fingerprint": endpoint.request_fingerprint,
        "rotation_key": endpoint.rotation_key,
        "rotation_keys": list(endpoint.rotation_keys) or None,
    }


def endpoint_from_row(row: dict[str, Any]) -> WebhookEndpoint:
    return WebhookEndpoint(
        merchant_id=row["merchant_id"],
        endpoint_id=row["endpoint_id"],
        url=row["url"],
        enabled_events=tuple(row["enabled_events"]),
        secrets=tuple(
            Secret(s["secret"], _int(s["expires_at"]) if "expires_at" in s else None) for s in row["secrets"]
        ),
        created=_int(row["created"]),
        description=row.get("description"),
        status=row.get("status", "enabled"),
        request_fingerprint=row.get("request_fingerprint", ""),
        rotation_keys=tuple(row.get("rotation_keys", ())),
    )


def event_row(event: MerchantEvent) -> dict[str, Any]:
    return {
        "merchant_id": event.merchant_id,
        "event_id": event.event_id,
        "type": event.type,
        "created": event.created,
        "body": event.body,
        "source_event_id": event.source_event_id,
    }


def event_from_row(row: dict[str, Any]) -> MerchantEvent:
    return MerchantEvent(
        merchant_id=row["merchant_id"],
        event_id=row["event_id"],
        type=row["type"],
        created=_int(row["created"]),
        body=row["body"],
        source_event_id=row["source_event_id"],
    )
