"""Every Lambda entry point's init runs without the garbage collector's passes and ends with the collector running
again over a frozen heap (payments_shared.init_phase): checked by importing each handler's module as Lambda does,
in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ENTRY_MODULES = sorted(
    f"{path.parent.parent.name}.entrypoints.{path.stem}"
    for path in Path("services").glob("*/src/*/entrypoints/*.py")
    if path.stem != "__init__"
)
PROBE = (
    "import gc, importlib, json, sys\n"
    "if sys.argv[2] == 'runtime first':\n"
    "    from payments_shared import init_phase; init_phase.resume()\n"
    "importlib.import_module(sys.argv[1])\n"
    "print(json.dumps([gc.isenabled(), gc.get_freeze_count(), sum(s['collections'] for s in gc.get_stats())]))"
)


def imported(module: str, order: str = "as Lambda") -> tuple[bool, int, int]:
    """(collector enabled, objects frozen, collector passes so far) after a fresh process imports the module."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "PYDANTIC_DISABLE_PLUGINS": "__all__"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, module, order], env=env, check=True, capture_output=True, text=True
    )
    enabled, frozen, passes = json.loads(done.stdout.splitlines()[-1])
    return enabled, frozen, passes


def test_every_service_has_entry_points() -> None:
    assert {m.split(".")[0] for m in ENTRY_MODULES} == {"initializer", "finalizer", "ledger", "wallet", "notifier"}


@pytest.mark.parametrize("module", ENTRY_MODULES)
def test_an_entry_points_init_leaves_the_collector_on_and_its_objects_frozen(module: str) -> None:
    enabled, frozen, _ = imported(module)
    assert enabled, "the collector stays paused after init: every later allocation would pile up"
    assert frozen > 10_000, "the init's objects were not moved out of the collector's sight"


@pytest.mark.parametrize("module", ["ledger.entrypoints.post", "finalizer.entrypoints.charge"])
def test_the_collector_makes_no_pass_during_init_but_does_when_a_runtime_was_imported_first(module: str) -> None:
    _, _, paused = imported(module)
    enabled, frozen, unpaused = imported(module, "runtime first")
    assert enabled and frozen < 1_000  # a runtime imported first ends the phase: nothing paused, nothing frozen
    assert paused * 5 < unpaused, (paused, unpaused)
