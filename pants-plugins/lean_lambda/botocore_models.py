"""A botocore service model cut down to the operations a function calls.

botocore parses a client's whole `service-2.json` when the client is built (SSM's: 154 operations, 1,360 shapes,
~10 ms on this machine for one GetParameter) and gives the client a method per operation. This keeps the
operations named, every shape they reach, and every exception shape (a client's `exceptions` lists all of the
model's; code catches them by name), and drops the `documentation` strings (docstrings, built only when read).
What botocore serializes and parses for a kept operation is unchanged: the shapes it reads are the same objects.

Pure Python 3.9 (Pants runs the plugin), no Pants import: tested on its own against the real models.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from typing import Any

DOCS = ("documentation", "documentationUrl")


def _referenced(node: Any) -> Iterable[str]:
    """Shape names a shape or operation refers to: members, list members, map keys and values, input, output and
    errors."""
    for key in ("member", "key", "value", "input", "output"):
        if isinstance(node.get(key), dict):
            yield node[key]["shape"]
    for member in node.get("members", {}).values():
        yield member["shape"]
    for error in node.get("errors", ()):
        yield error["shape"]


def _without_docs(node: dict[str, Any]) -> dict[str, Any]:
    """A shape, operation or member reference without its documentation; member names are data, never dropped."""
    lean = {k: v for k, v in node.items() if k not in DOCS}
    if "members" in lean:
        lean["members"] = {name: _without_docs(ref) for name, ref in lean["members"].items()}
    for key in ("member", "key", "value", "input", "output"):
        if isinstance(lean.get(key), dict):
            lean[key] = _without_docs(lean[key])
    if "errors" in lean:
        lean["errors"] = [_without_docs(e) for e in lean["errors"]]
    return lean


def keep_operations(model: dict[str, Any], operations: Iterable[str]) -> dict[str, Any]:
    """The model with only `operations` (each must exist) and the shapes they and the model's exceptions reach."""
    wanted = list(operations)
    missing = sorted(set(wanted) - set(model["operations"]))
    if missing:
        raise ValueError(f"{model['metadata'].get('serviceId')} has no operation {', '.join(missing)}")
    kept_operations = {name: op for name, op in model["operations"].items() if name in wanted}
    shapes = model["shapes"]
    todo = [s for op in kept_operations.values() for s in _referenced(op)]
    todo += [name for name, shape in shapes.items() if shape.get("exception")]
    reached: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(_referenced(shapes[name]))
    lean = {k: v for k, v in model.items() if k not in ("operations", "shapes", *DOCS)}
    lean["operations"] = {name: _without_docs(op) for name, op in kept_operations.items()}
    lean["shapes"] = {name: _without_docs(shape) for name, shape in shapes.items() if name in reached}
    return lean


def prune_model_file(content: bytes, gzipped: bool, operations: Iterable[str]) -> bytes:
    """A service-2.json (gzipped or not, as botocore ships it) rewritten with keep_operations; compact JSON in the
    source's key order, gzip without a timestamp: the same input gives the same bytes."""
    model = json.loads(gzip.decompress(content) if gzipped else content)
    lean = json.dumps(keep_operations(model, operations), separators=(",", ":")).encode()
    return gzip.compress(lean, mtime=0) if gzipped else lean
