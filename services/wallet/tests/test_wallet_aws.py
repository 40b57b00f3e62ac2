"""The wallet on moto, as strict as DynamoDB: 50 concurrent credits to one merchant end at the exact balance."""

from __future__ import annotations

import json
import threading
from types import ModuleType

from moto import mock_aws

from payments_shared.events import EventEnvelope
from payments_shared.eventstore import ConcurrencyConflict, StoreUnavailable
from payments_shared.eventstore.dynamodb import DynamoDBEventStore, table_definition
from payments_testing.aws import LambdaContext, SerializedClient, aws_client
from payments_testing.events import deliver, payment_status_updated
from payments_testing.http import api_event
from payments_testing.strict_dynamodb import StrictTransactions
from wallet.adapters.dynamodb_balances import DynamoDBBalances
from wallet.app import WalletApp


def test_fifty_concurrent_credits_give_the_exact_balance(handler_module: ModuleType) -> None:
    with mock_aws():
        dynamodb = aws_client("dynamodb")
        dynamodb.create_table(**table_definition("wallet-events"))
        dynamodb.create_table(
            TableName="WalletBalances",
            KeySchema=[
                {"AttributeName": "merchant_id", "KeyType": "HASH"},
                {"AttributeName": "shard", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "merchant_id", "AttributeType": "S"},
                {"AttributeName": "shard", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        strict = StrictTransactions().install()  # overlapping transactions on an item are cancelled
        shared = SerializedClient(dynamodb)  # moto's backend is not thread-safe; see SerializedClient
        app = WalletApp(
            DynamoDBEventStore(shared, "wallet-events"), DynamoDBBalances(shared, "WalletBalances"), shards=4
        )
        handler_module.container.app.override(app)
        events = [payment_status_updated(amount=f"{n}.01") for n in range(1, 51)]
        barrier, conflicts, errors, redeliveries = threading.Barrier(50), [], [], []

        def credit(event: dict[str, object]) -> None:
            barrier.wait()
            for _ in range(5):  # the queue redelivers a message whose retries ran out
                try:
                    conflicts.append(app.credit(EventEnvelope.from_eventbridge_event(event)).conflicts)
                    return
                except (ConcurrencyConflict, StoreUnavailable):
                    redeliveries.append(event)
                except Exception as error:  # noqa: BLE001 - collected and asserted below
                    errors.append(error)
                    return

        threads = [threading.Thread(target=credit, args=(e,)) for e in events]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for event in events[:10]:  # redelivery after the storm changes nothing
            assert deliver(handler_module.handler, event) == []
        response = handler_module.api_handler(
            api_event(
                "GET",
                "/wallets/merchant-1",
                resource="/wallets/{merchant_id}",
                path_parameters={"merchant_id": "merchant-1"},
            ),
            LambdaContext(),
        )
        handler_module.container.app.reset_override()
        strict.uninstall()

    assert errors == []
    assert strict.cancelled["TransactionConflict"] > 0  # the transactions really overlapped
    expected = sum(n * 100 + 1 for n in range(1, 51))
    body = json.loads(response["body"])
    assert body["balances"] == [
        {"currency": "EUR", "amount": f"{expected // 100}.{expected % 100:02d}", "amount_minor": expected}
    ]
    assert body["version"] == 50
    print(
        f"\n50 concurrent credits: {sum(conflicts)} lost races retried (max {max(conflicts)} for one credit), "
        f"{strict.cancelled['TransactionConflict']} transaction conflicts, {len(redeliveries)} redeliveries"
    )
