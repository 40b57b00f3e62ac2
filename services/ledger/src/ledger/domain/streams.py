"""The ledger's names in its event store, defined once (the app, the rows and tools/ops use them).

A payment's journal is its own stream `journal-<payment order id>`: postings for different payments share no
item. An entry counts in the account totals once the projection has claimed `totals#<journal stream>`.
"""

from __future__ import annotations

JOURNAL_PREFIX = "journal-"


def journal_stream(payment_order_id: str) -> str:
    return f"{JOURNAL_PREFIX}{payment_order_id}"


def totals_marker(journal_stream: str) -> str:
    """Claimed with an entry's increments to the account totals: an entry is added once, however often the
    stream delivers it."""
    return f"totals#{journal_stream}"
