"""The local API's SigV4 check refuses what API Gateway refuses, with a 403 reason, never an exception."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials
from devstack.sigv4 import HOST_UNSIGNED, MISMATCH, SERVICE, Keyring, LocalPrincipal, error_type, signed_headers

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


class SignsEveryHeader(SigV4Auth):
    """botocore's signer without its list of headers it never signs (user-agent, x-amzn-trace-id, ...), as
    other SigV4 clients sign them."""

    def headers_to_sign(self, request: AWSRequest) -> Any:
        signed = HTTPHeaders()
        for name in {n.lower() for n in request.headers}:
            for value in request.headers.get_all(name):
                signed[name] = value
        signed["host"] = "127.0.0.1:8080"
        return signed


def sign_all(principal: LocalPrincipal, headers: list[tuple[str, str]]) -> Message:
    request = AWSRequest(method="POST", url=URL, data=BODY)
    for name, value in headers:
        request.headers[name] = value  # HTTPHeaders appends: a repeated name keeps every value
    SignsEveryHeader(Credentials(principal.access_key, principal.secret_key), SERVICE, "eu-west-1").add_auth(request)
    received = Message()
    received["Host"] = "127.0.0.1:8080"
    for name, value in request.headers.items():
        received[name] = value
    return received


def test_headers_botocore_never_signs_count_when_a_client_signs_them() -> None:
    keys = Keyring(["m-1"])
    principal = keys.merchant("m-1")
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    headers = sign_all(principal, [("User-Agent", "shop/1.0"), ("traceparent", traceparent)])
    assert keys.authenticate("POST", URL, headers, BODY) == (principal, "")
    headers.replace_header("User-Agent", "shop/2.0")  # changed after signing: refused
    assert keys.authenticate("POST", URL, headers, BODY) == (None, MISMATCH)


def test_a_header_sent_twice_is_signed_as_both_values_never_the_first_alone() -> None:
    keys = Keyring(["m-1"])
    principal = keys.merchant("m-1")
    once = sign_all(principal, [("Idempotency-Key", "A")])
    once["Idempotency-Key"] = "B"  # a second value the handler would act on, never signed
    assert keys.authenticate("POST", URL, once, BODY) == (None, MISMATCH)
    both = sign_all(principal, [("Idempotency-Key", "A"), ("Idempotency-Key", "B")])
    assert both.get_all("Idempotency-Key") == ["A", "B"]
    assert keys.authenticate("POST", URL, both, BODY) == (principal, "")


def test_the_payload_hash_is_the_bodys_whatever_a_header_claims() -> None:
    keys = Keyring(["m-1"])
    principal = keys.merchant("m-1")
    headers = signed_for(principal, "eu-west-1", SERVICE, {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert keys.authenticate("POST", URL, headers, BODY) == (None, MISMATCH)


def test_a_signature_that_leaves_host_out_is_refused() -> None:
    keys = Keyring(["m-1"])
    principal = keys.merchant("m-1")
    headers = signed_headers(principal, "POST", URL, BODY)
    headers["Authorization"] = headers["Authorization"].replace("SignedHeaders=host;", "SignedHeaders=")
    assert keys.authenticate("POST", URL, as_received(headers), BODY) == (None, HOST_UNSIGNED)


def test_a_signature_older_or_newer_than_five_minutes_is_refused() -> None:
    keys = Keyring(["m-1"])
    principal = keys.merchant("m-1")
    headers = as_received(signed_headers(principal, "POST", URL, BODY))
    signed_at = datetime.strptime(str(headers["X-Amz-Date"]), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert keys.authenticate("POST", URL, headers, BODY, now=signed_at + timedelta(minutes=4))[0] == principal
    for skew in (timedelta(minutes=6), timedelta(minutes=-6)):
        refused, reason = keys.authenticate("POST", URL, headers, BODY, now=signed_at + skew)
        assert (
            refused is None
            and reason.startswith("Signature expired")
            and error_type(reason) == ("InvalidSignatureException")
        )
