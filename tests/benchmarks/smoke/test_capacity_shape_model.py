"""capacity_shape's prediction (docs/capacity.md's formula) and its gains table, from fixed figures: no stack run."""

from __future__ import annotations

import pytest
from benchmarks.capacity_shape import STRIPE, _shape, predicted_per_s
from fake_psp.latency import CHARGE


def test_the_prediction_is_batches_times_records_over_waves_of_the_psps_latency() -> None:
    # 10 records charged one at a time: 10 waves of L; 10 at once: one wave; 3 at once: 4 waves
    assert predicted_per_s(1, 10, 1, 0.5) == 2.0
    assert predicted_per_s(1, 10, 10, 0.5) == 20.0
    assert predicted_per_s(2, 10, 3, 2.0) == 2 * 10 / (4 * 2.0)


def test_with_the_stripe_like_psp_a_wave_lasts_its_slowest_charge() -> None:
    assert predicted_per_s(2, 10, 10, STRIPE) == pytest.approx(2 * 10 / CHARGE.expected_slowest(10))
    assert predicted_per_s(1, 10, 5, STRIPE) == pytest.approx(10 / (2 * CHARGE.expected_slowest(5)))
    # Far below what a wave of ten medians would give: the tail sets the pace.
    assert predicted_per_s(1, 10, 10, STRIPE) < predicted_per_s(1, 10, 10, CHARGE.median_s) / 3


def test_each_settings_gain_is_against_the_first_predicted_and_measured() -> None:
    settings = ((1, 1, 0.5), (2, 10, 0.5))
    results = {
        "batches_1_concurrency_1_psp_500ms": {"predicted_per_s": 2.0, "measured_per_s": 0.5},
        "batches_2_concurrency_10_psp_500ms": {"predicted_per_s": 40.0, "measured_per_s": 5.0},
    }
    assert _shape(results, settings) == {
        "batches_2_concurrency_10_psp_500ms": {"predicted_gain": 20.0, "measured_gain": 10.0}
    }
