"""Each service's lean zip keeps botocore's models for exactly the AWS services its code builds clients for, and in
those models exactly the operations its code calls.

`lean_awslambda(botocore_services=[…], botocore_operations=[…])` in services/<name>/BUILD prunes the rest; this
keeps the lists true to the code: a client or a client method the code uses but the zip lacks would fail only at
run time, in AWS.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

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


def declared(service: str, field: str = "botocore_services") -> set[str]:
    match = re.search(rf"{field}=\[([^\]]*)\]", Path(f"services/{service}/BUILD").read_text())
    assert match, f"services/{service}/BUILD has no lean_awslambda with {field}"
    return set(re.findall(r'"([A-Za-z0-9.-]+)"', match.group(1)))


def operations_called(service: str) -> set[str]:
    """`service.Operation` for every call in the service's code or the kernel's whose method name is an operation of
    a kept service's model (botocore's snake_case form): a superset, since a name like `query` may be another
    object's method, which only keeps an operation more."""
    session = botocore.session.get_session()
    by_method: dict[str, set[str]] = {}
    for client in declared(service):
        for operation in session.get_service_model(client).operation_names:
            by_method.setdefault(xform_name(operation), set()).add(f"{client}.{operation}")
    found: set[str] = set()
    for root in (Path(f"services/{service}/src"), Path("shared/src")):
        for path in root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and node.attr == "_make_api_call":
                    pytest.fail(f"{path} calls an operation by name: the scan cannot see which")
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    found |= by_method.get(node.func.attr, set())
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_the_zip_keeps_models_for_exactly_the_clients_its_code_builds(service: str) -> None:
    assert clients_built(service), "the scan finds the container's clients"
    assert declared(service) == clients_built(service)


@pytest.mark.parametrize("service", SERVICES)
def test_the_zip_keeps_exactly_the_operations_its_code_calls(service: str) -> None:
    assert operations_called(service) >= {"dynamodb.TransactWriteItems", "dynamodb.GetItem"}, "the scan finds calls"
    assert declared(service, "botocore_operations") == operations_called(service)
