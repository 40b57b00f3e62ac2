"""The wallet on moto, as strict as DynamoDB: 50 concurrent credits to one merchant end at the exact balance."""

from __future__ import annotations

import json
import threading
from types import ModuleType

from moto import mock_aws

from payments_shared.events import EventEnvelope
from payments_shared.eventstore import ConcurrencyConflict, NewEvent, StoreUnavailable
from payments_shared.eventstore.dynamodb import DynamoDBEventStore, table_definition
from payments_shared.eventstore.repository import Cause
from payments_shared.fees import FeeSchedule
from payments_shared.ids import RefundId
from payments_shared.money import Money
from payments_testing.aws import CountingClient, LambdaContext, SerializedClient, aws_client, fake_credentials
from payments_testing.events import deliver, payment_status_updated, refund_status_updated
from payments_testing.http import api_event
from payments_testing.stores import table
from payments_testing.strict_dynamodb import StrictTransactions
from wallet.adapters.dynamodb_balances import DynamoDBBalances
from wallet.app import WalletApp
from wallet.domain.streams import stream_id
from wallet.domain.wallet import CreditWallet
from wallet.entrypoints import api, credit


def test_fifty_concurrent_credits_give_the_exact_balance(runtime: ModuleType) -> None:
    with mock_aws():
        dynamodb = aws_client("dynamodb")
        dynamodb.create_table(**table_definition("wallet-events"))
        dynamodb.create_table(**table("WalletBalances", "merchant_id", "shard"))
        strict = StrictTransactions().install()  # overlapping transactions on an item are cancelled
        shared = SerializedClient(dynamodb)  # moto's backend is not thread-safe; see SerializedClient
        app = WalletApp(
            DynamoDBEventStore(shared, "wallet-events"),
            DynamoDBBalances(shared, "WalletBalances"),
            shards=4,
            fees=FeeSchedule(),
        )
        runtime.container.app.override(app)
        events = [payment_status_updated(amount=f"{n}.01") for n in range(1, 51)]
        barrier, conflicts, errors, redeliveries = threading.Barrier(50), [], [], []

        def credit_once(event: dict[str, object]) -> None:
            asked = credit.credit_command(EventEnvelope.from_eventbridge_event(event))
            assert asked is not None
            barrier.wait()
            for _ in range(5):  # the queue redelivers a message whose retries ran out
                try:
                    conflicts.append(app.credit(*asked).conflicts)
                    return
                except (ConcurrencyConflict, StoreUnavailable):
                    redeliveries.append(event)
                except Exception as error:  # noqa: BLE001 - collected and asserted below
                    errors.append(error)
                    return

        threads = [threading.Thread(target=credit_once, args=(e,)) for e in events]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for event in events[:10]:  # redelivery after the storm changes nothing
            assert deliver(credit.handler, event) == []
        response = api.handler(
            api_event(
                "GET",
                "/wallets/merchant-1",
                resource="/wallets/{merchant_id}",
                path_parameters={"merchant_id": "merchant-1"},
            ),
            LambdaContext(),
        )
        runtime.container.app.reset_override()
        strict.uninstall()

    assert errors == []
    assert strict.cancelled["TransactionConflict"] > 0  # the transactions really overlapped
    expected = sum(n * 100 + 1 for n in range(1, 51))
    body = json.loads(response["body"])
    [eur] = body["balances"]
    assert (eur["currency"], eur["amount"], eur["amount_minor"]) == (
        "EUR",
        f"{expected // 100}.{expected % 100:02d}",
        expected,
    )
    assert body["version"] == 50
    print(
        f"\n50 concurrent credits: {sum(conflicts)} lost races retried (max {max(conflicts)} for one credit), "
        f"{strict.cancelled['TransactionConflict']} transaction conflicts, {len(redeliveries)} redeliveries"
    )


