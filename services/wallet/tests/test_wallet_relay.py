"""The wallet's outbox relay on moto: its payouts leave for the bus as PayoutPaid (source payments.wallet, the
contract's fields only) and reach the ledger's queue through the shared pattern; shard moves stay private."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

from moto import mock_aws

from payments_shared.contracts import PayoutPaidData
from payments_shared.events import EventEnvelope
from payments_shared.eventstore.dynamodb import DynamoDBEventStore, table_definition
from payments_shared.eventstore.repository import Cause
from payments_shared.fees import FeeSchedule
from payments_shared.money import Money
from payments_testing.aws import LambdaContext, aws_client, fake_credentials
from payments_testing.stores import table
from payments_testing.streams import read_stream
from wallet.adapters.dynamodb_balances import DynamoDBBalances
from wallet.app import WalletApp
from wallet.domain.wallet import CreditWallet
from wallet.entrypoints import relay

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_only_payouts_are_published_and_they_match_the_ledgers_pattern(runtime: ModuleType) -> None:
    fake_credentials()
    with mock_aws():
        dynamodb = aws_client("dynamodb")
        stream_arn = dynamodb.create_table(**table_definition("wallet-events"))["TableDescription"]["LatestStreamArn"]
        dynamodb.create_table(**table("WalletBalances", "merchant_id", "shard"))
        events, sqs = aws_client("events"), aws_client("sqs")
        events.create_event_bus(Name="payments")
        queue_url = sqs.create_queue(QueueName="ledger-payouts-inbox")["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
        pattern = Path("contracts/event_patterns/payout_paid.json").read_text()
        events.put_rule(Name="ledger-payouts", EventBusName="payments", EventPattern=pattern)
        events.put_targets(
            Rule="ledger-payouts", EventBusName="payments", Targets=[{"Id": "q", "Arn": attributes["QueueArn"]}]
        )
        now = [T0]
        app = WalletApp(
            DynamoDBEventStore(dynamodb, "wallet-events"),
            DynamoDBBalances(dynamodb, "WalletBalances"),
            shards=2,
            fees=FeeSchedule(),
            settlement_delay_s=60,
            clock=lambda: now[0],
        )
        app.credit(CreditWallet("m-1", Money(1000, "EUR"), "order-1", "evt-1"), Cause("c-1", "evt-1"))
        now[0] = T0 + timedelta(minutes=5)
        payout, created = app.pay_out("m-1", "EUR", "po_" + "a" * 32, None, Cause("c-2"))
        assert created and payout.amount_minor == 1000

        records = read_stream(aws_client("dynamodbstreams"), stream_arn)
        assert relay.handler({"Records": records}, LambdaContext()) == {"batchItemFailures": []}
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        [published] = [EventEnvelope.from_eventbridge_event(json.loads(m["Body"])) for m in messages]
        assert json.loads(messages[0]["Body"])["source"] == "payments.wallet"
        assert published.event_type == "PayoutPaid" and published.aggregate_id == "payouts-m-1-EUR"
        assert PayoutPaidData.model_validate(published.data).money() == Money(1000, "EUR")
        assert set(published.data) == set(PayoutPaidData.model_fields)
