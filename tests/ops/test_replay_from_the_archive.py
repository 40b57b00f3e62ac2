"""In an AWS account, replay is EventBridge's own: the bus's archive, the time range, the consumer's rule only."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
from botocore.stub import ANY, Stubber
from ops import replay

START, END = datetime(2026, 12, 4, 10, tzinfo=UTC), datetime(2026, 12, 4, 11, tzinfo=UTC)
BUS_ARN = "arn:aws:events:eu-west-1:123456789012:event-bus/payments"
ARCHIVE_ARN = "arn:aws:events:eu-west-1:123456789012:archive/payments-archive"
RULE_ARN = "arn:aws:events:eu-west-1:123456789012:rule/payments/wallet"


def stubbed() -> tuple[object, Stubber]:
    events = boto3.client("events", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(events)
    stubber.add_response("describe_event_bus", {"Arn": BUS_ARN, "Name": "payments"}, {"Name": "payments"})
    stubber.add_response("describe_archive", {"ArchiveArn": ARCHIVE_ARN}, {"ArchiveName": "payments-archive"})
    stubber.add_response("describe_rule", {"Arn": RULE_ARN}, {"Name": "wallet", "EventBusName": "payments"})
    return events, stubber


def test_the_archive_is_replayed_to_the_consumers_rule_alone_until_done() -> None:
    events, stubber = stubbed()
    stubber.add_response(
        "start_replay",
        {"State": "STARTING"},
        {
            "ReplayName": ANY,
            "EventSourceArn": ARCHIVE_ARN,
            "EventStartTime": START,
            "EventEndTime": END,
            "Destination": {"Arn": BUS_ARN, "FilterArns": [RULE_ARN]},
        },
    )
    stubber.add_response("describe_replay", {"State": "COMPLETED", "EventLastReplayedTime": END}, {"ReplayName": ANY})
    with stubber:
        result = replay.from_archive(events, "wallet", START, END)
    stubber.assert_no_pending_responses()
    assert (result["method"], result["state"]) == ("eventbridge-replay", "COMPLETED")
    assert result["replay"].startswith("wallet-")


def test_a_dry_run_starts_no_replay() -> None:
    events, stubber = stubbed()
    with stubber:  # a start_replay call would fail here: none is stubbed
        result = replay.from_archive(events, "wallet", START, END, dry_run=True)
    assert result["state"] == "not started (dry run)"
