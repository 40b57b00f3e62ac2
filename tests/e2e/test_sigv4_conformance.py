"""SigV4 conformance of the local API: requests signed by three independent implementations (botocore's,
requests-aws4auth's, aws-requests-auth's) get the same answers from the real handlers, and the hostile
variants of each are refused as API Gateway refuses them (403, JSON message, x-amzn-ErrorType) before any
handler runs. No answer of the whole suite is a 5xx."""

from __future__ import annotations

import http.client
import json
import os
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from aws_requests_auth.aws_auth import AWSRequestsAuth  # type: ignore[import-untyped]
from devstack.api_server import LocalApi
from devstack.load import MERCHANTS, order
from devstack.moto_local import MotoServer, client, provision
from devstack.runtime import Functions
from devstack.sigv4 import REGION, SERVICE, Keyring, LocalPrincipal, signed_headers
from requests_aws4auth import AWS4Auth  # type: ignore[import-untyped]

Signer = Callable[[LocalPrincipal, str], requests.auth.AuthBase]


class Botocore(requests.auth.AuthBase):
    def __init__(self, principal: LocalPrincipal) -> None:
        self.principal = principal

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        extra = {k: str(v) for k, v in request.headers.items() if k.lower() in ("content-type", "idempotency-key")}
        method, url = str(request.method), str(request.url)
        request.headers.update(
            signed_headers(self.principal, method, url, body if isinstance(body, bytes) else None, extra)
        )
        return request


