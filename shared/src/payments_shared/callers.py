"""Who is calling an HTTP route, and for which merchant.

The caller is the IAM principal API Gateway authenticated (SigV4; `requestContext.identity.userArn`),
looked up in the principals directory that onboarding keeps (principal → merchant, or operator). A request
body or path never decides it: a body `merchant_id` is only checked against it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from payments_shared.eventstore.refusals import refused_for_now
from payments_shared.problems import Forbidden

MERCHANT, OPERATOR = "merchant", "operator"


@dataclass(frozen=True)
class Caller:
    principal: str
    role: str  # MERCHANT or OPERATOR
    merchant_id: str | None = None  # set for merchants only

    @property
    def is_operator(self) -> bool:
        return self.role == OPERATOR

    def may_act_for(self, merchant_id: str) -> bool:
        return self.role == MERCHANT and self.merchant_id == merchant_id


def principal_of(event: Mapping[str, Any]) -> str | None:
    """The authenticated principal of an API Gateway (payload 1.0) event; an assumed role counts as its role,
    whichever session assumed it."""
    identity = (event.get("requestContext") or {}).get("identity") or {}
    arn = identity.get("userArn")
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None
    head, marker, rest = arn.partition(":assumed-role/")
    return f"{head}{marker}{rest.split('/', 1)[0]}" if marker else arn


class CallerDirectory(Protocol):
    def caller(self, principal: str) -> Caller | None:
        """The caller this principal is onboarded as, or None."""
        ...


def caller_from_item(principal: str, role: str | None, merchant_id: str | None) -> Caller | None:
    if role == OPERATOR:
        return Caller(principal, OPERATOR)
    if role == MERCHANT and merchant_id:
        return Caller(principal, MERCHANT, merchant_id)
    return None  # an incomplete row grants nothing


class DynamoDBCallerDirectory:
    """The ApiPrincipals table (principal_arn → role, merchant_id), cached per container for max_age_s: an
    onboarding change (or a revocation) is seen within that time."""

    def __init__(
        self, dynamodb: Any, table: str, max_age_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._dynamodb, self._table, self._max_age_s, self._clock = dynamodb, table, max_age_s, clock
        self._cache: dict[str, tuple[Caller | None, float]] = {}
        self._lock = threading.Lock()

    def caller(self, principal: str) -> Caller | None:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(principal)
        if cached is not None and now - cached[1] < self._max_age_s:
            return cached[0]
        with refused_for_now(f"{self._table} {principal}"):  # http_entry answers 503: the caller may retry
            item = self._dynamodb.get_item(TableName=self._table, Key={"principal_arn": {"S": principal}}).get("Item")
        found = None
        if item is not None:
            found = caller_from_item(principal, item.get("role", {}).get("S"), item.get("merchant_id", {}).get("S"))
        with self._lock:
            self._cache[principal] = (found, now)
        return found


class StaticCallerDirectory:
    """A fixed directory (tests, tools): principal → Caller."""

    def __init__(self, callers: Mapping[str, Caller]) -> None:
        self._callers = dict(callers)

    def caller(self, principal: str) -> Caller | None:
        return self._callers.get(principal)


_current: ContextVar[Caller | None] = ContextVar("caller", default=None)


def bind_caller(caller: Caller | None) -> Any:
    """Set the invocation's caller (the HTTP entry point does, per request and thread); returns a reset token."""
    return _current.set(caller)


def unbind_caller(token: Any) -> None:
    _current.reset(token)


def current_caller() -> Caller:
    caller = _current.get()
    if caller is None:
        raise Forbidden("The caller is not a known principal of this API")
    return caller


def require_operator() -> Caller:
    caller = current_caller()
    if not caller.is_operator:
        raise Forbidden("This route is for operators only")
    return caller


def require_merchant() -> Caller:
    caller = current_caller()
    if caller.role != MERCHANT:
        raise Forbidden("This route is for merchants only")
    return caller
