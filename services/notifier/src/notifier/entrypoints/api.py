"""The notifier's HTTP API (notifier-api): a merchant's webhook endpoints and its events.

A merchant acts on its own; an operator acts for any merchant by naming it (`merchant_id` in the body of a POST,
in the query otherwise). Another merchant's endpoint or event is a 404, as if it did not exist.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

from notifier.domain.catalog import EVENT_ID, MerchantEvent
from notifier.domain.endpoints import DEFAULT_GRACE_S, MAX_ENDPOINTS, InvalidEndpoint, WebhookEndpoint
from notifier.domain.errors import EndpointNotFound, EventNotFound, KeyReused, NotSubscribed, TooManyEndpoints
from notifier.http_models import (
    DeletedOut,
    DeliveryOut,
    EndpointList,
    EndpointOut,
    EndpointRequest,
    EventList,
    EventType,
    RedeliverRequest,
    RedeliveryOut,
    RotateSecretRequest,
)
from notifier.runtime import SERVICE, container, logger
from payments_shared.callers import current_caller
from payments_shared.ids import MerchantId
from payments_shared.lambda_entry.http import http_entry
from payments_shared.observability.metrics import MetricUnit, build_metrics
from payments_shared.problems import FieldProblem, Forbidden, InvalidRequest, NotFound, Unprocessable

api = APIGatewayRestResolver(enable_validation=True)
metrics = build_metrics(SERVICE)

IDEMPOTENCY_KEY = Header(
    alias="Idempotency-Key",
    min_length=1,
    max_length=255,
    description="the caller's key for this request: a retry with it answers as the first did",
)
MERCHANT_QUERY = Query(description="an operator names the merchant; a merchant reads its own")
ENDPOINT_PATH = Path(pattern=r"^we_[0-9a-f]{24}$")


class EndpointNotFoundProblem(NotFound):
    type = "urn:payments:problem:webhook-endpoint-not-found"
    title = "Webhook endpoint not found"


class EventNotFoundProblem(NotFound):
    type = "urn:payments:problem:event-not-found"
    title = "Event not found"


class InvalidEndpointProblem(Unprocessable):
    type = "urn:payments:problem:invalid-webhook-endpoint"
    title = "The webhook endpoint cannot be registered"


class TooManyEndpointsProblem(Unprocessable):
    type = "urn:payments:problem:too-many-webhook-endpoints"
    title = f"At most {MAX_ENDPOINTS} webhook endpoints per merchant"


class KeyReusedProblem(Unprocessable):
    type = "urn:payments:problem:idempotency-key-reused"
    title = "Idempotency-Key already used for a different request"


class NotSubscribedProblem(Unprocessable):
    type = "urn:payments:problem:endpoint-not-subscribed"
    title = "The endpoint does not take this event's type"


def _merchant(named: str | None, field: str) -> str:
    """The merchant the request acts for: the caller's own, or the one an operator names."""
    caller = current_caller()
    if caller.is_operator:
        if named is None:
            raise InvalidRequest("an operator names the merchant", [FieldProblem(field, "required for an operator")])
        return named
    if caller.merchant_id is None or (named is not None and named != caller.merchant_id):
        raise Forbidden("a merchant acts on its own webhooks and events only", [FieldProblem(field, "not yours")])
    return caller.merchant_id


