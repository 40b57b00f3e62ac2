"""Every AWS call the local run makes with a function's role, as the IAM requests AWS would authorize.

Deployed, a function's execution role signs its handler's calls and also the calls Lambda's event source
mapping makes for it (reading its queue or stream). Locally the handlers run in execution environments of
their own (processes: every call there is the function's) and hand their log back with each answer; the
mappings are the pumps of the run's process, which say whose role they act with through `acting_as`, and
everything else there (the harness, the load) is not recorded.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from payments_testing.iam.calls import Authorization, authorizations
from payments_testing.iam.deployed import Deployment, normalized

ACTING_AS: ContextVar[str | None] = ContextVar("acting_as", default=None)


@contextmanager
def acting_as(function: str | None) -> Iterator[None]:
    token = ACTING_AS.set(function)
    try:
        yield
    finally:
        ACTING_AS.reset(token)


class CallLog:
    """Counts (function, IAM request) for each AWS call made while a function's role is acting."""

    def __init__(self, region: str, account: str, function: str | None = None, keep_operations: bool = False) -> None:
        """function: the role every call of this process is made with (an execution environment's);
        keep_operations: also keep each call as made (service, operation, parameters), for benchmarks."""
        self.region, self.account, self.function = region, account, function
        self.operations: list[tuple[str, str, dict[str, Any]]] | None = [] if keep_operations else None
        self.requests: Counter[tuple[str, Authorization]] = Counter()
        self.unmapped: Counter[str] = Counter()  # service.operation with no IAM mapping: the check fails on them
        self._lock = threading.Lock()
        self._original: Any = None

    def install(self) -> CallLog:
        self._original = original = BaseClient._make_api_call
        log = self

        def recorded(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            function = log.function or ACTING_AS.get()
            if function is None:
                return original(client, operation, params)
            service = client.meta.service_model.service_name
            if log.operations is not None:
                with log._lock:
                    log.operations.append((service, operation, params))
            try:
                response = original(client, operation, params)
            except ClientError as refused:  # authorized all the same: a failed condition is not a denial
                log.record(function, service, operation, params, refused.response)
                raise
            log.record(function, service, operation, params, response)
            return response

        BaseClient._make_api_call = recorded
        return self

    def uninstall(self) -> None:
        if self._original is not None:
            BaseClient._make_api_call = self._original
            self._original = None

    def record(
        self, function: str, service: str, operation: str, params: dict[str, Any], response: dict[str, Any]
    ) -> None:
        try:
            requests = authorizations(service, operation, params, response, region=self.region, account=self.account)
        except ValueError:
            with self._lock:
                self.unmapped[f"{function} {service}.{operation}"] += 1
            return
        with self._lock:
            self.requests.update((function, request) for request in requests)

    def drain(self) -> tuple[Counter[Authorization], list[str], list[tuple[str, str, dict[str, Any]]]]:
        """An environment's requests since the last drain (its own function's), its unmapped calls and, when
        kept, its calls as made."""
        with self._lock:
            requests = Counter({request: n for (_, request), n in self.requests.items()})
            unmapped = list(self.unmapped.elements())
            operations, self.operations = self.operations or [], [] if self.operations is not None else None
            self.requests.clear()
            self.unmapped.clear()
        return requests, unmapped, operations

    def merge(self, function: str, requests: Counter[Authorization], unmapped: list[str]) -> None:
        """Adds what one of the function's environments recorded."""
        with self._lock:
            self.requests.update({(function, request): n for request, n in requests.items()})
            self.unmapped.update(unmapped)


def iam_check(log: CallLog, deployment: Deployment, key_aliases: dict[str, str]) -> dict[str, Any]:
    """The recorded requests evaluated against the deployed policies: denials, unused grants, unmapped calls."""
    recorded = [
        (function, replace(request, resource=normalized(request.resource, key_aliases)))
        for function, request in log.requests
    ]
    report = deployment.check(recorded)
    return {
        "requests": report.requests,
        "calls": sum(log.requests.values()),
        "denied": [str(d) for d in report.denied],
        "unmapped_calls": sorted(log.unmapped),
        "unused_grants": report.unused,
    }
