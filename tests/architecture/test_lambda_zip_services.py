"""Each service's lean zip keeps botocore's models for exactly the AWS services its code builds clients for.

`lean_awslambda(botocore_services=[…])` in services/<name>/BUILD prunes the rest; this keeps the list true
to the code: a client the code builds but the zip lacks would fail only at run time, in AWS.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SERVICES = ["initializer", "finalizer", "ledger", "wallet", "notifier"]


def clients_built(service: str) -> set[str]:
    """Service names passed to traced_client, called directly or through a dependency-injector provider."""
    names: set[str] = set()
    for path in Path(f"services/{service}/src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            args = node.args
            if isinstance(node.func, ast.Name) and node.func.id == "traced_client":
                names |= {str(a.value) for a in args[:1] if isinstance(a, ast.Constant)}
            elif args and isinstance(args[0], ast.Name) and args[0].id == "traced_client":
                names |= {str(a.value) for a in args[1:2] if isinstance(a, ast.Constant)}
    return names


def declared(service: str) -> set[str]:
    match = re.search(r"botocore_services=\[([^\]]*)\]", Path(f"services/{service}/BUILD").read_text())
    assert match, f"services/{service}/BUILD has no lean_awslambda with botocore_services"
    return set(re.findall(r'"([a-z0-9-]+)"', match.group(1)))


@pytest.mark.parametrize("service", SERVICES)
def test_the_zip_keeps_models_for_exactly_the_clients_its_code_builds(service: str) -> None:
    assert clients_built(service), "the scan finds the container's clients"
    assert declared(service) == clients_built(service)
