"""Check a Pants-built Lambda zip: it imports under python3.12 with nothing but the zip on the path, builds
the clients its container uses, and carries no botocore model it does not use."""

from __future__ import annotations

import gzip
import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

# Test and local-only code must never ship in a function's zip.
FORBIDDEN_PREFIXES = ("moto/", "pytest/", "_pytest/", "hypothesis/", "payments_testing/", "fake_psp/")
MAX_ZIP_BYTES = 12_000_000  # compressed
# A service the zip's functions never call (SQS for most): if its client can be built, botocore's models were not
# pruned (lean_awslambda).
UNUSED_CLIENT_FAILS = """
import botocore.exceptions, botocore.session
try:
    botocore.session.get_session().create_client("{service}", region_name="eu-west-1")
except botocore.exceptions.UnknownServiceError:
    pass
else:
    raise SystemExit("an {service} client was built: the zip carries botocore models its code never calls")
"""


# The zip's sources the process imported, relative to the unpacked zip (its first argument), as JSON.
LOADED_SOURCES = """
import json, os
_root = sys.argv[1]
_files = (getattr(m, "__file__", None) or "" for m in list(sys.modules.values()))
print(json.dumps(sorted(os.path.relpath(f, _root) for f in _files if f.startswith(_root) and f.endswith(".py"))))
"""


def assert_botocore_data_pruned(unpacked: Path, names: list[str]) -> None:
    """botocore/data holds the kept services' models and no other service's directory (botocore lists every
    directory there each time it loads a model), and endpoints.json names exactly those services in each
    partition (every botocore session parses it whole when it builds its first client)."""
    data = "botocore/data/"
    models = {n.split("/")[2] for n in names if n.startswith(data) and n.endswith(("/service-2.json", ".json.gz"))}
    assert models, "the zip carries botocore models"
    directories = {n.split("/")[2] for n in names if n.startswith(data) and n.count("/") > 2}
    assert directories == models, f"directories of pruned services left: {sorted(directories - models)}"
    prefixes = set()
    for model in (unpacked / data).glob("*/*/service-2.json*"):
        raw = model.read_bytes()
        prefixes.add(json.loads(gzip.decompress(raw) if model.suffix == ".gz" else raw)["metadata"]["endpointPrefix"])
    endpoints = json.loads((unpacked / data / "endpoints.json").read_bytes())
    aws = next(p for p in endpoints["partitions"] if p["partition"] == "aws")
    assert set(aws["services"]) == prefixes, "endpoints.json keeps exactly the zip's services"
    assert all(set(p["services"]) <= prefixes for p in endpoints["partitions"])


def assert_zip_imports(
    zip_path: Path,
    package: str,
    statements: list[str],
    tmp_path: Path,
    unused_service: str = "sqs",
    ships_boto3: bool = False,
    bytecode: bool = False,
) -> list[str]:
    """Unpack the zip, run `statements` in a bare python3.12 (-S -E: no site-packages, no env paths).

    Clients come from botocore (payments_shared.aws_clients): unless `ships_boto3` (a library of the zip needs
    it), the zip carries no boto3 nor s3transfer, so nothing can import them. With `bytecode` (lean_awslambda's
    option), every module the statements imported from the zip has its .pyc in the zip: Lambda's code directory
    is read-only, so a module without one is compiled again at every cold start."""
    assert sys.version_info[:2] == (3, 12), "the Lambda runtime is python3.12"
    assert zip_path.stat().st_size <= MAX_ZIP_BYTES, f"{zip_path}: {zip_path.stat().st_size / 1e6:.1f} MB"
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path)
    assert "lambda_function.py" in names and f"{package}/runtime.py" in names
    assert not [n for n in names if n.startswith(FORBIDDEN_PREFIXES)]
    assert not [n for n in names if n.endswith((".pyi", ".c", ".h", ".pyx"))], "sources and stubs never run"
    if not ships_boto3:
        assert not [n for n in names if n.startswith(("boto3/", "s3transfer/"))], "boto3 shipped (unused_packages)"
    assert_botocore_data_pruned(tmp_path, names)
    # Terraform sets PYDANTIC_DISABLE_PLUGINS=__all__ on every function: right only while no plugin ships.
    entry_points = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    plugins = [n for n in entry_points if "[pydantic]" in (tmp_path / n).read_text()]
    assert not plugins, f"a pydantic plugin ships: {plugins}"
    # The statements run first, so they can check what an entry point alone has imported.
    script = "\n".join(
        [
            "import sys; sys.path[:0] = [sys.argv[1]]",
            *statements,
            "import lambda_function",
            UNUSED_CLIENT_FAILS.format(service=unused_service),
            LOADED_SOURCES,
            "print('ok')",
        ]
    )
    result = subprocess.run(  # - our own interpreter, fixed arguments
        [sys.executable, "-S", "-E", "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"AWS_DEFAULT_REGION": "eu-west-1", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
    if bytecode:
        loaded = json.loads(result.stdout.strip().splitlines()[-2])
        assert len(loaded) > 100, "the script reports the modules it loaded from the zip"
        compiled = set(names)
        uncompiled = [p for p in loaded if importlib.util.cache_from_source(p) not in compiled]
        assert not uncompiled, f"compiled at every cold start (no .pyc in the zip): {uncompiled[:10]}"
    return names
