"""Where a webhook may go: checked when an endpoint is registered and again at every delivery (SSRF).

A merchant names the URL; our functions make the request from inside AWS. So a target must be https on a public
address: never loopback, private (RFC 1918, RFC 4193), link-local (169.254.0.0/16: the instance metadata service),
carrier-grade NAT, multicast or reserved ranges, and never a name that resolves to one. Every address a name
resolves to is checked (an attacker's DNS may answer several), and a delivery connects to an address that was
checked, so a second lookup (DNS rebinding) cannot swap in another. `allow_loopback` is the local run's setting
alone (its receivers listen on 127.0.0.1 over http); deployed functions never have it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
Resolver = Callable[[str, int], Sequence[str]]


class TargetRefused(ValueError):
    """The URL may not be a webhook target; the message says why (shown to the merchant)."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str  # as written (the Host header and the TLS server name)
    port: int
    addresses: tuple[str, ...]  # every address the host resolved to, each checked


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise TargetRefused(f"the host {host!r} does not resolve") from error
    return sorted({str(info[4][0]) for info in infos})


def parse(url: str, *, allow_loopback: bool = False) -> tuple[str, str, int]:
    """(scheme, host, port) of a well-formed target URL, or TargetRefused naming what is wrong."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise TargetRefused(f"the URL is malformed: {error}") from error
    allowed = ("https", "http") if allow_loopback else ("https",)
    if parts.scheme not in allowed:
        raise TargetRefused(f"the URL must use {' or '.join(allowed)}, not {parts.scheme or 'no scheme'!r}")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("the URL may not carry a user name or password")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if parts.fragment:
        raise TargetRefused("the URL may not have a fragment")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check_address(address: str, *, allow_loopback: bool = False) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_loopback and allow_loopback:
        return
    if not ip.is_global or ip.is_multicast:
        raise TargetRefused(f"the URL's host resolves to {ip}, which is not a public address")


def resolve_target(url: str, *, allow_loopback: bool = False, resolve: Resolver = system_resolver) -> Target:
    """The checked target of `url`: every address it resolves to is public (or loopback when allowed)."""
    scheme, host, port = parse(url, allow_loopback=allow_loopback)
    try:
        literal: str | None = str(ipaddress.ip_address(host))
    except ValueError:
        literal = None
    addresses = [literal] if literal else list(resolve(host, port))
    if not addresses:
        raise TargetRefused(f"the host {host!r} does not resolve")
    for address in addresses:
        check_address(address, allow_loopback=allow_loopback)
    if scheme == "http" and not all(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses):
        raise TargetRefused("plain http is allowed only to loopback receivers of the local run")
    return Target(url, scheme, host, port, tuple(addresses))
