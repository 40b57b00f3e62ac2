"""IAM (SigV4) auth for the local API, as API Gateway does it: credentials issued per merchant and one
operator at start-up; requests signed by any SigV4 client (the load uses botocore's signer) and verified by
the specification, not by botocore's signer: every header the client lists in SignedHeaders counts, whatever
it is (botocore never signs user-agent, so it cannot check a signature that does), a header sent twice is
signed as its values joined, as received, and the payload's hash is the body's.

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
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import normalize_url_path

from payments_shared.callers import MERCHANT, OPERATOR

ACCOUNT = "123456789012"
REGION = "eu-west-1"
SERVICE = "execute-api"
MISMATCH = "The request signature we calculated does not match the signature you provided."
MISSING_TOKEN = "Missing Authentication Token"  # noqa: S105 - a message, not a secret
INVALID_TOKEN = "The security token included in the request is invalid."  # noqa: S105 - a message
HOST_UNSIGNED = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
MAX_SKEW = timedelta(minutes=5)  # API Gateway refuses signatures older (or newer) than this
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<scope>[^,]+), ?SignedHeaders=(?P<headers>[^,]+), ?"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


class HeaderLookup(Protocol):
    """Case-insensitive header access, as http.server's request headers give it."""

    def get(self, name: str, default: None = None) -> str | None: ...

    def get_all(self, name: str, failobj: None = None) -> list[str] | None: ...


def error_type(reason: str) -> str:
    """API Gateway's x-amzn-ErrorType for a refusal of the IAM check."""
    if reason == MISSING_TOKEN:
        return "MissingAuthenticationTokenException"
    if reason == INVALID_TOKEN:
        return "UnrecognizedClientException"
    if reason == MISMATCH or reason.startswith("Signature expired"):
        return "InvalidSignatureException"
    return "IncompleteSignatureException"


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
            return None, MISSING_TOKEN
        principal = self._by_key.get(match["key"])
        if principal is None:
            return None, INVALID_TOKEN
        try:
            signed_at = datetime.strptime(headers.get("X-Amz-Date") or "", SIGV4_TIMESTAMP).replace(tzinfo=UTC)
        except ValueError:
            return None, MISSING_TOKEN
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
        if "host" not in signed:
            return None, HOST_UNSIGNED
        if signed != sorted(name.lower() for name in signed) or any(headers.get(n) is None for n in signed):
            return None, MISMATCH
        canonical = canonical_request(method, url, headers, signed, hashlib.sha256(body).hexdigest())
        string_to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", headers.get("X-Amz-Date") or "", match["scope"], _sha256(canonical)]
        )
        key = f"AWS4{principal.secret_key}".encode()
        for part in scope:
            key = _hmac(key, part)
        if not hmac.compare_digest(_hmac(key, string_to_sign).hex(), match["signature"]):
            return None, MISMATCH
        return principal, ""


def canonical_request(method: str, url: str, headers: HeaderLookup, signed: list[str], payload_hash: str) -> str:
    """SigV4's canonical request (AWS's "Create a canonical request", for services other than S3): the path
    without dot segments, URI-encoded again; the query's names and values URI-encoded, sorted; each signed
    header with its values trimmed, inner spaces collapsed, repeated ones joined by commas in order."""
    parts = urlsplit(url)
    path = quote(normalize_url_path(parts.path or "/"), safe="/~")
    pairs = sorted((_encoded(k), _encoded(v)) for k, v in parse_qsl(parts.query, keep_blank_values=True))
    query = "&".join(f"{name}={value}" for name, value in pairs)
    lines = [f"{name}:{','.join(' '.join(v.split()) for v in headers.get_all(name) or [])}" for name in signed]
    return "\n".join([method, path, query, *lines, "", ";".join(signed), payload_hash])


def _encoded(value: str) -> str:
    return quote(unquote(value), safe="-_.~")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signed_headers(
    principal: LocalPrincipal, method: str, url: str, body: bytes | None, headers: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The headers to send: the given ones plus X-Amz-Date and Authorization (SigV4, execute-api)."""
    request = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers or {}))
    SigV4Auth(Credentials(principal.access_key, principal.secret_key), SERVICE, REGION).add_auth(request)
    return dict(request.headers.items())
