"""schemathesis against the OpenAPI documents of the three HTTP APIs, through the local HTTP server (SigV4
auth, as API Gateway) and the real handlers (moto behind them; no event sources, so any write comes from the
request itself).

Signed as a merchant, every case, valid or not (positive and negative generation): no 5xx; every 4xx is
problem+json naming the problem (type, title, status, detail; field errors name field and reason); a 4xx
writes nothing. Unsigned, every case is refused with 403 before any handler runs (and none is a 5xx).
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import pytest
import requests
import schemathesis
from api_docs.write_openapi import APIS, committed_path
from devstack.api_server import LocalApi
from devstack.load import MERCHANTS, http, order
from devstack.moto_local import MotoServer, client, provision
from devstack.resources import tables
from devstack.runtime import Functions
from devstack.sigv4 import Keyring, LocalPrincipal, signed_headers
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance
from schemathesis.config import HealthCheck

CASES_WANTED = 1000
# Per operation with a body or parameters (the trial balance has no inputs, so it yields few cases): 150 over the
# sixteen operations keeps the run within its 900 s on two cores (400 did with the eight before the webhooks').
EXAMPLES_PER_OPERATION = 150
UNSIGNED_EXAMPLES_PER_OPERATION = 60
PROBLEM_FIELDS = {"type", "title", "status", "detail"}


@dataclass
class Stack:
    url: str
    keys: Keyring
    statuses: Counter[str] = field(default_factory=Counter)
    unsigned_statuses: Counter[str] = field(default_factory=Counter)

    def row_count(self) -> int:
        dynamodb = client("dynamodb")
        return sum(dynamodb.scan(TableName=t["TableName"], Select="COUNT")["Count"] for t in tables())


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    moto = MotoServer().start()
    provision()
    os.environ.setdefault("PSP_API_BASE", "http://127.0.0.1:9")  # the finalizer is loaded, never called here
    keys = Keyring(MERCHANTS)
    keys.onboard(client("dynamodb"), "ApiPrincipals")
    api = LocalApi(Functions(), keys).start()
    running = Stack(api.url, keys)
    yield running
    api.stop()
    moto.stop()
    total = sum(running.statuses.values())
    print(
        f"\nAPI fuzzing: {total} cases, responses by status: {dict(sorted(running.statuses.items()))}; "
        f"unsigned: {dict(sorted(running.unsigned_statuses.items()))}"
    )


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


class SigV4(requests.auth.AuthBase):
    """Signs each request schemathesis sends, as a merchant's back end would (botocore's signer)."""

    def __init__(self, principal: LocalPrincipal) -> None:
        self.principal = principal

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        # A SigV4 client encodes a space in the query as %20 (the canonical form); requests sends "+", which API
        # Gateway reads as a literal plus, so the signature would not match: send what botocore would.
        parts = urlsplit(str(request.url))
        query = urlencode(parse_qsl(parts.query, keep_blank_values=True), quote_via=quote)
        request.url = urlunsplit(parts._replace(query=query))
        body = request.body.encode() if isinstance(request.body, str) else request.body
        content_type = request.headers.get("Content-Type")
        signed = signed_headers(
            self.principal,
            str(request.method),
            str(request.url),
            body if isinstance(body, bytes) else None,
            {"Content-Type": str(content_type)} if content_type else {},
        )
        request.headers.update({k: signed[k] for k in ("Authorization", "X-Amz-Date")})
        return request


def fuzzing(max_examples: int) -> Any:
    schema = schemathesis.openapi.from_dict(openapi_documents())
    schema.config.update(suppress_health_check=[HealthCheck.all])  # moto makes cases slow; that is fine
    # Deterministic: CI fuzzes the same cases each run, so a failure reproduces.
    schema.config.generation.update(max_examples=max_examples, deterministic=True)
    return schema


fuzzed, unsigned = fuzzing(EXAMPLES_PER_OPERATION), fuzzing(UNSIGNED_EXAMPLES_PER_OPERATION)


@fuzzed.parametrize()
def test_no_5xx_every_4xx_is_a_named_problem_and_writes_nothing(case: Any, stack: Stack) -> None:
    rows_before = stack.row_count()
    response = case.call(base_url=stack.url, auth=SigV4(stack.keys.merchant(MERCHANTS[0])))
    stack.statuses[str(response.status_code)] += 1
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}\n{case.as_curl_command()}"
    if case.method.upper() != case.operation.method.upper():
        # No route for this method: a REST API answers it as an unsigned request, before any handler runs.
        assert response.status_code == 403, case.as_curl_command()
        assert response.headers["x-amzn-errortype"] == ["MissingAuthenticationTokenException"]
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
        case.validate_response(
            response, checks=[status_code_conformance, content_type_conformance, response_schema_conformance]
        )
    if response.status_code >= 400:
        assert stack.row_count() == rows_before, f"a rejected request wrote:\n{case.as_curl_command()}"


@unsigned.parametrize()
def test_unsigned_every_case_is_refused_with_403_before_any_handler(case: Any, stack: Stack) -> None:
    rows_before = stack.row_count()
    response = case.call(base_url=stack.url)
    stack.unsigned_statuses[str(response.status_code)] += 1
    if case.method.upper() != case.operation.method.upper():
        assert response.status_code == 403, case.as_curl_command()  # no route: Missing Authentication Token
    else:
        assert response.status_code == 403, f"{response.status_code}: {response.text[:300]}"
        assert response.json()["message"], response.text
    assert response.headers["x-amzn-errortype"] == ["MissingAuthenticationTokenException"]
    assert stack.row_count() == rows_before


def test_the_fuzzing_ran_at_least_a_thousand_cases(stack: Stack) -> None:
    assert sum(stack.statuses.values()) >= CASES_WANTED, stack.statuses
    assert stack.statuses["400"] and stack.statuses["404"] and stack.statuses["403"], stack.statuses
    assert stack.unsigned_statuses["403"] >= 100, stack.unsigned_statuses


def test_the_write_check_bites_an_accepted_payment_is_seen_as_rows(stack: Stack) -> None:
    # Schema-valid bodies rarely pass the business rules (Luhn, expiry): prove the detector with a real one.
    before = stack.row_count()
    body = {**order("approve", random.Random(1)), "merchant_id": MERCHANTS[0]}
    status, body = http(
        "POST",
        f"{stack.url}/payments",
        body,
        headers={"Idempotency-Key": "fuzz-write-check"},
        signer=stack.keys.merchant(MERCHANTS[0]),
    )
    assert status == 201, body
    assert stack.row_count() > before
