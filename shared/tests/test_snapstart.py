"""SnapStart: copies restored from one snapshot stop sharing random state, clients and container singletons."""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Callable, Iterator

import pytest

from payments_shared import snapstart
from payments_shared.aws_clients import client
from payments_testing.aws import fake_credentials


@pytest.fixture(autouse=True)
def no_resets_left() -> Iterator[None]:
    yield
    snapstart._resets.clear()


def test_two_copies_of_one_snapshot_draw_different_numbers_after_restore() -> None:
    random.seed(42)
    snapshot = random.getstate()
    copies = []
    for _ in range(2):
        random.setstate(snapshot)  # every copy resumes from the snapshot's memory
        snapstart.restore()
        copies.append([random.getrandbits(64) for _ in range(4)])  # e.g. trace ids
    assert copies[0] != copies[1]
    random.setstate(snapshot)
    unrestored = [random.getrandbits(64) for _ in range(4)]
    random.setstate(snapshot)
    assert unrestored == [random.getrandbits(64) for _ in range(4)]  # without the hook they would collide


def test_restore_drops_cached_clients_and_runs_the_services_resets() -> None:
    fake_credentials()
    before, ran = client("dynamodb"), []
    snapstart.install(lambda: ran.append("container"))
    snapstart.restore()
    assert client("dynamodb") is not before and ran == ["container"]


def test_the_hook_is_registered_where_the_runtime_provides_it(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[Callable[[], None]] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    assert snapstart.install() is True and registered == [snapstart.restore]
    monkeypatch.delitem(sys.modules, "snapshot_restore_py")
    assert snapstart.install() is False  # tests and the local run: nothing to register with
