"""Card vault on AWS KMS: card details sealed by KMS for their order, fingerprints by a KMS HMAC key."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from payments_shared.sealed_cards import KmsCardCipher


class KmsCardVault:
    """`kms` makes the client on first use: the outcome projector builds the app but never seals a card,
    so its cold start loads no KMS model and builds no KMS client."""

    def __init__(self, kms: Callable[[], Any], data_key_id: str, fingerprint_key_id: str) -> None:
        self._make_kms = kms
        self._data_key_id = data_key_id
        self._fingerprint_key_id = fingerprint_key_id

    @functools.cached_property
    def _kms(self) -> Any:
        return self._make_kms()

    @functools.cached_property
    def _cipher(self) -> KmsCardCipher:
        return KmsCardCipher(self._kms, self._data_key_id)

    def fingerprint(self, card_number: str) -> str:
        # A keyed MAC, not a bare hash: 16-digit card numbers are few enough to brute-force a plain SHA-256.
        response = self._kms.generate_mac(
            KeyId=self._fingerprint_key_id, Message=card_number.encode(), MacAlgorithm="HMAC_SHA_256"
        )
        mac: bytes = response["Mac"]
        return mac.hex()

    def seal(self, details: Mapping[str, Any], context: str) -> str:
        return self._cipher.seal(details, context)
