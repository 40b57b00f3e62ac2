"""A DNS lookup with a time bound: getaddrinfo has none, and a merchant's slow name server must not hold a delivery."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as LookupTimedOut

from notifier.domain.url_policy import Resolver, TargetRefused, system_resolver

LOOKUP_TIMEOUT_S = 2.0
# Lookups that overrun keep their thread until the system gives up; a few threads bound what they can hold.
_LOOKUPS = ThreadPoolExecutor(4, thread_name_prefix="webhook-dns")


def bounded_resolver(timeout_s: float = LOOKUP_TIMEOUT_S, resolve: Resolver = system_resolver) -> Resolver:
    def resolve_within(host: str, port: int) -> list[str]:
        lookup = _LOOKUPS.submit(resolve, host, port)
        try:
            return list(lookup.result(timeout=timeout_s))
        except LookupTimedOut:
            lookup.cancel()
            raise TargetRefused(f"the host {host!r} did not resolve within {timeout_s:g} s") from None

    return resolve_within
