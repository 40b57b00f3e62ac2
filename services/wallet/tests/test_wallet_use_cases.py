"""The wallet's use cases on in-memory adapters: credit net of fees (once per event, once per payment, on any
shard), refunds and their reversals (once per event, once per refund), balances (summed over the shards)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from payments_shared.eventstore import StoredEvent, StoreUnavailable
from payments_shared.eventstore.memory import InMemoryEventStore
from payments_shared.eventstore.repository import Cause
from payments_shared.fees import FeeSchedule
from payments_shared.money import Money
from payments_shared.retry import RetryPolicy
from wallet.adapters.memory_balances import InMemoryBalances
from wallet.app import CreditResult, WalletApp
from wallet.domain.errors import CreditNotPositive, WalletNotFound
from wallet.domain.streams import stream_id
from wallet.domain.wallet import CreditWallet, Refund

SHARDS = 4
NO_FEES = FeeSchedule()
QUICK = RetryPolicy(attempts=3, base_delay_s=0.0001, max_delay_s=0.0005)


class Wallets:
    def __init__(self, shards: int = SHARDS, fees: FeeSchedule = NO_FEES) -> None:
        self.store = InMemoryEventStore()
        self.balances = InMemoryBalances("WalletBalances")
        self.app = WalletApp(self.store, self.balances, shards=shards, retry_policy=QUICK, fees=fees)

    def credit(
        self, minor: int, currency: str = "EUR", order: str = "order-1", event: str = "evt-1", merchant: str = "m-1"
    ) -> CreditResult:
        command = CreditWallet(merchant, Money(minor, currency), order, event)
        return self.app.credit(command, Cause("corr-1", event))

    def refund(self, minor: int, refund: str = "rf-1", event: str = "evt-r1", reversed_: bool = False) -> CreditResult:
        command = Refund("m-1", Money(minor, "EUR"), "order-1", refund, reversed_, event)
        return self.app.refund(command, Cause("corr-1", event))

    def events(self, merchant: str = "m-1") -> list[StoredEvent]:
        return [
            e for shard in range(SHARDS) for e in self.store.load(stream_id(merchant, shard), use_snapshot=False).events
        ]


@pytest.fixture
def wallets() -> Iterator[Wallets]:
    yield Wallets()


def test_a_credit_is_recorded_on_one_shard_with_its_row_and_snapshot(wallets: Wallets) -> None:
    assert wallets.credit(1234) == CreditResult(credited=True, conflicts=0)
    [event] = wallets.events()
    assert (event.event_type, dict(event.data)) == (
        "WalletCredited",
        {
            "merchant_id": "m-1",
            "currency": "EUR",
            "amount_minor": 1234,
            "payment_order_id": "order-1",
            "source_event_id": "evt-1",
            "credited_at": event.data["credited_at"],  # now: settles_at is now + the settlement delay
            "settles_at": event.data["settles_at"],
        },
    )
    assert event.data["settles_at"] > event.data["credited_at"]
    assert (event.correlation_id, event.causation_id) == ("corr-1", "evt-1")
    [row] = wallets.balances.rows.all()
    assert event.stream_id == f"wallet-m-1#{row['shard']}"
    assert (row["merchant_id"], row["balances"], row["version"]) == ("m-1", {"EUR": 1234}, 1)
    snapshot = wallets.store.load(event.stream_id).snapshot
    assert snapshot is not None and (snapshot.version, dict(snapshot.state)) == (
        1,
        {"merchant_id": "m-1", "balances": {"EUR": 1234}, "pending": {"EUR": {event.data["settles_at"]: 1234}}},
    )
    assert row["pending"] == {"EUR": {event.data["settles_at"]: 1234}}


def test_balances_sum_the_shards_per_currency(wallets: Wallets) -> None:
    for n in range(20):
        assert wallets.credit(100, order=f"order-{n}", event=f"evt-{n}").credited
    assert wallets.credit(500, "JPY", order="order-jpy", event="evt-jpy").credited
    assert len(wallets.balances.shards("m-1")) > 1  # 21 credits drawn over 4 shards
    assert wallets.app.balances("m-1") == {"balances": {"EUR": 2000, "JPY": 500}, "version": 21}


def test_an_event_delivered_again_credits_nothing(wallets: Wallets) -> None:
    assert wallets.credit(1234).credited
    assert wallets.credit(1234) == CreditResult(credited=False, conflicts=0)
    assert len(wallets.events()) == 1
    assert wallets.app.balances("m-1") == {"balances": {"EUR": 1234}, "version": 1}


def test_another_event_telling_of_the_same_payment_credits_nothing(wallets: Wallets) -> None:
    assert wallets.credit(1234, order="order-1", event="evt-1").credited
    assert not wallets.credit(1234, order="order-1", event="evt-2").credited
    assert wallets.credit(66, order="order-2", event="evt-3").credited
    assert wallets.app.balances("m-1") == {"balances": {"EUR": 1300}, "version": 2}


def test_a_credit_of_zero_is_refused_and_writes_nothing(wallets: Wallets) -> None:
    with pytest.raises(CreditNotPositive):
        wallets.credit(0)
    assert wallets.events() == [] and wallets.balances.rows.all() == []
    assert wallets.credit(100).credited  # its claims were not taken


def test_a_lost_race_is_decided_again_and_counted(wallets: Wallets) -> None:
    wallets.store.cancel_next("TransactionConflict")
    assert wallets.credit(1234) == CreditResult(credited=True, conflicts=1)
    assert wallets.app.balances("m-1") == {"balances": {"EUR": 1234}, "version": 1}


def test_when_the_attempts_run_out_nothing_is_credited_and_the_message_comes_again(wallets: Wallets) -> None:
    wallets.store.cancel_next(*["ThrottlingError"] * QUICK.attempts)
    with pytest.raises(StoreUnavailable):
        wallets.credit(1234)
    assert wallets.events() == []
    assert wallets.credit(1234).credited  # the redelivery


def test_a_wallet_without_credits_is_not_found(wallets: Wallets) -> None:
    assert wallets.credit(100, merchant="m-2").credited
    with pytest.raises(WalletNotFound):
        wallets.app.balances("m-1")


def test_one_shard_keeps_every_credit_in_one_stream() -> None:
    wallets = Wallets(shards=1)
    for n in range(3):
        assert wallets.credit(10, order=f"order-{n}", event=f"evt-{n}").credited
    assert [e.version for e in wallets.store.load(stream_id("m-1", 0), use_snapshot=False).events] == [1, 2, 3]
    assert [(r["shard"], r["version"]) for r in wallets.balances.rows.all()] == [("00", 3)]


def test_a_capture_credits_its_net_of_fees() -> None:
    wallets = Wallets(fees=FeeSchedule(290, {"EUR": 30}))
    assert wallets.credit(1000).credited
    assert wallets.app.balances("m-1")["balances"] == {"EUR": 941}  # as the ledger's merchant_payable
    assert wallets.credit(20, order="order-2", event="evt-2").credited  # the fee takes it all: recorded, 0 moved
    assert wallets.app.balances("m-1")["balances"] == {"EUR": 941}


def test_a_refund_debits_once_and_its_reversal_credits_back_once(wallets: Wallets) -> None:
    assert wallets.credit(1000).credited
    assert wallets.refund(400).credited
    assert not wallets.refund(400).credited  # redelivered
    assert not wallets.refund(400, event="evt-r2").credited  # another event, same refund
    assert wallets.refund(1000, "rf-2", "evt-r3").credited  # more than is left: the merchant owes us
    assert wallets.app.balances("m-1")["balances"] == {"EUR": -400}
    assert wallets.refund(400, event="evt-v1", reversed_=True).credited
    assert not wallets.refund(400, event="evt-v2", reversed_=True).credited
    assert wallets.app.balances("m-1") == {"balances": {"EUR": 0}, "version": 4}
    assert sorted(e.event_type for e in wallets.events()) == [
        "WalletCredited",
        "WalletDebited",
        "WalletDebited",
        "WalletRefundReversed",
    ]
