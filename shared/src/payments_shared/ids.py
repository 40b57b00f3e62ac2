"""Typed identifiers: a merchant id can't be passed where a payment order id is expected."""

from __future__ import annotations

import re
import uuid
from typing import Any, ClassVar, Self

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

_PAYMENT_ORDER_NAMESPACE = uuid.UUID("6f1f4d4e-2b0a-4c55-9d55-7b1c0b1e5a10")
_REFUND_NAMESPACE = uuid.UUID("0b7e3c52-51a4-4d8e-9c1e-2f4b8d6a9e31")
_PAYOUT_NAMESPACE = uuid.UUID("5d2c8a61-7e3f-4b19-a0d4-93c6e1f7b248")


class InvalidId(ValueError):
    pass


class _TypedId(str):
    pattern: ClassVar[re.Pattern[str]]
    description: ClassVar[str]

    def __new__(cls, value: str) -> Self:
        if not isinstance(value, str) or not cls.pattern.fullmatch(value):
            raise InvalidId(f"not a valid {cls.description}: {value!r}")
        return super().__new__(cls, value)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(cls, core_schema.str_schema(pattern=cls.pattern.pattern))


class PaymentOrderId(_TypedId):
    # v4 when the client sent no Idempotency-Key, v5 (derived from merchant + key) when it did.
    pattern = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[45][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
    description = "payment order id (a lower-case UUID)"

    @classmethod
    def new(cls) -> PaymentOrderId:
        return cls(str(uuid.uuid4()))

    @classmethod
    def for_idempotency_key(cls, merchant_id: str, key: str) -> PaymentOrderId:
        """The same merchant + Idempotency-Key always names the same order: retries find the first one."""
        return cls(str(uuid.uuid5(_PAYMENT_ORDER_NAMESPACE, f"{merchant_id}\n{key}")))


class RefundId(_TypedId):
    """A refund, named by its payment and the merchant's Idempotency-Key: a retry names the same refund, which
    is also the PSP's idempotency key for it."""

    pattern = re.compile(r"rf_[0-9a-f]{32}")
    description = "refund id (rf_ and 32 hex digits)"

    @classmethod
    def for_idempotency_key(cls, payment_order_id: str, key: str) -> RefundId:
        return cls("rf_" + uuid.uuid5(_REFUND_NAMESPACE, f"{payment_order_id}\n{key}").hex)


class PayoutId(_TypedId):
    """A payout, named by its merchant and the caller's Idempotency-Key: a retry names the same payout."""

    pattern = re.compile(r"po_[0-9a-f]{32}")
    description = "payout id (po_ and 32 hex digits)"

    @classmethod
    def for_idempotency_key(cls, merchant_id: str, key: str) -> PayoutId:
        return cls("po_" + uuid.uuid5(_PAYOUT_NAMESPACE, f"{merchant_id}\n{key}").hex)


class MerchantId(_TypedId):
    pattern = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
    description = "merchant id (1-64 letters, digits, '_' or '-')"


class EventId(_TypedId):
    pattern = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    description = "event id (UUID)"

    @classmethod
    def new(cls) -> EventId:
        return cls(str(uuid.uuid4()))

    @classmethod
    def derived(cls, *parts: str) -> EventId:
        """A deterministic id for an event caused by another: redelivery yields the same id."""
        return cls(str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts))))
