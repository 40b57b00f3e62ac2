"""The fault run with N=200 (CI): nothing lost, nothing charged twice, books right, no card data leaked."""

from __future__ import annotations

from pathlib import Path

from faults.run import card_data_hits, run


def test_the_scan_finds_card_numbers_in_any_grouping_and_cvv_values() -> None:
    hits = card_data_hits(['{"note": "4242 4242 4242 4242"}', '{"cvv": "123"}', "ts 1795591362607"])
    assert hits == ["4242 4242 4242 4242", "cvv value"]


def test_two_hundred_payments_under_every_fault_lose_nothing(tmp_path: Path) -> None:
    report, extra = run(200, seed=5, logs=tmp_path / "lambda.jsonl")
    assert report.ok, report.render()
    assert extra["max_charges_per_payment"] <= 1
    assert extra["dead_letters"] == []
    assert extra["security"]["card_data_hits"] == [] and extra["security"]["log_lines_scanned"] > 500
    assert extra["security"]["stored_events_and_rows_scanned"] > 1000
    # The faults really happened.
    assert extra["injected"]["put_events_entry_failures"] > 0
    assert extra["injected"]["psp_requests"] > extra["injected"]["psp_charges"]
    print(report.render(), extra)
