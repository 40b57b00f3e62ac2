"""HTTP entry points (API Gateway proxy events): problem+json for every refusal, generic 500s."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from payments_shared.callers import CallerDirectory, bind_caller, principal_of, unbind_caller
from payments_shared.eventstore.port import StoreUnavailable
from payments_shared.lambda_entry.span import LambdaHandler, function_name, invocation_span
from payments_shared.observability.propagation import joined_parent
from payments_shared.observability.tracing import mark_error
from payments_shared.problems import (
    INTERNAL_ERROR_BODY,
    PROBLEM_CONTENT_TYPE,
    FieldProblem,
    Forbidden,
    InvalidRequest,
    NotFound,
    Problem,
    ServiceBusy,
    UnsupportedMediaType,
    problem_event_response,
)


def _problem_response(status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status, content_type=PROBLEM_CONTENT_TYPE, body=json.dumps(body), headers=dict(headers or {})
    )


def _field_name(loc: Sequence[Any]) -> str:
    # Powertools prefixes the source ("body", "query", "header", "path"); keep it, it tells where to look.
    return ".".join(str(part) for part in loc) or "body"


def _is_json(content_type: str | None) -> bool:
    return (content_type or "application/json").split(";", 1)[0].strip().lower() == "application/json"


def _unreadable_body(event: dict[str, Any], content_type: str | None) -> Problem | None:
    """Refused before routing: Powertools would try to parse forms, multipart or binary and fail with a 500."""
    body = event.get("body")
    if not body:
        return None
    if not _is_json(content_type):
        return UnsupportedMediaType(f"Content-Type {content_type!r} is not supported; send application/json")
    if event.get("isBase64Encoded"):
        try:
            base64.b64decode(body).decode()
        except (ValueError, UnicodeDecodeError):
            return InvalidRequest("The body is not UTF-8 JSON", [FieldProblem("body", "not UTF-8 text")])
    return None


def _with_canonical_json_type(event: dict[str, Any]) -> dict[str, Any]:
    # Media types are case-insensitive (RFC 9110); Powertools compares them exactly. Only the value changes:
    # Powertools reads multiValueHeaders when present, so no header may be added or dropped there.
    def canonical(headers: dict[str, Any] | None, value: Any) -> dict[str, Any] | None:
        if not headers:
            return headers
        return {k: value if k.lower() == "content-type" else v for k, v in headers.items()}

    return {
        **event,
        "headers": canonical(event.get("headers"), "application/json"),
        "multiValueHeaders": canonical(event.get("multiValueHeaders"), ["application/json"]),
    }


DomainErrors = Mapping[type[Exception], Callable[[Any], Problem]]


def _busy_problem(error: StoreUnavailable, logger: Logger) -> ServiceBusy:
    # Retries ran out on a passing refusal (a write, or a read: the route's or the caller's lookup): say so
    # (503 + Retry-After), so the client retries with the same Idempotency-Key instead of treating it as a
    # failure of the payment.
    mark_error([trace.get_current_span()], error)
    logger.warning("refused for now", extra={"reason": error.reason, "status": 503})
    return ServiceBusy("The payment store is busy; nothing was recorded. Retry with the same Idempotency-Key.")


def install_problem_handlers(app: APIGatewayRestResolver, logger: Logger, domain_errors: DomainErrors) -> None:
    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[str]:
        problems = [
            FieldProblem(
                _field_name(e.get("loc", ())),
                "malformed JSON" if e.get("type") == "json_invalid" else str(e.get("msg", "invalid")),
            )
            for e in error.errors()
        ]
        problem = InvalidRequest(f"{len(problems)} invalid field(s)", problems)
        # Field names only: the rejected values may be card data.
        logger.info("request refused", extra={"status": 400, "fields": [p.field for p in problems]})
        return _problem_response(problem.status, problem.body())

    @app.exception_handler(Problem)
    def _refused(problem: Problem) -> Response[str]:
        logger.info("request refused", extra={"problem": problem.type, "status": problem.status})
        return _problem_response(problem.status, problem.body(), problem.headers())

    # The domain speaks in its own errors; here, at the edge, each becomes the problem its API documents.
    for error_type, to_problem in domain_errors.items():
        app.exception_handler(error_type)(lambda error, to_problem=to_problem: _refused(to_problem(error)))

    @app.exception_handler(StoreUnavailable)
    def _busy(error: StoreUnavailable) -> Response[str]:
        busy = _busy_problem(error, logger)
        return _problem_response(busy.status, busy.body(), busy.headers())

    @app.not_found
    def _unrouted(_: NotFoundError) -> Response[str]:
        # Registered for NotFoundError itself: otherwise the catch-all below, an ancestor, answers it with a 500.
        return _refused(NotFound("No route for this method and path"))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        # Handled here, so it never reaches invocation_span's except: mark the root span ourselves.
        mark_error([trace.get_current_span()], error)
        logger.exception("unhandled error")
        return _problem_response(500, INTERNAL_ERROR_BODY)


def http_entry(
    app: APIGatewayRestResolver,
    *,
    logger: Logger,
    metrics: Metrics,
    callers: Callable[[], CallerDirectory],
    domain_errors: DomainErrors | None = None,
) -> LambdaHandler:
    """An HTTP entry point: refusals as problem+json (domain_errors: each domain error -> its problem), and the
    caller resolved from the authenticated principal before any route runs (an unknown principal gets 403,
    whatever it asked for). Routes read it with payments_shared.callers.current_caller() — a context variable,
    so concurrent requests never share it."""
    install_problem_handlers(app, logger, domain_errors or {})
    w3c = TraceContextTextMapPropagator()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        method, route = event.get("httpMethod", "?"), event.get("resource") or event.get("path", "?")
        with invocation_span(
            f"{method} {route}",
            SpanKind.SERVER,
            parent=joined_parent(w3c.extract(headers)),
            attributes={
                "http.request.method": method,
                "http.route": route,
                "faas.trigger": "http",
                "faas.name": function_name(context),
            },
        ) as roots:
            principal = principal_of(event)
            refused: Problem | None = None
            try:
                caller = callers().caller(principal) if principal else None
            except StoreUnavailable as error:  # the directory's table throttled past botocore's retries
                caller, refused = None, _busy_problem(error, logger)
            if caller is not None:
                roots[0].set_attribute("enduser.id", caller.principal)
                refused = _unreadable_body(event, headers.get("content-type"))
            elif refused is None:
                refused = Forbidden("The caller is not a known principal of this API")
            if refused is not None:
                logger.info("request refused", extra={"problem": refused.type, "status": refused.status})
                response = problem_event_response(refused)
            else:
                token = bind_caller(caller)
                try:
                    # Powertools keeps the request on a class attribute: one per process, and Lambda runs
                    # one invocation at a time per process (so does the local runtime).
                    response = app.resolve(_with_canonical_json_type(event), context)
                finally:
                    unbind_caller(token)
            status = int(response.get("statusCode", 500))
            roots[0].set_attribute("http.response.status_code", status)
            if status >= 500:
                mark_error(roots, description=f"HTTP {status}")
            return response

    return logger.inject_lambda_context(metrics.log_metrics(handler, capture_cold_start_metric=True), clear_state=True)
