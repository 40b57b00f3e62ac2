"""The finalizer's composition root: what a charge consumer's cold start builds, and what it leaves for later."""

from __future__ import annotations

from typing import Any

from dependency_injector import providers
from moto import mock_aws

from finalizer.container import build_container
from payments_shared.sealed_cards import KmsCardCipher
from payments_testing.aws import aws_client, fake_credentials

CARD = {"card_number": "4242424242424242", "expiry_month": 12, "expiry_year": 2030}


def test_the_kms_client_is_built_with_the_first_card_opened_not_with_the_app() -> None:
    # Payments by Stripe PaymentMethod (the main path) never open a card: their consumer's cold start makes no KMS
    # client (botocore parses KMS's model for it).
    fake_credentials()
    with mock_aws():
        kms = aws_client("kms")
        sealed = KmsCardCipher(kms, kms.create_key()["KeyMetadata"]["KeyId"]).seal(CARD, "po-1")
        container = build_container({})
        made: list[Any] = []

        def make_kms() -> Any:
            made.append(aws_client("kms"))
            return made[-1]

        container.kms.override(providers.Callable(make_kms))
        container.app()  # what the charge consumer builds for its first event
        assert made == []
        opened = container.cards().open(sealed, "po-1")
        assert (opened.number, opened.expiry_month, opened.expiry_year) == ("4242424242424242", 12, 2030)
        assert container.cards().open(sealed, "po-1") == opened
        assert len(made) == 1  # one client for every card after
