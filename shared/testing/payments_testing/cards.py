"""Card sealing without KMS, for unit tests and benchmarks: AES-GCM under a process-local key, bound to the
order like KMS binds its encryption context. Never shipped (payments_testing is kept out of every zip)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from payments_shared.sealed_cards import encryption_context


class LocalCardCipher:
    def __init__(self) -> None:
        self._key = AESGCM(os.urandom(32))

    def seal(self, details: Mapping[str, Any], payment_order_id: str) -> str:
        nonce = os.urandom(12)
        plaintext = json.dumps(details, sort_keys=True).encode()
        blob = nonce + self._key.encrypt(nonce, plaintext, _aad(payment_order_id))
        return "local1." + base64.urlsafe_b64encode(blob).decode()

    def open(self, sealed: str, payment_order_id: str) -> dict[str, Any]:
        version, _, text = sealed.partition(".")
        if version != "local1":
            raise ValueError(f"unknown sealed format {version!r}")
        blob = base64.urlsafe_b64decode(text.encode())
        result: dict[str, Any] = json.loads(self._key.decrypt(blob[:12], blob[12:], _aad(payment_order_id)))
        return result


def _aad(payment_order_id: str) -> bytes:
    return json.dumps(encryption_context(payment_order_id), sort_keys=True).encode()


class LocalCardVault:
    """The initializer's vault port with local keys: HMAC fingerprints, LocalCardCipher seals."""

    def __init__(self, cipher: LocalCardCipher | None = None) -> None:
        self.cipher = cipher or LocalCardCipher()
        self._mac_key = os.urandom(32)

    def fingerprint(self, card_number: str) -> str:
        return hmac.new(self._mac_key, card_number.encode(), hashlib.sha256).hexdigest()

    def seal(self, details: Mapping[str, Any], context: str) -> str:
        return self.cipher.seal(details, context)
