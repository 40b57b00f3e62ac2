"""AES-256-GCM envelope format for card details (the `cryptography` library; no key management here).

Sealed text: "v1.<wrapped data key>.<nonce>.<ciphertext>" (URL-safe base64 parts). The order id is the
GCM associated data, so a ciphertext copied onto another order fails to open.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode())


def seal(data_key: bytes, wrapped_key: bytes, details: Mapping[str, Any], context: str) -> str:
    nonce = os.urandom(12)  # 96-bit random nonce: a data key seals at most 100 orders, far below GCM's 2^32 limit
    plaintext = json.dumps(details, separators=(",", ":"), sort_keys=True).encode()
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, context.encode())
    return ".".join([VERSION, _b64(wrapped_key), _b64(nonce), _b64(ciphertext)])


def split(sealed: str) -> tuple[bytes, bytes, bytes]:
    version, wrapped, nonce, ciphertext = sealed.split(".")
    if version != VERSION:
        raise ValueError(f"unknown sealed format {version!r}")
    return _unb64(wrapped), _unb64(nonce), _unb64(ciphertext)


def open_sealed(data_key: bytes, nonce: bytes, ciphertext: bytes, context: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(AESGCM(data_key).decrypt(nonce, ciphertext, context.encode()))
    return result
