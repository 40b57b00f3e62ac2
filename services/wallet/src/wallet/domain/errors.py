"""What can go wrong in the wallet's domain, in its own terms (the API maps it to its problem, wallet.api)."""

from __future__ import annotations


class WalletNotFound(Exception):
    def __init__(self, merchant_id: str) -> None:
        super().__init__(f"no wallet for merchant {merchant_id}")
        self.merchant_id = merchant_id
