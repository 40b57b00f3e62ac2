"""The composition root builds only what an entry point uses."""

from __future__ import annotations

from typing import Any

from dependency_injector import providers

from initializer.container import build_container
from payments_testing.aws import fake_credentials


class RecordingKms:
    def generate_mac(self, **request: Any) -> dict[str, bytes]:
        return {"Mac": b"\x01\x02"}


def test_the_app_is_built_without_a_kms_client_until_a_card_is_fingerprinted() -> None:
    fake_credentials()
    container = build_container({})
    made: list[RecordingKms] = []

    def make_kms() -> RecordingKms:
        made.append(RecordingKms())
        return made[-1]

    container.kms.override(providers.Callable(make_kms))

    container.app()  # what the outcome projector's cold start builds
    assert made == []

    vault = container.vault()
    assert vault.fingerprint("4242424242424242") == "0102"
    assert vault.fingerprint("5555555555554444") == "0102"
    assert len(made) == 1  # asked once, then kept
