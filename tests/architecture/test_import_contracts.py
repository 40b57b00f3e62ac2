"""Import contracts (import-linter) that keep the hexagonal architecture honest.

- a service's `domain` package imports no infrastructure library;
- a service's use cases (`app`) and `domain` import none of its adapters (only `container` picks adapters),
  nor the HTTP problems (domain errors carry no status: the API maps them);
- no service imports another service;
- the shared kernel imports no service.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

INFRASTRUCTURE = ["boto3", "botocore", "opentelemetry", "aws_lambda_powertools", "dependency_injector"]
PURE_KERNEL = ["money", "ids", "events", "problems", "cards", "domain_events"]
SERVICES = ["initializer", "finalizer", "ledger", "wallet"]


def present(packages: list[str]) -> list[str]:
    return [p for p in packages if importlib.util.find_spec(p) is not None]


def _lines(items: list[str]) -> str:
    return "".join(f"\n    {item}" for item in items)


def _forbidden(contract: str, name: str, sources: list[str], forbidden: list[str]) -> str:
    return (
        f"[importlinter:contract:{contract}]\nname = {name}\ntype = forbidden\n"
        f"source_modules = {_lines(sources)}\nforbidden_modules = {_lines(forbidden)}\n"
    )


def contracts(kernel: str, services: list[str]) -> str:
    domain_pure = [
        _forbidden(
            f"{svc}-domain-is-pure", f"{svc}.domain imports no infrastructure", [f"{svc}.domain"], INFRASTRUCTURE
        )
        for svc in services
        if present([f"{svc}.domain"])
    ]
    no_adapters = [
        _forbidden(
            f"{svc}-core-knows-no-adapter",
            f"{svc}.app and {svc}.domain import no adapter and no HTTP problem",
            present([f"{svc}.app", f"{svc}.domain"]),
            present([f"{svc}.adapters", f"{kernel}.problems"]),
        )
        for svc in services
        if present([f"{svc}.adapters"])
    ]
    independence = (
        [
            "[importlinter:contract:services-independent]\nname = services are independent\n"
            f"type = independence\nmodules = {_lines(services)}\n"
        ]
        if len(services) > 1
        else []
    )
    kernel_first = (
        [_forbidden("kernel-imports-no-service", f"{kernel} imports no service", [kernel], services)]
        if services
        else []
    )
    # What domains may import from the kernel must itself be pure.
    pure_kernel = present([f"{kernel}.{name}" for name in PURE_KERNEL])
    kernel_pure = (
        [
            _forbidden(
                "kernel-values-are-pure",
                f"{kernel} value modules import no infrastructure",
                pure_kernel,
                INFRASTRUCTURE,
            )
        ]
        if pure_kernel
        else []
    )
    header = f"[importlinter]\nroot_packages =\n    {kernel}\n" + "".join(f"    {s}\n" for s in services)
    header += "include_external_packages = True\n"
    return "\n".join([header, *kernel_pure, *domain_pure, *no_adapters, *independence, *kernel_first])


def run(config: Path, text: str) -> int:
    config.write_text(text)
    return lint_imports(config_filename=str(config), no_cache=True)


def test_the_codebase_keeps_its_import_contracts(tmp_path: Path) -> None:
    services = present(SERVICES)
    assert run(tmp_path / "contracts.ini", contracts("payments_shared", services)) == 0


def test_a_domain_importing_boto3_or_another_service_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A throwaway codebase with both violations proves the contracts can fail.
    for package, body in {
        "kernel_x": "",
        "kernel_x/money": "",
        "svc_a": "",
        "svc_a/domain": "import boto3\n",
        "svc_b": "import svc_a\n",
        "svc_b/adapters": "",
        "svc_b/app": "import svc_b.adapters\n",
    }.items():
        (tmp_path / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / package / "__init__.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    text = contracts("kernel_x", ["svc_a", "svc_b"])
    assert "svc_a.domain imports no infrastructure" in text and "services are independent" in text
    assert "svc_b.app and svc_b.domain import no adapter and no HTTP problem" in text
    assert "kernel_x.money" in text
    assert run(tmp_path / "contracts.ini", text) == 1
    assert run(tmp_path / "c2.ini", text.replace("import boto3", "")) == 1
    (tmp_path / "svc_a" / "domain" / "__init__.py").write_text("")
    (tmp_path / "svc_b" / "__init__.py").write_text("")
    assert run(tmp_path / "c2b.ini", text) == 1  # svc_b.app still imports its adapter
    (tmp_path / "svc_b" / "app" / "__init__.py").write_text("")
    for module in [m for m in sys.modules if m.startswith(("svc_", "kernel_x"))]:
        del sys.modules[module]
    assert run(tmp_path / "c3.ini", text) == 0
