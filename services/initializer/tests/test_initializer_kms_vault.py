"""The KMS vault on moto: sealed card data opens only for its own order; data keys are reused boundedly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from moto import mock_aws

from initializer.adapters.kms_vault import MAX_AGE_S, MAX_USES, KmsCardVault
from payments_testing.aws import aws_client, fake_credentials

DETAILS = {"card_number": "4111111111111111", "expiry_month": 12, "expiry_year": 2030, "holder_name": "A"}


class CountingKms:
    def __init__(self, real: Any) -> None:
        self.real, self.generated = real, 0

    def __getattr__(self, name: str) -> Any:
        if name == "generate_data_key":
            self.generated += 1
        return getattr(self.real, name)


@pytest.fixture
def kms() -> Iterator[tuple[CountingKms, str, str]]:
    fake_credentials()
    with mock_aws():
        client = aws_client("kms")
        data_key = client.create_key()["KeyMetadata"]["KeyId"]
        mac_key = client.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
        yield CountingKms(client), data_key, mac_key


def test_sealed_details_open_only_for_their_order(kms: tuple[CountingKms, str, str]) -> None:
    client, data_key, mac_key = kms
    vault = KmsCardVault(client, data_key, mac_key)
    sealed = vault.seal(DETAILS, "order-1")
    assert "4111111111111111" not in sealed and vault.open(sealed, "order-1") == DETAILS
    with pytest.raises(InvalidTag):
        vault.open(sealed, "order-2")  # copied onto another order: refused


def test_fingerprints_are_stable_per_card_and_differ_between_cards(kms: tuple[CountingKms, str, str]) -> None:
    client, data_key, mac_key = kms
    vault = KmsCardVault(client, data_key, mac_key)
    assert vault.fingerprint("4111111111111111") == vault.fingerprint("4111111111111111")
    assert vault.fingerprint("4111111111111111") != vault.fingerprint("5555555555554444")


def test_a_data_key_serves_a_bounded_number_of_seals_and_time(kms: tuple[CountingKms, str, str]) -> None:
    client, data_key, mac_key = kms
    now = [0.0]
    vault = KmsCardVault(client, data_key, mac_key, clock=lambda: now[0])
    for n in range(MAX_USES):
        vault.seal(DETAILS, f"order-{n}")
    assert client.generated == 1
    vault.seal(DETAILS, "one-more")
    assert client.generated == 2  # uses exhausted
    now[0] += MAX_AGE_S
    vault.seal(DETAILS, "later")
    assert client.generated == 3  # too old
