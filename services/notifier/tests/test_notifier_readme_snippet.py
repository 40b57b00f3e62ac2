"""The verification snippet README.md gives merchants: run exactly as written, against a delivery we signed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from notifier.domain.signature import sign

MARKER = "<!-- webhook-verification-snippet -->"
BODY = b'{"id":"evt_0001764064800000_0123456789abcdef","object":"event","type":"payment.succeeded"}'


@pytest.fixture(scope="module")
def verify_webhook() -> Callable[..., bool]:
    readme = Path("README.md").read_text()
    after = readme.split(MARKER, 1)[1]
    match = re.match(r"\s*```python\n(.*?)```", after, re.DOTALL)
    assert match, "the snippet must follow its marker as a python code block"
    snippet = match.group(1)
    assert len(snippet.strip().splitlines()) <= 12  # a few lines, as the issue asks
    namespace: dict[str, object] = {"__builtins__": __builtins__}
    exec(compile(snippet, "README.md snippet", "exec"), namespace)  # noqa: S102 - the documented code itself
    function = namespace["verify_webhook"]
    assert callable(function)
    return function


def test_a_delivery_we_signed_verifies_with_the_snippet(verify_webhook: Callable[..., bool]) -> None:
    header = sign(["whsec_merchant"], int(time.time()), BODY)
    assert verify_webhook(BODY, header, "whsec_merchant")


def test_during_a_rotation_the_snippet_verifies_with_either_secret(verify_webhook: Callable[..., bool]) -> None:
    header = sign(["whsec_new", "whsec_old"], int(time.time()), BODY)
    assert verify_webhook(BODY, header, "whsec_old") and verify_webhook(BODY, header, "whsec_new")
    assert not verify_webhook(BODY, header, "whsec_other")


def test_a_tampered_body_fails_the_snippet(verify_webhook: Callable[..., bool]) -> None:
    header = sign(["whsec_merchant"], int(time.time()), BODY)
    tampered = BODY.replace(b"payment.succeeded", b"payment.failed")
    assert not verify_webhook(tampered, header, "whsec_merchant")


def test_an_old_or_forged_timestamp_fails_the_snippet(verify_webhook: Callable[..., bool]) -> None:
    now = int(time.time())
    assert not verify_webhook(BODY, sign(["whsec_merchant"], now - 301, BODY), "whsec_merchant")
    forged = sign(["whsec_merchant"], now - 10, BODY).replace(f"t={now - 10}", f"t={now}")  # signature over another t
    assert not verify_webhook(BODY, forged, "whsec_merchant")
    assert not verify_webhook(BODY, "v1=" + "0" * 64, "whsec_merchant")
