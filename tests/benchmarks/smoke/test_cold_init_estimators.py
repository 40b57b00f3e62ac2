"""The cold-init estimators' arithmetic: paired ratios, the pooled floor, issue 32's count (no process is timed)."""

from __future__ import annotations

import statistics
from typing import Any

import pytest
from benchmarks import zips


def test_a_paired_ratio_is_the_median_of_each_round_over_the_floors_around_it() -> None:
    # Round ratios 300/200, 615/410, 310/200: 1.5, 1.5, 1.55.
    assert zips.paired_ratio([300, 615, 310], [(200, 200), (400, 420), (190, 210)]) == pytest.approx(1.5)


def test_a_load_drift_between_rounds_cancels_in_the_paired_ratio_not_in_the_ratio_of_medians() -> None:
    # The machine twice as slow in two of five rounds (floor and entry alike): the code is 1.5x the floor throughout.
    slowdown = [1, 1, 2, 2, 1]
    floors = [200.0 * s for s in slowdown]
    entries = [300.0 * s for s in slowdown]
    # The floor's own samples came at other moments of the rounds, when the load was up three times.
    own_floor = [200.0 * s for s in [1, 2, 2, 2, 1]]
    assert statistics.median(entries) / statistics.median(own_floor) == pytest.approx(0.75)
    assert zips.paired_ratio(entries, list(zip(floors, floors, strict=True))) == pytest.approx(1.5)


def test_each_entry_point_needs_its_floors() -> None:
    with pytest.raises(ValueError):
        zips.paired_ratio([300, 310], [(200, 200)])


def test_the_pooled_floor_is_one_median_over_every_services_samples() -> None:
    assert zips.pooled_floor([[1.0, 2.0, 3.0], [10.0]]) == 2.5
    assert zips.pooled_floor([[250.0], [230.0, 300.0]]) == 250.0


def test_the_goal_counts_ratios_at_or_under_the_bar() -> None:
    assert zips.goal_met([1.39, 1.4, 1.41]) == 2
    assert zips.goal_met([1.2], bar=1.1) == 0


def _cold(floor_samples: list[float], **entries: dict[str, float]) -> dict[str, Any]:
    return {"cold_init": {"floor_ms": statistics.median(floor_samples), "floor_samples_ms": floor_samples, **entries}}


def test_every_entry_point_is_divided_by_the_pooled_floor_and_the_goal_counted_per_estimator() -> None:
    measured = {
        "ledger": _cold(
            [200.0, 210.0],
            consumer={"ms": 300.0, "ratio": 1.45, "paired_ratio": 1.38},
            api={"ms": 500.0, "ratio": 2.4, "paired_ratio": 2.3},  # not a consumer nor a relay: not counted
        ),
        "wallet": _cold(
            [300.0, 290.0],
            relay={"ms": 290.0, "ratio": 0.99, "paired_ratio": 1.0, "before_ms": 580.0},
        ),
    }
    summary = zips.with_pooled_floor(measured)
    assert summary["pooled_floor"] == {"ms": 250.0, "samples": 4}  # the median of 200, 210, 290, 300
    assert measured["ledger"]["cold_init"]["consumer"]["pooled_ratio"] == 1.2
    assert measured["ledger"]["cold_init"]["api"]["pooled_ratio"] == 2.0
    assert measured["wallet"]["cold_init"]["relay"]["pooled_ratio"] == 1.16
    assert measured["wallet"]["cold_init"]["relay"]["before_pooled_ratio"] == 2.32
    assert summary["issue_32"] == {
        "bar": 1.4,
        "measured": 2,
        "met_ratio": 1,
        "met_paired_ratio": 2,
        "met_pooled_ratio": 2,
    }


def test_an_entry_point_is_timed_as_lambda_loads_it_its_module_before_its_runtime() -> None:
    # The order payments_shared.init_phase depends on: the entry points package (which pauses the collector) first.
    code = zips.as_lambda_loads("ledger", "import ledger.entrypoints.post; container.app()")
    assert code == "import ledger.entrypoints.post; from ledger.runtime import container; container.app()"
