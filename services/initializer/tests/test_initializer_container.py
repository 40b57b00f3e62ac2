"""The composition root builds only what an entry point uses, and wires the vault to the configured KMS keys."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from dependency_injector import providers
from moto import mock_aws

from initializer.adapters.kms_vault import KmsCardVault
from initializer.container import build_container
from payments_shared.sealed_cards import KmsCardCipher, encryption_context
from payments_testing.aws import aws_client, fake_credentials

CARD = "4242424242424242"


@pytest.fixture
def kms() -> Iterator[dict[str, str]]:
    """moto's KMS with a data key and a fingerprint (HMAC) key under aliases of this test's own."""
    fake_credentials()
    with mock_aws():
        client = aws_client("kms")
        data = client.create_key()["KeyMetadata"]["Arn"]
        client.create_alias(AliasName="alias/test-card-data", TargetKeyId=data)
        fingerprint = client.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
        client.create_alias(AliasName="alias/test-card-fingerprint", TargetKeyId=fingerprint)
        yield {"data": data, "fingerprint": fingerprint}


def test_the_vault_builds_its_kms_client_at_first_use_and_uses_the_configured_keys(kms: dict[str, str]) -> None:
    container = build_container(
        {"CARD_DATA_KEY_ID": "alias/test-card-data", "CARD_FINGERPRINT_KEY_ID": "alias/test-card-fingerprint"}
    )
    made: list[Any] = []

    def make_kms() -> Any:
        made.append(aws_client("kms"))
        return made[-1]

    container.kms.override(providers.Callable(make_kms))

    container.app()  # what the outcome projector's cold start builds
    assert made == []

    vault = container.vault()
    assert isinstance(vault, KmsCardVault)
    fingerprint = vault.fingerprint(CARD)
    assert vault.fingerprint(CARD) == fingerprint != vault.fingerprint("5555555555554444")
    assert len(made) == 1  # asked once, then kept
    # The MAC is the configured fingerprint key's, not any other key's.
    checked = made[0].verify_mac(
        KeyId=kms["fingerprint"], Message=CARD.encode(), MacAlgorithm="HMAC_SHA_256", Mac=bytes.fromhex(fingerprint)
    )
    assert checked["MacValid"] is True

    # Sealed under the configured data key and bound to the order: what the finalizer's opener reads.
    details = {"card_number": CARD, "expiry_month": 12, "expiry_year": 2031, "holder_name": "A"}
    sealed = vault.seal(details, "order-1")
    assert KmsCardCipher(made[0]).open(sealed, "order-1") == details
    blob = base64.urlsafe_b64decode(sealed.removeprefix("kms1."))
    opened = made[0].decrypt(CiphertextBlob=blob, EncryptionContext=encryption_context("order-1"))
    assert opened["KeyId"] == kms["data"] and len(made) == 1
