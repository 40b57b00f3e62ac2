"""Card vault on AWS KMS: a data key per order (GenerateDataKey) and an HMAC key for fingerprints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from initializer.adapters import envelope_crypto


class KmsCardVault:
    def __init__(self, kms: Any, data_key_id: str, fingerprint_key_id: str) -> None:
        self._kms = kms
        self._data_key_id = data_key_id
        self._fingerprint_key_id = fingerprint_key_id

    def fingerprint(self, card_number: str) -> str:
        # A keyed MAC, not a bare hash: 16-digit card numbers are few enough to brute-force a plain SHA-256.
        response = self._kms.generate_mac(
            KeyId=self._fingerprint_key_id, Message=card_number.encode(), MacAlgorithm="HMAC_SHA_256"
        )
        mac: bytes = response["Mac"]
        return mac.hex()

    def seal(self, details: Mapping[str, Any], context: str) -> str:
        key = self._kms.generate_data_key(
            KeyId=self._data_key_id, KeySpec="AES_256", EncryptionContext={"payment_order_id": context}
        )
        return envelope_crypto.seal(key["Plaintext"], key["CiphertextBlob"], details, context)

    def open(self, sealed: str, context: str) -> dict[str, Any]:
        wrapped, nonce, ciphertext = envelope_crypto.split(sealed)
        key = self._kms.decrypt(CiphertextBlob=wrapped, EncryptionContext={"payment_order_id": context})
        return envelope_crypto.open_sealed(key["Plaintext"], nonce, ciphertext, context)
