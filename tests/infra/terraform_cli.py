"""Running the terraform binary from tests: found on PATH (a clear failure when missing), one shared
plugin cache so each init links the provider instead of copying ~600 MB."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

_PLUGIN_CACHE = tempfile.mkdtemp(prefix="tf-plugins-")


def terraform_binary() -> str:
    found = shutil.which("terraform") or next(
        (p for p in ("/usr/local/bin/terraform", "/usr/bin/terraform") if Path(p).exists()), None
    )
    if found is None:
        pytest.fail("terraform is not installed: these tests need Terraform >= 1.7 on PATH")
    return found


def run_terraform(args: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_PLUGIN_CACHE_DIR": _PLUGIN_CACHE, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(
        [terraform_binary(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
