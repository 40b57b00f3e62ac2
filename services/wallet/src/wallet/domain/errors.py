"""What can go wrong in the wallet's domain, in its own terms (the API maps it to its problem,
wallet.entrypoints.api)."""

from __future__ import annotations

from payments_shared.money import Money


class WalletNotFound(Exception):
    def __init__(self, merchant_id: str) -> None:
        super().__init__(f"no wallet for merchant {merchant_id}")
        self.merchant_id = merchant_id


class CreditNotPositive(ValueError):
    """A credit or a refund of zero or less: refused (the message is redelivered, then dead-lettered)."""

    def __init__(self, amount: Money) -> None:
        super().__init__(f"a wallet move must be positive, got {amount}")
        self.amount = amount


class PayoutExceedsAvailable(Exception):
    """A payout of more than is available, or of nothing (nothing available): refused, nothing moved."""

    def __init__(self, available: Money) -> None:
        super().__init__(f"at most {available.to_decimal_string()} {available.currency} is available to pay out")
        self.available = available


class PayoutKeyReused(Exception):
    """An Idempotency-Key already used for a payout in another currency."""

    def __init__(self, payout_id: str) -> None:
        super().__init__(f"payout {payout_id} was made in another currency: use a new Idempotency-Key")
        self.payout_id = payout_id
