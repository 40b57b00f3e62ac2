"""Errors a client can cause, each with a status code, rendered as RFC 9457 problem+json."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from payments_shared.money import Money

PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True)
class FieldProblem:
    field: str
    reason: str


class Problem(Exception):
    """Base of every client-caused error. Subclasses set status, type and title."""

    status: ClassVar[int] = 400
    type: ClassVar[str] = "urn:payments:problem:bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, errors: Sequence[FieldProblem] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = tuple(errors)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = [{"field": e.field, "reason": e.reason} for e in self.errors]
        return body

    def headers(self) -> dict[str, str]:
        """Response headers the problem carries besides its content type."""
        return {}


class InvalidRequest(Problem):
    status = 400
    type = "urn:payments:problem:invalid-request"
    title = "The request is invalid"


class Forbidden(Problem):
    """Authenticated, but not allowed: an unknown principal, another merchant's resource, an operator route."""

    status = 403
    type = "urn:payments:problem:forbidden"
    title = "Forbidden"


class NotFound(Problem):
    status = 404
    type = "urn:payments:problem:not-found"
    title = "Not found"


class Conflict(Problem):
    status = 409
    type = "urn:payments:problem:conflict"
    title = "Conflict"


class UnsupportedMediaType(Problem):
    status = 415
    type = "urn:payments:problem:unsupported-media-type"
    title = "The request body must be JSON"


class Unprocessable(Problem):
    status = 422
    type = "urn:payments:problem:unprocessable"
    title = "The request cannot be processed"


class KeyReusedProblem(Unprocessable):
    """An Idempotency-Key sent again with another request body: nothing was done (the first answer stands)."""

    type = "urn:payments:problem:idempotency-key-reused"
    title = "Idempotency-Key already used for a different request"


class BusyProblem(Conflict):
    """Every attempt lost its race on the stream the request decides on (ConcurrencyConflict): nothing was
    written, the same Idempotency-Key may be sent again. A service's subclass names what was busy (type, title)."""

    type = "urn:payments:problem:busy"
    title = "Other requests were changing it"

    @classmethod
    def of(cls, what: str) -> BusyProblem:
        return cls(f"{what} changed meanwhile: retry with the same Idempotency-Key")


AmountProblem = TypeVar("AmountProblem", bound=Problem)


def amount_over(problem: type[AmountProblem], detail: str, most: Money, what: str) -> AmountProblem:
    """A request for more money than there is: `problem` naming body.amount and the most it may ask for
    ("at most 4.00 EUR is left to refund")."""
    reason = f"at most {most.to_decimal_string()} {most.currency} {what}"
    return problem(detail, [FieldProblem("body.amount", reason)])


class ServiceBusy(Problem):
    """Nothing was written (the database refused the write for a moment): the same request may be retried."""

    status = 503
    type = "urn:payments:problem:busy"
    title = "Busy: retry shortly"
    retry_after_s: ClassVar[int] = 1

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


INTERNAL_ERROR_BODY: dict[str, Any] = {
    "type": "urn:payments:problem:internal",
    "title": "Internal error",
    "status": 500,
    "detail": "The request could not be completed; it is safe to retry with the same Idempotency-Key.",
}


def problem_event_response(problem: Problem) -> dict[str, Any]:
    """The problem as a Lambda proxy integration's answer, for a refusal made before (or without) a router."""
    headers = {"Content-Type": PROBLEM_CONTENT_TYPE, **problem.headers()}
    return {
        "statusCode": problem.status,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "body": json.dumps(problem.body()),
        "isBase64Encoded": False,
    }


class MethodNotAllowed(Problem):
    """A path that exists, asked with a method it does not answer (a function URL routes every method to its
    function, which refuses the others itself)."""

    status = 405
    type = "urn:payments:problem:method-not-allowed"
    title = "Method not allowed"
