"""IAM (SigV4) auth for the local API, as API Gateway does it: credentials issued per merchant and one
operator at start-up, requests signed with botocore's signer and verified against the same keys.

What API Gateway would take from IAM, the local run takes from `Keyring`: which access key belongs to which
principal. Which merchant a principal acts for is the services' business (the ApiPrincipals table), seeded
here as onboarding would.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from payments_shared.callers import MERCHANT, OPERATOR

ACCOUNT = "123456789012"
REGION = "eu-west-1"
SERVICE = "execute-api"
MISMATCH = "The request signature we calculated does not match the signature you provided."
MAX_SKEW = timedelta(minutes=5)  # API Gateway refuses signatures older (or newer) than this
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<scope>[^,]+), ?SignedHeaders=(?P<headers>[^,]+), ?"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


class HeaderLookup(Protocol):
    """Case-insensitive header access, as http.server's request headers give it."""

    def get(self, name: str, default: None = None) -> str | None: ...

    def __getitem__(self, name: str) -> str | None: ...


@dataclass(frozen=True)
class LocalPrincipal:
    name: str
    role: str
    merchant_id: str | None
    access_key: str
    secret_key: str

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT}:user/{self.name}"


class Keyring:
    """The principals of one local run: each merchant's back end, and an operator."""

    def __init__(self, merchants: list[str]) -> None:
        issued = [(f"payments-{m}", MERCHANT, m) for m in merchants] + [("payments-operator", OPERATOR, None)]
        self.principals = {
            name: LocalPrincipal(name, role, merchant, "AKIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30))
            for name, role, merchant in issued
        }
        self._by_key = {p.access_key: p for p in self.principals.values()}

    def merchant(self, merchant_id: str) -> LocalPrincipal:
        return self.principals[f"payments-{merchant_id}"]

    @property
    def operator(self) -> LocalPrincipal:
        return self.principals["payments-operator"]

    def onboard(self, dynamodb: Any, table: str) -> None:
        """Record each principal in the services' principals directory, as onboarding does."""
        for p in self.principals.values():
            item = {"principal_arn": {"S": p.arn}, "role": {"S": p.role}}
            if p.merchant_id:
                item["merchant_id"] = {"S": p.merchant_id}
            dynamodb.put_item(TableName=table, Item=item)

    def authenticate(
        self, method: str, url: str, headers: HeaderLookup, body: bytes, now: datetime | None = None
    ) -> tuple[LocalPrincipal | None, str]:
        """(principal, "") for a valid signature, else (None, API Gateway's reason)."""
        match = _AUTHORIZATION.match(headers.get("Authorization") or "")
        if match is None:
            return None, "Missing Authentication Token"
        principal = self._by_key.get(match["key"])
        if principal is None:
            return None, "The security token included in the request is invalid."
        try:
            signed_at = datetime.strptime(headers.get("X-Amz-Date") or "", SIGV4_TIMESTAMP).replace(tzinfo=UTC)
        except ValueError:
            return None, "Missing Authentication Token"
        if abs((now or datetime.now(UTC)) - signed_at) > MAX_SKEW:
            return None, "Signature expired"
        scope = match["scope"].split("/")
        if len(scope) != 4 or scope[3] != "aws4_request":
            return (
                None,
                "Authorization header requires a Credential scope of the form date/region/service/aws4_request.",
            )
        date, region, service, _ = scope
        if date != signed_at.strftime("%Y%m%d"):
            return None, "Credential should be scoped to the date of X-Amz-Date."
        if region != REGION:
            return None, f"Credential should be scoped to a valid region, not '{region}'."
        if service != SERVICE:
            return None, f"Credential should be scoped to correct service: '{SERVICE}'."
        signed = match["headers"].split(";")
        if any(headers.get(name) is None for name in signed):
            return None, MISMATCH
        # botocore takes a signed x-amz-content-sha256 as the payload's hash: the body must be what it says.
        claimed = headers.get("X-Amz-Content-SHA256")
        if claimed is not None and claimed != hashlib.sha256(body).hexdigest():
            return None, MISMATCH
        request = AWSRequest(method=method, url=url, data=body, headers={n: str(headers[n]) for n in signed})
        request.context["timestamp"] = headers["X-Amz-Date"]
        auth = SigV4Auth(Credentials(principal.access_key, principal.secret_key), service, region)
        expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
        if not hmac.compare_digest(expected, match["signature"]):
            return None, MISMATCH
        return principal, ""


def signed_headers(
    principal: LocalPrincipal, method: str, url: str, body: bytes | None, headers: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The headers to send: the given ones plus X-Amz-Date and Authorization (SigV4, execute-api)."""
    request = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers or {}))
    SigV4Auth(Credentials(principal.access_key, principal.secret_key), SERVICE, REGION).add_auth(request)
    return dict(request.headers.items())
