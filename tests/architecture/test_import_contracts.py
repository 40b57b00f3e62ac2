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


def contracts(kernel: str, services: list[str]) -> str:
    forbidden = [
        f"[importlinter:contract:{svc}-domain-is-pure]\n"
        f"name = {svc}.domain imports no infrastructure\n"
        "type = forbidden\n"
        f"source_modules = {svc}.domain\n"
        f"forbidden_modules = {_lines(INFRASTRUCTURE)}\n"
        for svc in services
        if importlib.util.find_spec(f"{svc}.domain") is not None
    ]
    no_adapters = [
        f"[importlinter:contract:{svc}-core-knows-no-adapter]\n"
        f"name = {svc}.app and {svc}.domain import no adapter and no HTTP problem\n"
        "type = forbidden\n"
        f"source_modules = {_lines([m for m in (f'{svc}.app', f'{svc}.domain') if importlib.util.find_spec(m)])}\n"
        f"forbidden_modules = {_lines(present([f'{svc}.adapters', f'{kernel}.problems']))}\n"
        for svc in services
        if importlib.util.find_spec(f"{svc}.adapters") is not None
    ]
    independence = (
        ["[importlinter:contract:services-independent]\nname = services are independent\n"
         f"type = independence\nmodules = {_lines(services)}\n"]
        if len(services) > 1 else []
    )  # fmt: skip
    kernel_first = (
        [f"[importlinter:contract:kernel-imports-no-service]\nname = {kernel} imports no service\n"
         f"type = forbidden\nsource_modules = {kernel}\nforbidden_modules = {_lines(services)}\n"]
        if services else []
    )  # fmt: skip
    # What domains may import from the kernel must itself be pure.
    pure_kernel = [m for m in (f"{kernel}.{name}" for name in PURE_KERNEL) if importlib.util.find_spec(m)]
    kernel_pure = [
        f"[importlinter:contract:kernel-values-are-pure]\nname = {kernel} value modules import no infrastructure\n"
        f"type = forbidden\nsource_modules = {_lines(pure_kernel)}\nforbidden_modules = {_lines(INFRASTRUCTURE)}\n"
    ] if pure_kernel else []
    header = f"[importlinter]\nroot_packages =\n    {kernel}\n" + "".join(f"    {s}\n" for s in services)
    header += "include_external_packages = True\n"
    return "\n".join([header, *kernel_pure, *forbidden, *no_adapters, *independence, *kernel_first])


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
