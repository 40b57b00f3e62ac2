"""The documented signature scheme: what we sign, a merchant verifies; anything changed fails."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain.signature import SignatureMismatch, sign, verify

NOW = 1_800_000_000


@given(body=st.binary(max_size=512), secret=st.text(min_size=1, max_size=40))
def test_a_signed_body_verifies_with_its_secret(body: bytes, secret: str) -> None:
    assert verify(sign([secret], NOW, body), body, secret, now=NOW + 10) == NOW


@given(body=st.binary(min_size=1, max_size=512), flip=st.integers(min_value=0))
def test_a_tampered_body_fails(body: bytes, flip: int) -> None:
    header = sign(["whsec_a"], NOW, body)
    index = flip % len(body)
    tampered = body[:index] + bytes([body[index] ^ 1]) + body[index + 1 :]
    with pytest.raises(SignatureMismatch, match="no v1 signature matches"):
        verify(header, tampered, "whsec_a", now=NOW)


def test_during_a_rotation_either_secret_verifies_and_a_third_does_not() -> None:
    header = sign(["whsec_new", "whsec_old"], NOW, b"{}")
    assert verify(header, b"{}", "whsec_old", now=NOW) == verify(header, b"{}", "whsec_new", now=NOW) == NOW
    with pytest.raises(SignatureMismatch):
        verify(header, b"{}", "whsec_other", now=NOW)


def test_an_old_or_altered_timestamp_fails() -> None:
    header = sign(["whsec_a"], NOW, b"{}")
    with pytest.raises(SignatureMismatch, match="more than 300 s"):
        verify(header, b"{}", "whsec_a", now=NOW + 301)
    with pytest.raises(SignatureMismatch, match="no v1 signature matches"):
        verify(header.replace(f"t={NOW}", f"t={NOW + 1}"), b"{}", "whsec_a", now=NOW)
    with pytest.raises(SignatureMismatch, match="no timestamp"):
        verify("v1=abc", b"{}", "whsec_a", now=NOW)
