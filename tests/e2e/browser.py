"""Headless Chromium (Debian package `chromium`): screenshots and rendered DOM of local pages."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        raise RuntimeError("headless Chromium is missing: apt-get install chromium (.ci/run installs it)")
    return found


def _run(args: list[str]) -> str:
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            env={"HOME": profile, "PATH": "/usr/bin:/bin"},
        )
    return result.stdout


def screenshot(url: str, path: Path, width: int = 1400, height: int = 1000) -> None:
    _run([f"--screenshot={path}", f"--window-size={width},{height}", url])


def rendered_dom(url: str) -> str:
    return _run(["--dump-dom", url])
