"""Card details sealed by AWS KMS for one payment order: the initializer seals, only the finalizer opens.

Sealed text: "kms1.<base64 of the KMS ciphertext blob>". KMS encrypts the details directly (they are far
below its 4 KB limit) under the encryption context {purpose, payment_order_id}: a ciphertext copied onto
another order does not open, the card data key's policy insists on the context, and CloudTrail records
which order's card each Decrypt opened. One Encrypt and one Decrypt per payment, and no cryptography
library in either function's zip.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, Protocol

VERSION = "kms1"
PURPOSE = "payments-card-data"


def encryption_context(payment_order_id: str) -> dict[str, str]:
    return {"purpose": PURPOSE, "payment_order_id": payment_order_id}


class CardCipher(Protocol):
    def seal(self, details: Mapping[str, Any], payment_order_id: str) -> str:
        """Opaque text holding `details`, bound to the order."""
        ...

    def open(self, sealed: str, payment_order_id: str) -> dict[str, Any]:
        """The details sealed for this order; raises for another order's or tampered text."""
        ...


class KmsCardCipher:
    def __init__(self, kms: Any, key_id: str | None = None) -> None:
        self._kms = kms
        self._key_id = key_id  # only the sealing side names the key; the blob names it for Decrypt

    def seal(self, details: Mapping[str, Any], payment_order_id: str) -> str:
        if self._key_id is None:
            raise RuntimeError("a KmsCardCipher without a key id can only open")
        plaintext = json.dumps(details, separators=(",", ":"), sort_keys=True).encode()
        sealed = self._kms.encrypt(
            KeyId=self._key_id, Plaintext=plaintext, EncryptionContext=encryption_context(payment_order_id)
        )
        blob: bytes = sealed["CiphertextBlob"]
        return f"{VERSION}.{base64.urlsafe_b64encode(blob).decode()}"

    def open(self, sealed: str, payment_order_id: str) -> dict[str, Any]:
        version, _, blob = sealed.partition(".")
        if version != VERSION:
            raise ValueError(f"unknown sealed format {version!r}")
        plaintext = self._kms.decrypt(
            CiphertextBlob=base64.urlsafe_b64decode(blob.encode()),
            EncryptionContext=encryption_context(payment_order_id),
        )["Plaintext"]
        result: dict[str, Any] = json.loads(plaintext)
        return result
