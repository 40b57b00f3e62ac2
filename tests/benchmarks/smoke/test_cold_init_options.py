"""The cold-init benchmark's options narrow what it runs; without the zips it says so instead of failing."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import zips
from benchmarks.run import main


def test_entry_points_are_narrowed_by_name() -> None:
    assert set(zips.selected("wallet")) == {"consumer", "relay", "api"}
    assert set(zips.selected("wallet", ("relay", "outcome"))) == {"relay"}
    assert set(zips.selected("initializer", ("relay", "outcome"))) == {"relay", "outcome"}


def test_a_run_without_the_zips_or_the_baseline_is_skipped_naming_them(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    argv = ["--only", "zips_and_cold_init", "--cold-init-services", "ledger", "--cold-init-entry-points", "consumer"]
    baseline = ["--cold-init-baseline", str(tmp_path / "main-dist"), "--cold-init-compiling"]
    assert main([*argv, *baseline, "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    skipped = figures["zips_and_cold_init"]["skipped"]
    assert "ledger" in skipped and "initializer" not in skipped
    assert str(tmp_path / "main-dist") in skipped
    # The machine's load before and after (1, 5, 15 minutes) travels with the figures.
    assert len(figures["machine"]["load_before"]) == len(figures["machine"]["load_after"]) == 3


def test_in_process_timing_leaves_the_prelude_out(tmp_path: Path) -> None:
    # own_ms's mechanism: the libraries' imports run before the clock starts, so only the entry point is timed.
    slow_prelude = zips._timed_in_process("import time; time.sleep(0.3)", "pass", str(tmp_path))
    slow_timed = zips._timed_in_process("pass", "import time; time.sleep(0.3)", str(tmp_path))
    assert slow_prelude < 100
    assert slow_timed >= 300
