"""moto as a local AWS endpoint, and the resources of the Terraform created on it."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from devstack import (
    moto_lambda_permissions,
    moto_metric_streams,
    moto_rest_api,
    moto_snapstart,
    moto_transactions,
    resources,
)
from payments_shared.event_patterns import load_pattern
from payments_testing.loopback import free_port
from payments_testing.strict_dynamodb import MOTO_LOCK

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per moto request


LOCAL_ENV = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION")


def _one_backend_call_at_a_time(app: Any) -> Any:
    """moto's backends are not thread-safe: a request holds MOTO_LOCK, which an in-flight transaction of
    StrictTransactions lets go of while it holds its items, so transactions overlap as in DynamoDB."""

    def serve(environ: Any, start_response: Any) -> Any:
        with MOTO_LOCK:
            return list(app(environ, start_response))

    return serve


class MotoServer:
    """moto on 127.0.0.1: a thread per request, one backend call at a time."""

    def __init__(self) -> None:
        self.port = free_port()
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1",
            self.port,
            _one_backend_call_at_a_time(DomainDispatcherApplication(create_backend_app)),
            threaded=True,
            request_handler=MotoRequestHandler,
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._saved_env: dict[str, str | None] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        moto_transactions.install()
        moto_snapstart.install()
        moto_lambda_permissions.install()
        moto_metric_streams.install()
        moto_rest_api.install()
        self._saved_env = {k: os.environ.get(k) for k in LOCAL_ENV}
        os.environ.update(
            AWS_ENDPOINT_URL=self.url,
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",  # - moto accepts anything
            AWS_DEFAULT_REGION=resources.REGION,
            AWS_REGION=resources.REGION,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        for key, value in self._saved_env.items():  # later AWS clients (or moto mocks) must not aim here
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def client(service: str) -> Any:
    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))


def wait_until_drained(queue: str, timeout_s: float = 60) -> None:
    """Until nothing is waiting in the queue or being processed from it: the consumer deletes a message only
    after its handler returned, so every delivery made so far has taken effect (or failed back to the queue)."""
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    counts = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline = time.monotonic() + timeout_s
    while True:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=counts)["Attributes"]
        if all(int(attributes[name]) == 0 for name in counts):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"queue {queue} still holds {attributes} after {timeout_s} s")
        time.sleep(0.2)


@dataclass
class Provisioned:
    stream_arns: dict[str, str] = field(default_factory=dict)  # event store table -> stream ARN
    queues: dict[str, str] = field(default_factory=dict)  # subscription -> queue URL
    dlqs: dict[str, str] = field(default_factory=dict)  # subscription -> DLQ URL
    queue_arns: dict[str, str] = field(default_factory=dict)  # subscription -> queue ARN


def provision(time_scale: float = 1.0) -> Provisioned:
    """Create what the Terraform roots create, with the same names, pattern files and queue settings.

    time_scale shortens the queues' visibility timeout for local runs (a redelivery after 180 s would
    stall them); every other setting is the deployed one.
    """
    dynamodb, kms, events, sqs = client("dynamodb"), client("kms"), client("events"), client("sqs")
    out = Provisioned()
    for definition in resources.tables():
        description = dynamodb.create_table(**definition)["TableDescription"]
        if "LatestStreamArn" in description:
            out.stream_arns[definition["TableName"]] = description["LatestStreamArn"]
    data_key = kms.create_key(Description="card data")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=resources.CARD_DATA_KEY_ALIAS, TargetKeyId=data_key)
    mac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=resources.CARD_FINGERPRINT_KEY_ALIAS, TargetKeyId=mac_key)
    events.create_event_bus(Name=resources.BUS)
    for subscription in resources.SUBSCRIPTIONS:
        queue_url, queue_arn, dlq_url = _queue_with_dlq(
            sqs, subscription.queue, subscription.dead_letters, resources.QUEUE, time_scale
        )
        events.put_rule(
            Name=subscription.name,
            EventBusName=resources.BUS,
            EventPattern=json.dumps(load_pattern(subscription.pattern)),
        )
        events.put_targets(
            Rule=subscription.name,
            EventBusName=resources.BUS,
            Targets=[{"Id": f"{subscription.name}-inbox", "Arn": queue_arn}],
        )
        out.queues[subscription.name], out.dlqs[subscription.name] = queue_url, dlq_url
        out.queue_arns[subscription.name] = queue_arn
    # The notifier's deliveries: no rule (its functions send to it), the same redrive and scaled visibility.
    name = resources.DELIVERIES_QUEUE
    out.queues[name], out.queue_arns[name], out.dlqs[name] = _queue_with_dlq(
        sqs, name, resources.DELIVERIES_DLQ, resources.DELIVERIES, time_scale
    )
    return out


def _queue_with_dlq(
    sqs: Any, name: str, dlq_name: str, queue: resources.QueueSettings, time_scale: float
) -> tuple[str, str, str]:
    """(queue URL, queue ARN, DLQ URL): the queue redriving to its DLQ after max_receive_count receives."""
    dlq_url = sqs.create_queue(
        QueueName=dlq_name, Attributes={"MessageRetentionPeriod": str(queue.dlq_retention_seconds)}
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(queue.max_receive_count)}
    queue_url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "RedrivePolicy": json.dumps(redrive),
            "VisibilityTimeout": str(max(1, round(queue.visibility_timeout_seconds * time_scale))),
            "MessageRetentionPeriod": str(queue.message_retention_seconds),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return queue_url, queue_arn, dlq_url
