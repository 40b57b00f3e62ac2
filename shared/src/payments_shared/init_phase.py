"""A function's init phase without the cyclic garbage collector's passes.

What a function's init builds (modules, classes, pydantic's schemas, the container) lives as long as its execution
environment, so the collector's passes over it during init free nothing: a ledger consumer's init made 134 of them,
one a full pass over ~100,000 objects (~20 ms of its ~260 ms), and left ~500 unreachable objects in all.

A service's entry points package pauses the collector when Lambda imports the handler's module (`pause`); the
service's runtime, which every entry point imports, ends the phase (`resume`): what init built so far is moved out
of the collector's sight (gc.freeze, the permanent generation) and the collector runs again, over what is allocated
from then on — so a warm invocation's full pass no longer walks the init's objects either.

Once per process: `pause` after `resume`, or in a process that imported a runtime first (a test, the local run's
tools), does nothing.
"""

from __future__ import annotations

import gc

_phase = "before"  # "paused" while an entry point's init runs; "over" once a runtime has ended it


def pause() -> None:
    global _phase
    if _phase == "before" and gc.isenabled():
        gc.disable()
        _phase = "paused"


def resume() -> None:
    global _phase
    if _phase == "paused":
        gc.freeze()
        gc.enable()
    _phase = "over"