def test_a_credit_reads_the_shards_snapshot_and_writes_in_one_transaction() -> None:
    fake_credentials()
    with mock_aws():
        dynamodb = aws_client("dynamodb")
        dynamodb.create_table(**table_definition("wallet-events"))
        dynamodb.create_table(**table("WalletBalances", "merchant_id", "shard"))
        counting = CountingClient(dynamodb)
        app = WalletApp(
            DynamoDBEventStore(counting, "wallet-events"),
            DynamoDBBalances(counting, "WalletBalances"),
            1,
            fees=FeeSchedule(),
        )

        def credit(event_id: str) -> dict[str, int]:
            counting.clear()
            command = CreditWallet("m-1", Money(100, "EUR"), f"order-{event_id}", event_id)
            assert app.credit(command, Cause("c", event_id)).credited
            return dict(counting.calls)

        # A new shard: its snapshot's GetItem finds none (no events either); a credited one: the snapshot alone,
        # taken as the shard's head (written with its every move) — no probe for an event after it: the append's
        # condition at the snapshot's version is that probe.
        assert credit("e-1") == {"get_item": 1, "transact_write_items": 1}
        assert credit("e-2") == {"get_item": 1, "transact_write_items": 1}
        # Four items, each billed as two writes: the event, the payment's claim (no claim of the event id: every
        # delivery names the same payment), the balances row, and the snapshot, whose condition on the one it
        # replaces stands for the version check (no ConditionCheck item).
        assert dict(counting.items) == {"Put": 4}
        counting.calls.clear()
        assert not app.credit(CreditWallet("m-1", Money(100, "EUR"), "order-e-1", "e-1"), Cause("c", "e-1")).credited
        assert dict(counting.calls) == {"get_item": 1, "transact_write_items": 1}  # refused whole: nothing written
        assert app.balances("m-1") == {"balances": {"EUR": 200}, "version": 2}

        # An event after the snapshot (written by code that did not snapshot): the write at the snapshot's version
        # is refused, and the next attempt loads in full (snapshot, probe, Query) and credits on the true head.
        store = DynamoDBEventStore(dynamodb, "wallet-events")
        head = store.load(stream_id("m-1", 0), use_snapshot=False).events[-1]
        store.append(stream_id("m-1", 0), head.version, [NewEvent(head.event_type, head.data, "c", "late")])
        assert credit("e-3") == {"get_item": 3, "query": 1, "transact_write_items": 2}
        assert [e.version for e in store.load(stream_id("m-1", 0), use_snapshot=False).events] == [1, 2, 3, 4]


def test_refunds_on_dynamodb_debit_once_and_reversals_credit_back_once(runtime: ModuleType) -> None:
    fake_credentials()
    with mock_aws():
        dynamodb = aws_client("dynamodb")
        dynamodb.create_table(**table_definition("wallet-events"))
        dynamodb.create_table(**table("WalletBalances", "merchant_id", "shard"))
        paid = payment_status_updated(amount="12.34")
        order_id = paid["detail"]["data"]["payment_order_id"]
        refund_id = RefundId.for_idempotency_key(order_id, "k-1")
        refunded = refund_status_updated(order_id, refund_id, amount="2.00")
        reversed_ = refund_status_updated(order_id, refund_id, "REVERSED", amount="2.00")
        failed = refund_status_updated(order_id, RefundId.for_idempotency_key(order_id, "k-2"), "FAILED", amount="1.00")

        def balance() -> dict[str, object]:
            return dict(runtime.container.app().balances("merchant-1"))

        assert deliver(credit.handler, paid, refunded, refunded, failed) == []
        assert balance() == {"balances": {"EUR": 1034}, "version": 2}
        assert deliver(credit.handler, refund_status_updated(order_id, refund_id, amount="2.00")) == []  # new id
        assert deliver(credit.handler, reversed_, reversed_) == []
        assert balance() == {"balances": {"EUR": 1234}, "version": 3}
        events = [i["event_type"]["S"] for i in dynamodb.scan(TableName="wallet-events")["Items"] if "event_type" in i]
        assert sorted(events) == ["WalletCredited", "WalletDebited", "WalletRefundReversed"]
