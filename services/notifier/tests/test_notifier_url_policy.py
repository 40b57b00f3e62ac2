"""Registration and delivery refuse every target that is not a public https address (SSRF)."""

from __future__ import annotations

import pytest

from notifier.domain.url_policy import TargetRefused, resolve_target


def resolving_to(*addresses: str):
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.8/hook",
        "https://172.16.3.4/hook",
        "https://192.168.1.1/hook",
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
    ],
)
def test_non_public_addresses_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused, match="not a public address"):
        resolve_target(url)


def test_a_name_resolving_to_a_private_address_is_refused_even_among_public_ones() -> None:
    with pytest.raises(TargetRefused, match="10.1.2.3"):
        resolve_target("https://hooks.example.com/x", resolve=resolving_to("93.184.216.34", "10.1.2.3"))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "must use https"),
        ("http://127.0.0.1/hook", "must use https"),
        ("ftp://hooks.example.com/x", "must use https"),
        ("https://user:pw@hooks.example.com/x", "user name or password"),
        ("https:///x", "no host"),
        ("https://hooks.example.com:99999/x", "malformed"),
        ("https://hooks.example.com/" + "a" * 2048, "longer than"),
    ],
)
def test_malformed_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(TargetRefused, match=reason):
        resolve_target(url, resolve=resolving_to("93.184.216.34"))


def test_a_public_https_target_keeps_every_checked_address() -> None:
    target = resolve_target("https://hooks.example.com:8443/x", resolve=resolving_to("93.184.216.34", "2606:2800::1"))
    assert (target.host, target.port, target.addresses) == (
        "hooks.example.com",
        8443,
        ("93.184.216.34", "2606:2800::1"),
    )


def test_loopback_over_http_only_when_the_local_run_allows_it() -> None:
    target = resolve_target("http://127.0.0.1:9000/hook", allow_loopback=True)
    assert target.addresses == ("127.0.0.1",)
    with pytest.raises(TargetRefused, match="not a public address"):
        resolve_target("http://10.0.0.1/hook", allow_loopback=True)
    with pytest.raises(TargetRefused, match="only to loopback"):
        resolve_target("http://hooks.example.com/x", allow_loopback=True, resolve=resolving_to("93.184.216.34"))


def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(TargetRefused, match="does not resolve"):
        resolve_target("https://nowhere.invalid/x")
