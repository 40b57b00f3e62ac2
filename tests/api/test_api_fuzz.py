"""schemathesis against the OpenAPI documents of the three HTTP APIs, through the local HTTP server and the
real handlers (moto behind them; no event sources, so any write comes from the request itself).

Every case, valid or not (positive and negative generation): no 5xx; every 4xx is problem+json naming the
problem (type, title, status, detail; field errors name field and reason); a 4xx writes nothing.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from api_docs.write_openapi import APIS, committed_path
from devstack.api_server import LocalApi
from devstack.load import http, order
from devstack.moto_local import MotoServer, client, provision
from devstack.resources import tables
from devstack.runtime import Functions
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance
from schemathesis.config import HealthCheck

CASES_WANTED = 1000
EXAMPLES_PER_OPERATION = 400  # four operations; the trial balance has no inputs, so it yields few cases
PROBLEM_FIELDS = {"type", "title", "status", "detail"}


@dataclass
class Stack:
    url: str
    statuses: Counter[str] = field(default_factory=Counter)

    def row_count(self) -> int:
        dynamodb = client("dynamodb")
        return sum(dynamodb.scan(TableName=t["TableName"], Select="COUNT")["Count"] for t in tables())


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    moto = MotoServer().start()
    provision()
    os.environ.setdefault("PSP_API_BASE", "http://127.0.0.1:9")  # the finalizer is loaded, never called here
    api = LocalApi(Functions()).start()
    running = Stack(api.url)
    yield running
    api.stop()
    moto.stop()
    total = sum(running.statuses.values())
    print(f"\nAPI fuzzing: {total} cases, responses by status: {dict(sorted(running.statuses.items()))}")


def openapi_documents() -> dict[str, Any]:
    """The three committed documents as one (their paths and component names do not overlap)."""
    merged: dict[str, Any] = {}
    for service in APIS:
        document = json.loads(committed_path(service).read_text())
        if not merged:
            merged = document
            continue
        merged["paths"] |= document["paths"]
        merged.setdefault("components", {}).setdefault("schemas", {})
        merged["components"]["schemas"] |= document.get("components", {}).get("schemas", {})
    return merged


fuzzed = schemathesis.openapi.from_dict(openapi_documents())
fuzzed.config.update(suppress_health_check=[HealthCheck.all])  # moto makes cases slow; that is fine
# Deterministic: CI fuzzes the same cases each run, so a failure reproduces.
fuzzed.config.generation.update(max_examples=EXAMPLES_PER_OPERATION, deterministic=True)


@fuzzed.parametrize()
def test_no_5xx_every_4xx_is_a_named_problem_and_writes_nothing(case: Any, stack: Stack) -> None:
    rows_before = stack.row_count()
    response = case.call(base_url=stack.url)
    stack.statuses[str(response.status_code)] += 1
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}\n{case.as_curl_command()}"
    if case.method.upper() != case.operation.method.upper():
        # No route for this method: API Gateway itself answers 404, before any handler runs.
        assert response.status_code == 404, case.as_curl_command()
    elif 400 <= response.status_code < 500:
        content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"]
        assert "application/problem+json" in str(content_type), f"{content_type}: {case.as_curl_command()}"
        problem = response.json()
        assert PROBLEM_FIELDS <= set(problem) and problem["status"] == response.status_code, problem
        assert problem["title"] and problem["detail"]
        for error in problem.get("errors", []):
            assert error["field"] and error["reason"], problem
    if case.method.upper() == case.operation.method.upper():
        # The status, content type and body are the ones the document promises (problems included).
        case.validate_response(response, checks=[status_code_conformance, content_type_conformance,
                                                 response_schema_conformance])  # fmt: skip
    if response.status_code >= 400:
        assert stack.row_count() == rows_before, f"a rejected request wrote:\n{case.as_curl_command()}"


def test_the_fuzzing_ran_at_least_a_thousand_cases(stack: Stack) -> None:
    assert sum(stack.statuses.values()) >= CASES_WANTED, stack.statuses
    assert stack.statuses["400"] and stack.statuses["404"], stack.statuses


def test_the_write_check_bites_an_accepted_payment_is_seen_as_rows(stack: Stack) -> None:
    # Schema-valid bodies rarely pass the business rules (Luhn, expiry): prove the detector with a real one.
    before = stack.row_count()
    status, body = http("POST", f"{stack.url}/payments", order("approve", random.Random(1)),
                        headers={"Idempotency-Key": "fuzz-write-check"})  # fmt: skip
    assert status == 201, body
    assert stack.row_count() > before
