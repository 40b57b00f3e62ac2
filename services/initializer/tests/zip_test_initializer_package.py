"""The Lambda zip imports under python3.12 with nothing but the zip on the path."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ZIP = Path("services.initializer/lambda.zip")


def test_zip_imports_every_entry_point_in_a_bare_python312(tmp_path: Path) -> None:
    assert sys.version_info[:2] == (3, 12)
    with zipfile.ZipFile(ZIP) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path)
    assert "lambda_function.py" in names and "initializer/handler.py" in names
    assert not any(n.startswith(("moto/", "pytest/", "hypothesis/", "payments_testing/")) for n in names)
    script = (
        "import sys; sys.path[:0] = [sys.argv[1]]\n"
        "import lambda_function\n"
        "from initializer.handler import handler, relay_handler, outcome_handler\n"
        "from initializer.handler import container\n"
        "container.app(); container.relay()\n"  # builds clients: no network needed
        "assert callable(lambda_function.handler)\n"
        "print('ok')\n"
    )
    env = {"AWS_DEFAULT_REGION": "eu-west-1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(  # - our own interpreter, fixed arguments
        [sys.executable, "-S", "-E", "-c", script, str(tmp_path)], capture_output=True, text=True, env=env,
        timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"
