"""Smoke test with tiny counts: the benchmarks run and report their figures (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.run import main


def test_wallet_scale_reports_flat_dynamodb_calls(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    args = ["--only", "wallet_scale", "--runs", "1", "--wallet-events", "250", "--moto-wallet-events", "250"]
    assert main([*args, "--json", str(out)]) == 0
    figures = json.loads(out.read_text())["wallet_scale"]
    assert figures["past_events"] == 250
    # Calls are deterministic: a snapshot makes the busy wallet's credit exactly as cheap as a new one's.
    assert figures["moto"]["old_calls"] == figures["moto"]["new_calls"] == figures["moto"]["young_calls"] == 3