SIGNERS: dict[str, Signer] = {
    "botocore": lambda p, host: Botocore(p),
    # requests-aws4auth signs host, content-type and x-amz-* by default; asked for, it signs any header.
    "requests-aws4auth": lambda p, host: AWS4Auth(
        p.access_key,
        p.secret_key,
        REGION,
        SERVICE,
        include_hdrs=["host", "content-type", "x-amz-*", "idempotency-key", "user-agent", "traceparent"],
    ),
    "aws-requests-auth": lambda p, host: AWSRequestsAuth(
        aws_access_key=p.access_key,
        aws_secret_access_key=p.secret_key,
        aws_host=host,
        aws_region=REGION,
        aws_service=SERVICE,
    ),
}
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@dataclass
class Api:
    url: str
    keys: Keyring
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)

    @property
    def host(self) -> str:
        return self.url.removeprefix("http://")

    def send(self, signer: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        auth = SIGNERS[signer](self.keys.merchant(MERCHANTS[0]), self.host)
        response = requests.request(method, f"{self.url}{path}", auth=auth, timeout=30, **kwargs)
        self.statuses[(signer, response.status_code)] += 1
        return response


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    moto = MotoServer().start()
    provision()
    os.environ.setdefault("PSP_API_BASE", "http://127.0.0.1:9")  # no charge is made here: no event sources
    keys = Keyring(MERCHANTS)
    keys.onboard(client("dynamodb"), "ApiPrincipals")
    functions = Functions()
    local = LocalApi(functions, keys).start()
    running = Api(local.url, keys)
    yield running
    local.stop()
    functions.close()
    moto.stop()
    print(f"\nSigV4 conformance: answers by (signer, status): {dict(sorted(running.statuses.items()))}")
    assert all(status < 500 for _, status in running.statuses), running.statuses


def new_order(key: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({**order("approve", random.Random(key)), "merchant_id": MERCHANTS[0]}).encode()
    return body, {"Content-Type": "application/json", "Idempotency-Key": key}


def refused_as(response: requests.Response, kind: str) -> bool:
    return (
        response.status_code == 403
        and response.headers["x-amzn-ErrorType"] == kind
        and bool(response.json()["message"])
    )


@pytest.mark.parametrize("signer", SIGNERS)
def test_each_signer_is_answered_by_the_handlers(api: Api, signer: str) -> None:
    body, headers = new_order(f"conformance-{signer}")
    created = api.send(signer, "POST", "/payments", data=body, headers=headers)
    assert created.status_code == 201, created.text
    replayed = api.send(signer, "POST", "/payments", data=body, headers=headers)
    assert replayed.json()["payment_order_id"] == created.json()["payment_order_id"]
    order_id = created.json()["payment_order_id"]
    read = api.send(signer, "GET", f"/payments/{order_id}", params={"expand": "card", "b": "2.3~x", "a": ""})
    assert read.status_code == 200 and read.json()["payment_order_id"] == order_id
    wallet = api.send(signer, "GET", f"/wallets/{MERCHANTS[0]}")
    assert wallet.status_code in (200, 404)  # its balance, or none yet: the handler's answer, not the edge's


def test_headers_botocore_never_signs_are_checked_when_signed(api: Api) -> None:
    body, headers = new_order("conformance-user-agent")
    extra = {**headers, "User-Agent": "shop/1.0", "traceparent": TRACEPARENT}
    assert api.send("requests-aws4auth", "POST", "/payments", data=body, headers=extra).status_code == 201

    def tampered(request: requests.PreparedRequest) -> requests.PreparedRequest:
        request = SIGNERS["requests-aws4auth"](api.keys.merchant(MERCHANTS[0]), api.host)(request)
        request.headers["User-Agent"] = "shop/2.0"  # changed after signing
        return request

    response = requests.post(f"{api.url}/payments", data=body, headers=extra, auth=tampered, timeout=30)
    api.statuses[("requests-aws4auth", response.status_code)] += 1
    assert refused_as(response, "InvalidSignatureException")


@pytest.mark.parametrize("signer", SIGNERS)
def test_a_body_swapped_after_signing_is_refused(api: Api, signer: str) -> None:
    body, headers = new_order(f"swap-{signer}")
    request = requests.Request("POST", f"{api.url}/payments", data=body, headers=headers).prepare()
    request = SIGNERS[signer](api.keys.merchant(MERCHANTS[0]), api.host)(request)
    request.prepare_body(body.replace(b'"merchant_id"', b'"merchant_id" '), None)
    response = requests.Session().send(request, timeout=30)
    api.statuses[(signer, response.status_code)] += 1
    assert refused_as(response, "InvalidSignatureException"), response.text


@pytest.mark.parametrize(("region", "service"), [("us-east-1", SERVICE), (REGION, "s3"), (REGION, "lambda")])
def test_a_signature_for_another_region_or_service_is_refused(api: Api, region: str, service: str) -> None:
    principal = api.keys.merchant(MERCHANTS[0])
    response = requests.get(
        f"{api.url}/wallets/{MERCHANTS[0]}",
        auth=AWS4Auth(principal.access_key, principal.secret_key, region, service),
        timeout=30,
    )
    api.statuses[("requests-aws4auth", response.status_code)] += 1
    assert refused_as(response, "IncompleteSignatureException"), response.text


def test_a_second_value_of_a_signed_header_is_refused(api: Api) -> None:
    """http.client sends a header twice; the signature covered the first value only."""
    body, headers = new_order("conformance-duplicate")
    signed = signed_headers(api.keys.merchant(MERCHANTS[0]), "POST", f"{api.url}/payments", body, headers)
    connection = http.client.HTTPConnection(api.host, timeout=30)
    connection.putrequest("POST", "/payments", skip_host=True, skip_accept_encoding=True)
    for name, value in {"Host": api.host, **signed, "Content-Length": str(len(body))}.items():
        connection.putheader(name, value)
    connection.putheader("Idempotency-Key", "another-order")  # the handler would act on the last value
    connection.endheaders(body)
    answer = connection.getresponse()
    api.statuses[("botocore", answer.status)] += 1
    assert (answer.status, answer.getheader("x-amzn-ErrorType")) == (403, "InvalidSignatureException")
    connection.close()


@pytest.mark.parametrize(
    "authorization",
    [
        "AWS4-HMAC-SHA256 garbage",
        "Bearer abc",
        "AWS4-HMAC-SHA256 Credential=AKIANOTAKEY/20261205/eu-west-1/execute-api/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
    ],
)
def test_a_garbage_or_unknown_authorization_is_refused(api: Api, authorization: str) -> None:
    response = requests.get(
        f"{api.url}/wallets/{MERCHANTS[0]}",
        headers={"Authorization": authorization, "X-Amz-Date": "20261205T000000Z"},
        timeout=30,
    )
    api.statuses[("none", response.status_code)] += 1
    assert response.status_code == 403 and response.headers["x-amzn-ErrorType"] and response.json()["message"]


@pytest.mark.parametrize("signer", SIGNERS)
def test_a_route_that_does_not_exist_is_missing_authentication_token(api: Api, signer: str) -> None:
    for method, path in [("GET", "/nowhere"), ("DELETE", "/payments"), ("GET", "/payments/a/b")]:
        assert refused_as(api.send(signer, method, path), "MissingAuthenticationTokenException")
