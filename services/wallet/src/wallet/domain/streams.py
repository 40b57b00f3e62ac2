"""The wallet's names in its event store and read model, defined once (the app, the rows and tools/ops use them).

A merchant's wallet is split into shards, each an event stream `wallet-<merchant>#<nn>` with its own snapshot
and balances row. A move is claimed once per business event, whichever shard it lands on: `credited#<payment
order id>`, `refunded#<refund id>`, `refund-reversed#<refund id>`, … (moves made before those claims existed were
claimed per event, `dedupe#<event id>`, and keep it).
"""

from __future__ import annotations

STREAM_PREFIX = "wallet-"
# The wallet publishes only its payouts (the ledger books them); its shards' moves stay private.
SOURCE = "payments.wallet"
PUBLISHED_TYPES = {"PayoutPaid": "PayoutPaid"}
# Shards a wallet is split into unless configured otherwise (WALLET_SHARDS). Changing it later is safe:
# balances sum whatever shard rows exist.
DEFAULT_SHARDS = 16


def shard_name(shard: int) -> str:
    """A shard as its stream id and balances row name it: two digits."""
    return f"{shard:02d}"


def stream_id(merchant_id: str, shard: int) -> str:
    return f"{STREAM_PREFIX}{merchant_id}#{shard_name(shard)}"


def shard_of(stream: str) -> int | None:
    """The shard of a wallet stream id; None for any other stream."""
    if not stream.startswith(STREAM_PREFIX) or "#" not in stream:
        return None
    name = stream.rsplit("#", 1)[1]
    return int(name) if name.isdigit() else None


def dedupe_marker(event_id: str) -> str:
    """Claimed with moves made before the business claims below: their event's redeliveries still find it."""
    return f"dedupe#{event_id}"


def credited_marker(payment_order_id: str) -> str:
    """Claimed with a credit: a payment credits once, however many events tell of it."""
    return f"credited#{payment_order_id}"


def refunded_marker(refund_id: str) -> str:
    """Claimed with a refund's debit: a refund debits once, however many events tell of it."""
    return f"refunded#{refund_id}"


def refund_reversed_marker(refund_id: str) -> str:
    """Claimed with a reversed refund's credit: given back once."""
    return f"refund-reversed#{refund_id}"


def disputed_marker(dispute_id: str) -> str:
    """Claimed with a dispute's debit (its amount and fee): a dispute debits once."""
    return f"disputed#{dispute_id}"


def dispute_won_marker(dispute_id: str) -> str:
    """Claimed with a won dispute's credit (its amount): given back once."""
    return f"dispute-won#{dispute_id}"
