"""SnapStart: what a copy restored from a snapshot must not share with the other copies of that snapshot.

Lambda snapshots one initialized execution environment and restores every new one from it, so all copies
start with the same memory. After a restore: `random` is reseeded (OpenTelemetry's trace and span ids, the
wallet's shard picks and the retry jitter all draw from it: identical ids, and retries that collide again),
the cached AWS clients are dropped (their pooled connections were opened before the snapshot), and each
service's container drops its singletons (clients, the PSP's HTTP session, cached keys), rebuilt on the
first invocation. `uuid4` and `secrets` read the OS's randomness and need nothing.

The hook is registered through `snapshot_restore_py`, which Lambda's python3.12 runtime provides; where it
is absent (tests, the local run) nothing is registered and `restore()` can be called directly.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from payments_shared import aws_clients

_resets: list[Callable[[], Any]] = []


def restore() -> None:
    random.seed()  # from os.urandom: each copy its own sequence
    aws_clients.reset()
    for reset in _resets:
        reset()


def install(*resets: Callable[[], Any]) -> bool:
    """Run `restore()` (and these resets) after every SnapStart restore; False where the runtime has no hooks."""
    _resets.extend(resets)
    try:
        from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]
    except ImportError:
        return False
    register_after_restore(restore)
    return True
