"""notifier-deliver's composition root: what its environment sets reaches the deliverer (no AWS call is made)."""

from __future__ import annotations

import threading

import pytest

from notifier.delivery.adapters.bounded_dns import bounded_resolver
from notifier.delivery.container import build_container
from notifier.delivery.deliverer import Deliverer
from notifier.domain.url_policy import TargetRefused, resolve_target
from payments_testing.aws import fake_credentials


def test_the_local_runs_settings_reach_the_deliverer_and_deployed_defaults_refuse_loopback() -> None:
    fake_credentials()
    local = build_container({"WEBHOOK_TARGETS_ALLOW_LOOPBACK": "1", "WEBHOOK_RETRY_SCALE": "0.001"}).deliverer()
    deployed = build_container({}).deliverer()

    assert isinstance(local, Deliverer) and isinstance(deployed, Deliverer)
    assert local._allow_loopback is True and deployed._allow_loopback is False
    assert local._schedule.retry_in(6) == 36 and deployed._schedule.retry_in(6) == 36_000  # 10 h, scaled
    assert local._schedule.max_receive_count == deployed._schedule.max_receive_count == 12


def test_only_exactly_1_allows_loopback() -> None:
    fake_credentials()
    for value in ("true", "yes", "0", ""):
        assert build_container({"WEBHOOK_TARGETS_ALLOW_LOOPBACK": value}).deliverer()._allow_loopback is False


def test_a_lookup_that_overruns_its_bound_refuses_the_target_instead_of_holding_the_delivery() -> None:
    release = threading.Event()

    def stuck(host: str, port: int) -> list[str]:
        release.wait(5)
        return ["93.184.216.34"]

    resolve = bounded_resolver(0.05, stuck)
    with pytest.raises(TargetRefused, match="did not resolve within 0.05 s"):
        resolve_target("https://slow-dns.example.com/hook", resolve=resolve)
    release.set()
    quick = bounded_resolver(1, lambda host, port: ["93.184.216.34"])
    assert resolve_target("https://hooks.example.com/in", resolve=quick).addresses == ("93.184.216.34",)
    fake_credentials()
    assert build_container({}).deliverer()._resolve.__name__ == "resolve_within"  # the deployed lookups are bounded
