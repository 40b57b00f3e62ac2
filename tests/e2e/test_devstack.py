"""The local end-to-end run: nothing lost with a small N, and the dashboard renders in a real browser."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from devstack.load import drive, settle
from devstack.report import build
from devstack.stack import Devstack

from e2e.browser import rendered_dom, screenshot

PANELS = {
    "overview": "API requests vs Lambda invocations",
    "errors": "API 4xx / 5xx",
    "latency": "Latency P50 / P90 / P95 / P99",
    "cold-starts": "Cold starts vs latency",
    "functions": "Invocations, concurrency and errors",
    "top-errors": "Top 10 errors",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devstack]:
    running = Devstack(api_port=0, psp_503_rate=0.2, logs=tmp_path_factory.mktemp("logs") / "lambda.jsonl")
    yield running
    running.stop()


def test_a_small_run_loses_nothing_and_balances(stack: Devstack) -> None:
    sent = drive(stack.api.url, 24, 4, seed=3, progress=False)
    final = settle(stack.api.url, sent, timeout_s=120)
    report = build(stack.api.url, sent, final, stack.functions.invocations, stack.psp, stack.provisioned.dlqs)
    assert report.ok, report.render()
    assert report.final_status.get("SUCCESS") and report.final_status.get("FAILED")
    assert report.http_status.get("400")  # the mix includes invalid requests
    assert sum(report.cold_starts.values()) >= 6  # every function started cold once
    assert report.details["psp_charges"] == report.final_status["SUCCESS"]


def test_dashboard_renders_every_panel_with_data_and_links_to_waterfalls(stack: Devstack, tmp_path: Path) -> None:
    dom = rendered_dom(f"{stack.api.url}/dashboard")
    for panel_id, title in PANELS.items():
        assert f'id="{panel_id}"' in dom and title in dom
    assert re.search(r"<td>initializer</td><td>\d+</td><td>\d+</td>", dom)  # requests vs invocations
    assert "<circle" in dom  # the cold-start scatter has points
    trace_link = re.search(r'href="(/traces/[0-9a-f]{32})"', dom)
    assert trace_link, "top errors should link to trace waterfalls (the PSP 503s at least)"
    waterfall = rendered_dom(stack.api.url + trace_link.group(1))
    assert 'id="waterfall"' in waterfall and "<rect" in waterfall

    png = tmp_path / "dashboard.png"
    screenshot(f"{stack.api.url}/dashboard", png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_the_local_api_answers_like_api_gateway(stack: Devstack) -> None:
    with urllib.request.urlopen(f"{stack.api.url}/ledger/trial-balance") as response:  # noqa: S310 - loopback
        assert json.loads(response.read())["balanced"] is True
