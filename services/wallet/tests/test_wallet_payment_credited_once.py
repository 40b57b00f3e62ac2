"""A payment is credited once, however many events tell of it: as the ledger posts it once.

Another event with the same payment id (a second outcome published under a new event id, a replay rebuilt with
fresh ids) must not credit the merchant again, or the wallet would no longer equal the ledger's payable.
"""

from __future__ import annotations

from types import ModuleType

from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.ids import PaymentOrderId
from payments_testing.events import deliver, payment_status_updated
from wallet.entrypoints import credit


def test_events_reusing_a_payment_id_credit_it_once(runtime: ModuleType, store: InMemoryEventStore) -> None:
    order_id = PaymentOrderId.new()
    first = payment_status_updated(amount="12.34", order_id=order_id)
    again = payment_status_updated(amount="12.34", order_id=order_id)  # the same payment, another event id
    assert first["detail"]["event_id"] != again["detail"]["event_id"]
    assert deliver(credit.handler, first, again, first) == []
    assert deliver(credit.handler, again) == []
    other = payment_status_updated(amount="0.66")
    assert deliver(credit.handler, other) == []
    assert runtime.container.app().balances("merchant-1") == {"balances": {"EUR": 1300}, "version": 2}
