"""Card vault on AWS KMS: envelope encryption under cached data keys, and an HMAC key for fingerprints.

Data-key caching (as the AWS Encryption SDK's caching materials manager does): one GenerateDataKey serves
at most MAX_USES seals or MAX_AGE_S seconds, whichever comes first. Each ciphertext stays bound to its
order by the AES-GCM associated data; the cache only bounds how much one plaintext key ever protects.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

ENCRYPTION_CONTEXT = {"purpose": "payments-card-data"}
MAX_USES = 100
MAX_AGE_S = 300.0


class KmsCardVault:
    def __init__(
        self,
        kms: Any,
        data_key_id: str,
        fingerprint_key_id: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._kms = kms
        self._data_key_id = data_key_id
        self._fingerprint_key_id = fingerprint_key_id
        self._clock = clock
        self._lock = threading.Lock()
        self._key: tuple[bytes, bytes] | None = None
        self._uses = 0
        self._created = 0.0

    def fingerprint(self, card_number: str) -> str:
        # A keyed MAC, not a bare hash: 16-digit card numbers are few enough to brute-force a plain SHA-256.
        response = self._kms.generate_mac(
            KeyId=self._fingerprint_key_id, Message=card_number.encode(), MacAlgorithm="HMAC_SHA_256"
        )
        mac: bytes = response["Mac"]
        return mac.hex()

    def seal(self, details: Mapping[str, Any], context: str) -> str:
        # Imported here: `cryptography` loads only in the function that seals or opens cards (the API),
        # never in the relay's or the outcome projector's cold start.
        from initializer.adapters import envelope_crypto

        plaintext, wrapped = self._data_key()
        return envelope_crypto.seal(plaintext, wrapped, details, context)

    def open(self, sealed: str, context: str) -> dict[str, Any]:
        from initializer.adapters import envelope_crypto

        wrapped, nonce, ciphertext = envelope_crypto.split(sealed)
        key = self._kms.decrypt(CiphertextBlob=wrapped, EncryptionContext=ENCRYPTION_CONTEXT)
        return envelope_crypto.open_sealed(key["Plaintext"], nonce, ciphertext, context)

    def _data_key(self) -> tuple[bytes, bytes]:
        with self._lock:
            expired = self._uses >= MAX_USES or self._clock() - self._created >= MAX_AGE_S
            if self._key is None or expired:
                key = self._kms.generate_data_key(
                    KeyId=self._data_key_id, KeySpec="AES_256", EncryptionContext=ENCRYPTION_CONTEXT
                )
                self._key, self._uses, self._created = (key["Plaintext"], key["CiphertextBlob"]), 0, self._clock()
            self._uses += 1
            return self._key
