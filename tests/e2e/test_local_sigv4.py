"""The local API's SigV4 check refuses what API Gateway refuses, with a 403 reason, never an exception."""

from __future__ import annotations

import hashlib
import json
from email.message import Message

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from devstack.sigv4 import MISMATCH, SERVICE, Keyring, LocalPrincipal, signed_headers

URL = "http://127.0.0.1:8080/payments"
BODY = json.dumps({"amount": "10.00"}).encode()


def as_received(headers: dict[str, str]) -> Message:
    """The headers as the local server receives them: an HTTP client adds Host."""
    received = Message()
    for name, value in {"Host": "127.0.0.1:8080", **headers}.items():
        received[name] = value
    return received


def signed_for(principal: LocalPrincipal, region: str, service: str, extra: dict[str, str] | None = None) -> Message:
    request = AWSRequest(method="POST", url=URL, data=BODY, headers=dict(extra or {}))
    SigV4Auth(Credentials(principal.access_key, principal.secret_key), service, region).add_auth(request)
    return as_received(dict(request.headers.items()))


def test_a_valid_signature_is_accepted() -> None:
    keys = Keyring(["m-1"])
    principal = keys.merchant("m-1")
    assert keys.authenticate("POST", URL, as_received(signed_headers(principal, "POST", URL, BODY)), BODY) == (
        principal,
        "",
    )


def test_a_signature_for_another_region_or_service_is_refused() -> None:
    keys = Keyring(["m-1"])
    principal = keys.merchant("m-1")
    other_region = keys.authenticate("POST", URL, signed_for(principal, "us-east-1", SERVICE), BODY)
    other_service = keys.authenticate("POST", URL, signed_for(principal, "eu-west-1", "s3"), BODY)
    assert other_region[0] is None and "region" in other_region[1]
    assert other_service[0] is None and "service" in other_service[1]


def test_a_body_swapped_after_signing_a_content_hash_is_refused() -> None:
    keys = Keyring(["m-1"])
    principal = keys.merchant("m-1")
    headers = signed_for(principal, "eu-west-1", SERVICE, {"X-Amz-Content-SHA256": hashlib.sha256(BODY).hexdigest()})
    assert keys.authenticate("POST", URL, headers, BODY)[0] == principal
    swapped = json.dumps({"amount": "99.00"}).encode()
    assert keys.authenticate("POST", URL, headers, swapped) == (None, MISMATCH)


def test_a_malformed_credential_scope_is_a_refusal_not_an_exception() -> None:
    keys = Keyring(["m-1"])
    principal = keys.merchant("m-1")
    headers = signed_headers(principal, "POST", URL, BODY)
    headers["Authorization"] = headers["Authorization"].replace("/aws4_request", "", 1)
    refused, reason = keys.authenticate("POST", URL, as_received(headers), BODY)
    assert refused is None and "Credential scope" in reason