def _endpoint_out(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> EndpointOut:
    return EndpointOut(
        id=endpoint.endpoint_id,
        merchant_id=endpoint.merchant_id,
        url=endpoint.url,
        enabled_events=list(endpoint.enabled_events),
        status=endpoint.status,
        created=endpoint.created,
        description=endpoint.description,
        secret=endpoint.current_secret if with_secret else None,
    )


def _event_out(event: MerchantEvent) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(event.body)  # what the endpoints receive, as recorded
    return body


@api.post(
    "/webhook_endpoints",
    responses={201: {"description": "Endpoint registered; its signing secret is shown here (and on a retry)"}},
)
def create_endpoint(body: EndpointRequest, idempotency_key: Annotated[str, IDEMPOTENCY_KEY]) -> tuple[EndpointOut, int]:
    merchant_id = _merchant(body.merchant_id, "body.merchant_id")
    endpoint, created = container.app().register(
        merchant_id, idempotency_key, body.url, body.enabled_events, body.description
    )
    if created:
        metrics.add_metric(name="WebhookEndpointsCreated", unit=MetricUnit.Count, value=1)
    logger.info(
        "webhook endpoint registered",
        extra={"merchant_id": merchant_id, "endpoint_id": endpoint.endpoint_id, "replayed": not created},
    )
    # A retry under the key answers the secret too: a client that lost the first answer would never see it.
    return _endpoint_out(endpoint, with_secret=True), 201


@api.get("/webhook_endpoints")
def list_endpoints(merchant_id: Annotated[MerchantId | None, MERCHANT_QUERY] = None) -> EndpointList:
    merchant = _merchant(merchant_id, "query.merchant_id")
    return EndpointList(data=[_endpoint_out(e) for e in container.app().endpoints(merchant)])


@api.get("/webhook_endpoints/<endpoint_id>")
def get_endpoint(
    endpoint_id: Annotated[str, ENDPOINT_PATH], merchant_id: Annotated[MerchantId | None, MERCHANT_QUERY] = None
) -> EndpointOut:
    merchant = _merchant(merchant_id, "query.merchant_id")
    return _endpoint_out(container.app().endpoint(merchant, endpoint_id))


@api.delete("/webhook_endpoints/<endpoint_id>")
def delete_endpoint(
    endpoint_id: Annotated[str, ENDPOINT_PATH], merchant_id: Annotated[MerchantId | None, MERCHANT_QUERY] = None
) -> DeletedOut:
    merchant = _merchant(merchant_id, "query.merchant_id")
    container.app().delete(merchant, endpoint_id)
    logger.info("webhook endpoint deleted", extra={"merchant_id": merchant, "endpoint_id": endpoint_id})
    return DeletedOut(id=endpoint_id)


@api.post("/webhook_endpoints/<endpoint_id>/rotate_secret")
def rotate_secret(
    endpoint_id: Annotated[str, ENDPOINT_PATH],
    body: RotateSecretRequest,
    idempotency_key: Annotated[str, IDEMPOTENCY_KEY],
) -> EndpointOut:
    merchant = _merchant(body.merchant_id, "body.merchant_id")
    grace = DEFAULT_GRACE_S if body.grace_period_s is None else body.grace_period_s
    endpoint = container.app().rotate_secret(merchant, endpoint_id, idempotency_key, grace)
    logger.info("webhook secret rotated", extra={"merchant_id": merchant, "endpoint_id": endpoint_id})
    return _endpoint_out(endpoint, with_secret=True)


@api.get("/events")
def list_events(
    merchant_id: Annotated[MerchantId | None, MERCHANT_QUERY] = None,
    event_type: Annotated[EventType | None, Query(alias="type", description="one event type")] = None,
    created_gte: Annotated[int | None, Query(ge=0, description="created at or after (unix s)")] = None,
    created_lte: Annotated[int | None, Query(ge=0, description="created at or before (unix s)")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="at most this many (1 to 100)")] = 10,
    starting_after: Annotated[
        str | None, Query(pattern=EVENT_ID.pattern, description="the last event of the previous page")
    ] = None,
) -> EventList:
    merchant = _merchant(merchant_id, "query.merchant_id")
    page = container.app().events(
        merchant,
        event_type=event_type,
        created_gte=created_gte,
        created_lte=created_lte,
        limit=limit,
        starting_after=starting_after,
    )
    return EventList(data=[_event_out(e) for e in page.events], has_more=page.has_more)


@api.get("/events/<event_id>")
def get_event(
    event_id: Annotated[str, Path(pattern=EVENT_ID.pattern)],
    merchant_id: Annotated[MerchantId | None, MERCHANT_QUERY] = None,
) -> dict[str, Any]:
    merchant = _merchant(merchant_id, "query.merchant_id")
    app = container.app()
    event = _event_out(app.event(merchant, event_id))
    # Beside the event as delivered: how each endpoint's delivery went (the deliverer's log), parked ones too.
    statuses = app.delivery_statuses(merchant, event_id)
    event["deliveries"] = [DeliveryOut(**vars(status)).model_dump() for status in statuses]
    return event


@api.post(
    "/events/<event_id>/redeliver",
    responses={202: {"description": "A delivery queued to the endpoint, or to every endpoint that takes the type"}},
)
def redeliver_event(
    event_id: Annotated[str, Path(pattern=EVENT_ID.pattern)],
    body: RedeliverRequest,
    # Required as on every POST; a repeat queues again, which a receiver sees as one more duplicate (allowed).
    idempotency_key: Annotated[str, IDEMPOTENCY_KEY],
) -> tuple[RedeliveryOut, int]:
    merchant = _merchant(body.merchant_id, "body.merchant_id")
    endpoint_ids = container.app().redeliver(merchant, event_id, body.endpoint_id)
    metrics.add_metric(name="WebhookRedeliveriesQueued", unit=MetricUnit.Count, value=len(endpoint_ids))
    logger.info("event redelivery queued", extra={"merchant_id": merchant, "event_id": event_id})
    return RedeliveryOut(event_id=event_id, endpoint_ids=endpoint_ids), 202


handler = http_entry(
    api,
    logger=logger,
    metrics=metrics,
    callers=container.callers,
    domain_errors={
        EndpointNotFound: lambda error: EndpointNotFoundProblem(str(error)),
        EventNotFound: lambda error: EventNotFoundProblem(str(error)),
        InvalidEndpoint: lambda error: InvalidEndpointProblem(str(error), [FieldProblem(error.field, error.reason)]),
        TooManyEndpoints: lambda error: TooManyEndpointsProblem(str(error), [FieldProblem("body.url", str(error))]),
        KeyReused: lambda error: KeyReusedProblem(str(error), [FieldProblem("header.idempotency-key", str(error))]),
        NotSubscribed: lambda error: NotSubscribedProblem(str(error), [FieldProblem("body.endpoint_id", str(error))]),
    },
)
