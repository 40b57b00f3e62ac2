"""The webhook POST, bounded: a merchant's endpoint must never hold a delivery invocation for long.

Connect 2 s; the whole response (status, headers and body) within 5 s of sending; at most 64 KiB of body read,
then the connection is closed; no redirects (a 3xx is a failed attempt: following one would reach a target that
was never checked); the connection goes to an address url_policy checked, never to a second DNS answer, while
TLS (verified against the system's CAs) and the Host header name the URL's host.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from urllib.parse import urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util.ssl_match_hostname import CertificateError

from notifier.delivery.ports import Attempt
from notifier.domain.url_policy import Target

CONNECT_TIMEOUT_S = 2.0
RESPONSE_TIMEOUT_S = 5.0
MAX_BODY_BYTES = 64 * 1024
_CHUNK = 8192


class UrllibSender:
    def __init__(
        self,
        *,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        response_timeout_s: float = RESPONSE_TIMEOUT_S,
        max_body_bytes: int = MAX_BODY_BYTES,
        ca_certs: str | None = None,  # tests: a local CA; deployed: the system's
    ) -> None:
        self._connect_s, self._response_s, self._max_body = connect_timeout_s, response_timeout_s, max_body_bytes
        self._ca_certs = ca_certs

    def send(self, target: Target, body: bytes, headers: dict[str, str]) -> Attempt:
        failure = "no address"
        for address in target.addresses:  # each was checked; the next only if this one cannot be reached
            connection = self._connection(target, address)
            try:
                connection.connect()
            except (OSError, ValueError, urllib3.exceptions.HTTPError) as error:  # CertificateError is a ValueError
                connection.close()
                failure = _connect_failure(error)
                continue
            try:
                return self._exchange(connection, target, body, headers)
            finally:
                connection.close()
        return Attempt(failure, delivered=False, reachable=False)

    def _connection(self, target: Target, address: str) -> HTTPConnection:
        if target.scheme == "https":
            return HTTPSConnection(
                address,
                target.port,
                timeout=self._connect_s,
                server_hostname=target.host,  # SNI
                assert_hostname=target.host,  # the certificate must name the URL's host, not the address
                cert_reqs=ssl.CERT_REQUIRED,
                ca_certs=self._ca_certs,
            )
        return HTTPConnection(address, target.port, timeout=self._connect_s)  # loopback, local run only

    def _exchange(self, connection: HTTPConnection, target: Target, body: bytes, headers: dict[str, str]) -> Attempt:
        deadline = time.monotonic() + self._response_s
        parts = urlsplit(target.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default_port = 443 if target.scheme == "https" else 80
        host = target.host if ":" not in target.host else f"[{target.host}]"
        host_header = host if target.port == default_port else f"{host}:{target.port}"
        try:
            _remaining(connection, deadline)
            # preload_content=False: urllib3 would otherwise read the whole body before we could bound it.
            connection.request(
                "POST",
                path,
                body=body,
                headers={**headers, "Host": host_header},
                preload_content=False,
                decode_content=False,
            )
            response = connection.getresponse()
            read = 0
            while read <= self._max_body:
                _remaining(connection, deadline)
                chunk = response.read1(_CHUNK)  # one recv at most: the deadline holds between chunks
                if not chunk:
                    break
                read += len(chunk)
        except TimeoutError:
            return Attempt("timeout", delivered=False, reachable=False)
        except (OSError, http.client.HTTPException, urllib3.exceptions.HTTPError) as error:
            if isinstance(getattr(error, "__context__", None), TimeoutError) or "timed out" in str(error):
                return Attempt("timeout", delivered=False, reachable=False)
            return Attempt(f"connection failed: {type(error).__name__}", delivered=False, reachable=False)
        status = response.status
        if read > self._max_body:
            return Attempt(f"{status}: response body over {self._max_body} bytes", delivered=False, reachable=True)
        # A 5xx or 429 says the endpoint is in trouble, not this event: its other deliveries wait too.
        reachable = status < 500 and status != 429
        return Attempt(str(status), delivered=200 <= status < 300, reachable=reachable)


def _remaining(connection: HTTPConnection, deadline: float) -> None:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the response took longer than its bound")
    if connection.sock is not None:
        connection.sock.settimeout(left)


def _connect_failure(error: BaseException) -> str:
    cause = error.__context__ or error
    if isinstance(error, ssl.SSLError | CertificateError) or isinstance(cause, ssl.SSLError | CertificateError):
        return f"tls failed: {error}"[:200]
    # urllib3's NewConnectionError subclasses ConnectTimeoutError: ask the socket's own error first.
    if isinstance(cause, ConnectionError):
        return f"connection failed: {type(cause).__name__}"
    if isinstance(error, TimeoutError | socket.timeout | urllib3.exceptions.ConnectTimeoutError):
        return "timeout"
    return f"connection failed: {type(cause).__name__}"
