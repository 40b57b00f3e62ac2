"""Import contracts (import-linter) that keep the hexagonal architecture honest.

- a service's `domain` package imports no infrastructure library;
- a service's use cases (`app`) and `domain` import none of its adapters (only `container` picks adapters),
  nor the HTTP problems (domain errors carry no status: the API maps them);
- a service's modules form layers, each importing only those below it (directly or through others):
  entrypoints > http_models > runtime > container > adapters > rows > app > ports > domain. So the domain
  imports nothing of its service, the use cases never reach an adapter, a row layout or an entry point, and
  nothing imports an entry point;
- a service's entry points (one module per Lambda function) import none of each other, so each function
  loads only what its trigger needs;
- no service imports another service;
- the shared kernel imports no service.

Cycles inside a layer are test_import_cycles.py's.
"""

from __future__ import annotations

import importlib.util
import pkgutil
import sys
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

INFRASTRUCTURE = ["boto3", "botocore", "opentelemetry", "aws_lambda_powertools", "dependency_injector"]
PURE_KERNEL = ["money", "ids", "events", "problems", "cards", "domain_events"]
SERVICES = ["initializer", "finalizer", "ledger", "wallet", "notifier"]
# A service's modules, highest first; a service holds those it needs.
LAYERS = ["entrypoints", "http_models", "runtime", "container", "adapters", "rows", "app", "ports", "domain"]


def present(packages: list[str]) -> list[str]:
    return [p for p in packages if importlib.util.find_spec(p) is not None]


def _lines(items: list[str]) -> str:
    return "".join(f"\n    {item}" for item in items)


def _forbidden(contract: str, name: str, sources: list[str], forbidden: list[str]) -> str:
    return (
        f"[importlinter:contract:{contract}]\nname = {name}\ntype = forbidden\n"
        f"source_modules = {_lines(sources)}\nforbidden_modules = {_lines(forbidden)}\n"
    )


def _layers(svc: str) -> list[str]:
    layers = present([f"{svc}.{layer}" for layer in LAYERS])
    if len(layers) < 2:
        return []
    return [
        f"[importlinter:contract:{svc}-layers]\nname = {svc}'s layers: "
        + " > ".join(layer.removeprefix(f"{svc}.") for layer in layers)
        + f"\ntype = layers\nlayers = {_lines(layers)}\n"
    ]


def _functions_independent(svc: str) -> list[str]:
    if not present([f"{svc}.entrypoints"]):
        return []
    package = importlib.import_module(f"{svc}.entrypoints")
    functions = sorted(f"{svc}.entrypoints.{m.name}" for m in pkgutil.iter_modules(package.__path__))
    if len(functions) < 2:
        return []
    return [
        f"[importlinter:contract:{svc}-functions-independent]\nname = {svc}'s entry points import none of each"
        f" other\ntype = independence\nmodules = {_lines(functions)}\n"
    ]


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
    layers = [contract for svc in services for contract in [*_layers(svc), *_functions_independent(svc)]]
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
    return "\n".join([header, *kernel_pure, *domain_pure, *no_adapters, *layers, *independence, *kernel_first])


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


def test_the_contracts_name_each_services_layers_and_functions() -> None:
    text = contracts("payments_shared", present(SERVICES))
    for svc in present(SERVICES):
        assert f"[importlinter:contract:{svc}-layers]" in text
        assert f"{svc}'s layers: entrypoints > " in text and " > app > " in text and text.count(f"{svc}.domain") >= 2
        assert f"[importlinter:contract:{svc}-functions-independent]" in text
    assert "initializer.entrypoints.outcome" in text and "ledger.entrypoints.totals" in text


def test_an_import_up_the_layers_or_between_entry_points_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        "kernel_y": "",
        "svc_c": "",
        "svc_c/domain": "",
        "svc_c/ports": "import svc_c.domain\n",
        "svc_c/app": "import svc_c.ports\n",
        "svc_c/adapters": "import svc_c.domain\n",
        "svc_c/container": "import svc_c.adapters\nimport svc_c.app\n",
        "svc_c/runtime": "import svc_c.container\n",
        "svc_c/entrypoints": "",
        "svc_c/entrypoints/api": "import svc_c.runtime\n",
        "svc_c/entrypoints/relay": "import svc_c.runtime\n",
    }
    for package, body in files.items():
        (tmp_path / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / package / "__init__.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)

    def check(name: str, changes: dict[str, str]) -> int:
        for package, body in {**files, **changes}.items():
            (tmp_path / package / "__init__.py").write_text(body)
        for module in [m for m in sys.modules if m.startswith(("svc_c", "kernel_y"))]:
            del sys.modules[module]
        return run(tmp_path / f"{name}.ini", contracts("kernel_y", ["svc_c"]))

    text = contracts("kernel_y", ["svc_c"])
    assert "svc_c's layers: entrypoints > runtime > container > adapters > app > ports > domain" in text
    assert check("clean", {}) == 0
    # The domain reaching up through a lazy import, as the old handler reached the API.
    assert check("domain-up", {"svc_c/domain": "def f():\n    import svc_c.runtime\n"}) == 1
    assert check("app-to-adapter", {"svc_c/app": "import svc_c.adapters\n"}) == 1
    assert check("into-entrypoints", {"svc_c/container": "import svc_c.entrypoints.api\n"}) == 1
    assert check("function-to-function", {"svc_c/entrypoints/relay": "import svc_c.entrypoints.api\n"}) == 1
