"""Sealed card details on moto's KMS: they open only for their own order, and only with a key that can."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidTag
from moto import mock_aws

from payments_shared.sealed_cards import KmsCardCipher
from payments_testing.aws import aws_client, fake_credentials
from payments_testing.cards import LocalCardCipher

DETAILS = {"card_number": "4111111111111111", "expiry_month": 12, "expiry_year": 2030, "holder_name": "A"}


@pytest.fixture
def kms() -> Iterator[tuple[Any, str]]:
    fake_credentials()
    with mock_aws():
        client = aws_client("kms")
        yield client, client.create_key()["KeyMetadata"]["KeyId"]


def test_sealed_details_open_only_for_their_order(kms: tuple[Any, str]) -> None:
    client, key_id = kms
    sealed = KmsCardCipher(client, key_id).seal(DETAILS, "order-1")
    assert sealed.startswith("kms1.") and "4111111111111111" not in sealed
    opener = KmsCardCipher(client)  # the finalizer's side names no key
    assert opener.open(sealed, "order-1") == DETAILS
    with pytest.raises(ClientError, match="InvalidCiphertext"):
        opener.open(sealed, "order-2")  # copied onto another order: refused by KMS


def test_an_opener_cannot_seal_and_other_formats_are_refused(kms: tuple[Any, str]) -> None:
    client, _ = kms
    with pytest.raises(RuntimeError, match="only open"):
        KmsCardCipher(client).seal(DETAILS, "order-1")
    with pytest.raises(ValueError, match="unknown sealed format"):
        KmsCardCipher(client).open("v1.abc", "order-1")


def test_the_local_cipher_binds_the_order_as_kms_does() -> None:
    cipher = LocalCardCipher()
    sealed = cipher.seal(DETAILS, "order-1")
    assert cipher.open(sealed, "order-1") == DETAILS
    with pytest.raises(InvalidTag):
        cipher.open(sealed, "order-2")
    with pytest.raises(InvalidTag):
        LocalCardCipher().open(sealed, "order-1")  # another key
