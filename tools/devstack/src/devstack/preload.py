"""What the execution environments' fork server imports once: the libraries and the services' modules, but no
function's init. Each environment then runs only its entry point's own init (its `runtime` module: logger,
container, clients; its `entrypoints` module: Powertools' resolver and routes), as Lambda's init does after
the imports. Deployed, the imports are part of the cold start (docs/snapstart.md); locally they are shared, so
dozens of environments fit on two cores. Under a PEX every wheel is its own sys.path entry, and importing
the whole stack per environment would cost over a second of CPU."""

from __future__ import annotations

import gc
import importlib
import pkgutil

LIBRARIES = (
    "boto3",
    "botocore.session",
    "pydantic",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.batch",
    "opentelemetry.sdk.trace",
    "opentelemetry.instrumentation.botocore",
    "stripe",
    "devstack.environment",
)
PACKAGES = ("payments_shared", "initializer", "finalizer", "ledger", "wallet")
INIT = (".runtime", ".entrypoints")  # a function's init: run by each environment, never here


def _modules(package: str) -> list[str]:
    root = importlib.import_module(package)
    found = pkgutil.walk_packages(root.__path__, f"{package}.")
    return [m.name for m in found if not any(part in m.name for part in INIT)]


for name in (*LIBRARIES, *(m for p in PACKAGES for m in _modules(p))):
    importlib.import_module(name)
gc.freeze()  # what the fork copies stays out of every environment's collections (and pages unshared)
