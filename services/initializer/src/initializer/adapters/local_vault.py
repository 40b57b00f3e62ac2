"""A card vault with process-local keys, for unit tests and benchmarks: the real envelope crypto, no KMS."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from initializer.adapters import envelope_crypto


class LocalCardVault:
    def __init__(self) -> None:
        self._master = AESGCM(os.urandom(32))
        self._mac_key = os.urandom(32)

    def fingerprint(self, card_number: str) -> str:
        return hmac.new(self._mac_key, card_number.encode(), hashlib.sha256).hexdigest()

    def seal(self, details: Mapping[str, Any], context: str) -> str:
        data_key, nonce = os.urandom(32), os.urandom(12)
        wrapped = nonce + self._master.encrypt(nonce, data_key, context.encode())
        return envelope_crypto.seal(data_key, wrapped, details, context)

    def open(self, sealed: str, context: str) -> dict[str, Any]:
        wrapped, nonce, ciphertext = envelope_crypto.split(sealed)
        data_key = self._master.decrypt(wrapped[:12], wrapped[12:], context.encode())
        return envelope_crypto.open_sealed(data_key, nonce, ciphertext, context)
