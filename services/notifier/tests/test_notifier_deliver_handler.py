"""notifier-deliver end to end in process: moto SQS and DynamoDB, real HTTP to local receivers on 127.0.0.1.

The handler gets the batch as the event source mapping hands it over; a failed record must come back later
(its visibility changed per the schedule) and be reported; a done one must not.
"""

from __future__ import annotations

import datetime
import importlib
import json
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from moto import mock_aws

from notifier.delivery.adapters.dynamodb import (
    DynamoDBDeliveryLog,
    DynamoDBEndpointHealth,
    DynamoDBMerchantEvents,
    DynamoDBWebhookEndpoints,
)
from notifier.delivery.adapters.http_sender import UrllibSender
from notifier.delivery.adapters.sqs_visibility import SQSMessageVisibility
from notifier.delivery.deliverer import Deliverer
from notifier.delivery.schedule import load
from notifier.domain.signature import HEADER, verify
from notifier.domain.url_policy import resolve_target
from payments_testing.aws import LambdaContext, aws_client, fake_credentials
from payments_testing.events import sqs_record
from payments_testing.fixtures import fresh_runtime
from payments_testing.loopback import LoopbackServer, free_port, serving
from payments_testing.stores import table

MERCHANT, EVENT, ENDPOINT = "merchant-1", "evt_0001764064800000_0123456789abcdef", "we_" + "b" * 24
BODY = json.dumps({"id": EVENT, "object": "event", "type": "payment.succeeded", "data": {"object": {}}})
SCHEDULE = load()


@dataclass
class Receiver:
    """Answers by path: /ok 200, /fail 500, /redirect 302, /big 200 with 100 KiB, /slow after 4 s."""

    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    server: LoopbackServer | None = None
    down: bool = False  # every path answers 503 meanwhile

    def start(self, tls: ssl.SSLContext | None = None) -> int:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append((self.path, dict(self.headers), body))
                if self.path == "/slow":  # outlasts the sender's 2 s bound
                    time.sleep(4.0)
                status, extra, payload = {
                    "/fail": (500, {}, b"down"),
                    "/redirect": (302, {"Location": "/ok"}, b""),
                    "/big": (200, {}, b"x" * 100 * 1024),
                }.get(self.path, (200, {}, b"ok"))
                if receiver.down:
                    status, extra, payload = 503, {}, b"down"
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = LoopbackServer(Handler, tls=tls).start()
        return self.server.port


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    if r.server:
        r.server.stop()


@pytest.fixture
def runtime() -> Iterator[ModuleType]:
    fake_credentials()
    with fresh_runtime(importlib.import_module("notifier.delivery.runtime")) as module:
        yield module


class RecordingSQS:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.visibility_changes: list[int] = []

    def change_message_visibility_batch(self, **kwargs: Any) -> Any:
        self.visibility_changes += [entry["VisibilityTimeout"] for entry in kwargs["Entries"]]
        return self.client.change_message_visibility_batch(**kwargs)


@dataclass
class Clock:
    now: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.now


@dataclass
class Stack:
    dynamodb: Any
    sqs: RecordingSQS
    queue_url: str
    queue_arn: str
    runtime: ModuleType
    clock: Clock

    def endpoint(self, url: str, events: list[str] | None = None, secrets: list[dict[str, Any]] | None = None) -> None:
        self.dynamodb.put_item(
            TableName="webhook-endpoints",
            Item={
                "merchant_id": {"S": MERCHANT},
                "endpoint_id": {"S": ENDPOINT},
                "url": {"S": url},
                "enabled_events": {"L": [{"S": e} for e in events or ["*"]]},
                "status": {"S": "enabled"},
                "created": {"N": "1764064800"},
                "secrets": {"L": secrets or [{"M": {"secret": {"S": "whsec_current"}}}]},
            },
        )

    last_message: dict[str, Any] = field(default_factory=dict)

    def deliver_once(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Queue one delivery message, receive it as the mapping does, run the handler: (response, log row)."""
        from notifier.entrypoints import deliver

        body = json.dumps({"merchant_id": MERCHANT, "event_id": EVENT, "endpoint_id": ENDPOINT})
        self.sqs.client.send_message(QueueUrl=self.queue_url, MessageBody=body)
        message = self.sqs.client.receive_message(QueueUrl=self.queue_url, AttributeNames=["All"])["Messages"][0]
        self.last_message = message
        record = sqs_record(
            message["Body"], message["MessageId"], message["ReceiptHandle"], message["Attributes"], self.queue_arn
        )
        response = deliver.handler({"Records": [record]}, LambdaContext())
        key = {"merchant_id": {"S": MERCHANT}, "event_id#endpoint_id": {"S": f"{EVENT}#{ENDPOINT}"}}
        row = self.dynamodb.get_item(TableName="webhook-deliveries", Key=key).get("Item", {})
        return response, row

    def redeliver(self, message: dict[str, Any]) -> dict[str, Any]:
        """The message's wait is over (its visibility set to 0, as time would): receive it again and run the handler."""
        from notifier.entrypoints import deliver

        self.sqs.client.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
        again = self.sqs.client.receive_message(QueueUrl=self.queue_url, AttributeNames=["All"])["Messages"][0]
        record = sqs_record(
            again["Body"], again["MessageId"], again["ReceiptHandle"], again["Attributes"], self.queue_arn
        )
        response = deliver.handler({"Records": [record]}, LambdaContext())
        if not response["batchItemFailures"]:  # the mapping deletes what the function finished
            self.sqs.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=again["ReceiptHandle"])
        return {**again, "response": response}

    def visible_messages(self) -> int:
        return len(self.sqs.client.receive_message(QueueUrl=self.queue_url).get("Messages", []))


@pytest.fixture
def stack(runtime: ModuleType) -> Iterator[Stack]:
    with mock_aws():
        dynamodb, sqs = aws_client("dynamodb"), aws_client("sqs")
        dynamodb.create_table(**table("merchant-events", "merchant_id", "event_id"))
        dynamodb.create_table(**table("webhook-endpoints", "merchant_id", "endpoint_id"))
        dynamodb.create_table(**table("webhook-deliveries", "merchant_id", "event_id#endpoint_id"))
        dynamodb.put_item(
            TableName="merchant-events",
            Item={
                "merchant_id": {"S": MERCHANT},
                "event_id": {"S": EVENT},
                "type": {"S": "payment.succeeded"},
                "created": {"N": "1764064800"},
                "body": {"S": BODY},
                "source_event_id": {"S": "src-1"},
            },
        )
        dlq = sqs.create_queue(QueueName="notifier-deliveries-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(SCHEDULE.max_receive_count)}
        url = sqs.create_queue(
            QueueName="notifier-deliveries",
            Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": "180"},
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        recording, clock = RecordingSQS(sqs), Clock()
        runtime.container.visibility.override(SQSMessageVisibility(recording))
        runtime.container.deliverer.override(
            Deliverer(
                DynamoDBMerchantEvents(dynamodb, "merchant-events"),
                DynamoDBWebhookEndpoints(dynamodb, "webhook-endpoints"),
                DynamoDBDeliveryLog(dynamodb, "webhook-deliveries"),
                DynamoDBEndpointHealth(dynamodb, "webhook-deliveries"),
                # Bounds a loaded machine's loopback exchange never reaches; /slow outlasts them.
                UrllibSender(connect_timeout_s=2, response_timeout_s=2),
                SCHEDULE,
                allow_loopback=True,
                clock=clock,
            )
        )
        yield Stack(dynamodb, recording, url, arn, runtime, clock)


def test_a_2xx_is_delivered_signed_logged_and_the_message_done(stack: Stack, receiver: Receiver) -> None:
    port = receiver.start()
    stack.endpoint(f"http://127.0.0.1:{port}/ok")

    response, row = stack.deliver_once()

    assert response == {"batchItemFailures": []}
    path, headers, body = receiver.received[0]
    assert (path, body, headers["Content-Type"], headers["User-Agent"]) == (
        "/ok",
        BODY.encode(),
        "application/json",
        "payments-webhooks/1",
    )
    assert headers["Host"] == f"127.0.0.1:{port}"
    assert verify(headers[HEADER], body, "whsec_current", now=int(time.time()))
    assert (row["attempts"]["N"], row["last_status"]["S"], "delivered_at" in row) == ("1", "200", True)
    assert stack.sqs.visibility_changes == []


@pytest.mark.parametrize(
    ("path", "status"),
    [("/fail", "500"), ("/slow", "timeout"), ("/redirect", "302"), ("/big", "200: response body over 65536 bytes")],
)
def test_a_failed_attempt_is_reported_and_comes_back_after_the_scheduled_wait(
    stack: Stack, receiver: Receiver, path: str, status: str
) -> None:
    port = receiver.start()
    stack.endpoint(f"http://127.0.0.1:{port}{path}")

    response, row = stack.deliver_once()

    assert len(response["batchItemFailures"]) == 1
    assert row["last_status"]["S"] == status and "delivered_at" not in row
    assert stack.sqs.visibility_changes == [SCHEDULE.retry_in(1)] == [60]
    assert stack.visible_messages() == 0  # hidden for its wait, not deleted
    assert [p for p, _, _ in receiver.received] == [path]  # the redirect was not followed


def test_connection_refused_is_a_failure_and_defers_the_endpoint(stack: Stack) -> None:
    port = free_port()  # nothing listens there
    stack.endpoint(f"http://127.0.0.1:{port}/ok")

    response, row = stack.deliver_once()

    assert len(response["batchItemFailures"]) == 1
    assert row["last_status"]["S"] == "connection failed: ConnectionRefusedError"
    health_key = {"merchant_id": {"S": MERCHANT}, "event_id#endpoint_id": {"S": f"health#{ENDPOINT}"}}
    assert "Item" in stack.dynamodb.get_item(TableName="webhook-deliveries", Key=health_key)


@pytest.mark.parametrize("change", ["deleted", "unsubscribed"])
def test_a_deleted_or_unsubscribed_endpoint_is_done_without_a_call(
    stack: Stack, receiver: Receiver, change: str
) -> None:
    port = receiver.start()
    if change == "unsubscribed":
        stack.endpoint(f"http://127.0.0.1:{port}/ok", events=["refund.failed"])

    response, row = stack.deliver_once()

    assert response == {"batchItemFailures": []} and row == {} and receiver.received == []


def test_a_target_resolving_to_a_private_address_at_delivery_is_refused_not_connected(
    stack: Stack, receiver: Receiver
) -> None:
    receiver.start()
    stack.endpoint("https://10.1.2.3/hooks")  # e.g. a record that changed since registration

    response, row = stack.deliver_once()

    assert len(response["batchItemFailures"]) == 1
    assert row["last_status"]["S"].startswith("refused: ") and receiver.received == []


def test_the_last_attempt_is_logged_parked_and_left_for_the_queue_redrive(stack: Stack, receiver: Receiver) -> None:
    port = receiver.start()
    stack.endpoint(f"http://127.0.0.1:{port}/fail")
    from notifier.entrypoints import deliver

    record = sqs_record(
        json.dumps({"merchant_id": MERCHANT, "event_id": EVENT, "endpoint_id": ENDPOINT}),
        "m-1",
        "rh-1",
        {"ApproximateReceiveCount": str(SCHEDULE.max_receive_count)},
        stack.queue_arn,
    )
    response = deliver.handler({"Records": [record]}, LambdaContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert stack.sqs.visibility_changes == []
    key = {"merchant_id": {"S": MERCHANT}, "event_id#endpoint_id": {"S": f"{EVENT}#{ENDPOINT}"}}
    assert stack.dynamodb.get_item(TableName="webhook-deliveries", Key=key)["Item"]["parked"] == {"BOOL": True}


def emf_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line]


def counted(lines: list[dict[str, Any]], name: str) -> float:
    return sum(sum(v) if isinstance(v, list) else v for line in lines if (v := line.get(name)) is not None)


def test_a_batch_counts_delivered_retried_and_parked_and_each_endpoint_failure(
    stack: Stack, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    """The dashboards' webhooks tile: delivered / retried / parked, and failures by endpoint (EMF metadata)."""
    port = receiver.start()
    stack.endpoint(f"http://127.0.0.1:{port}/fail")
    from notifier.entrypoints import deliver

    body = json.dumps({"merchant_id": MERCHANT, "event_id": EVENT, "endpoint_id": ENDPOINT})
    first = sqs_record(body, "m-1", "rh-1", {"ApproximateReceiveCount": "1"}, stack.queue_arn)
    final = {"ApproximateReceiveCount": str(SCHEDULE.max_receive_count)}
    last = sqs_record(body, "m-2", "rh-2", final, stack.queue_arn)
    capsys.readouterr()
    deliver.handler({"Records": [first, last]}, LambdaContext())
    failed = emf_lines(capsys)

    assert (counted(failed, "WebhookDeliveriesDone"), counted(failed, "WebhookDeliveriesRetried")) == (0, 1)
    assert counted(failed, "WebhookDeliveriesParked") == 1
    failures = [line for line in failed if "WebhookEndpointFailures" in line]
    # the second was deferred without a call (the endpoint failed moments ago): parked, but no endpoint failure
    assert counted(failures, "WebhookEndpointFailures") == 1
    assert {(f["merchant_id"], f["endpoint_id"], f["status"]) for f in failures} == {(MERCHANT, ENDPOINT, "500")}
    # metadata, not dimensions: one CloudWatch metric, however many endpoints merchants register
    dimensions = [d for f in failures for m in f["_aws"]["CloudWatchMetrics"] for d in m["Dimensions"]]
    assert all("endpoint_id" not in d and "merchant_id" not in d for d in dimensions)

    stack.endpoint(f"http://127.0.0.1:{port}/ok")
    stack.clock.now += 3600  # past the endpoint's cool-down
    deliver.handler({"Records": [first]}, LambdaContext())
    delivered = emf_lines(capsys)
    assert [counted(delivered, n) for n in ("WebhookDeliveriesDone", "WebhookDeliveriesRetried")] == [1, 0]
    assert counted(delivered, "WebhookDeliveriesParked") == 0
    assert counted(delivered, "WebhookEndpointFailures") == 0


def test_rotated_secrets_both_sign_the_delivery(stack: Stack, receiver: Receiver) -> None:
    port = receiver.start()
    expires = int(time.time()) + 3600
    stack.endpoint(
        f"http://127.0.0.1:{port}/ok",
        secrets=[
            {"M": {"secret": {"S": "whsec_new"}}},
            {"M": {"secret": {"S": "whsec_old"}, "expires_at": {"N": str(expires)}}},
        ],
    )

    stack.deliver_once()

    _, headers, body = receiver.received[0]
    now = int(time.time())
    assert verify(headers[HEADER], body, "whsec_new", now=now) == verify(headers[HEADER], body, "whsec_old", now=now)


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_https_connects_to_the_checked_address_with_the_host_as_sni_host_and_verified_name(
    receiver: Receiver, tmp_path: Path
) -> None:
    cert, key = _self_signed(tmp_path)
    server_names: list[str | None] = []
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    tls.sni_callback = lambda sock, name, ctx: server_names.append(name)
    port = receiver.start(tls)
    # hooks.test resolves nowhere: the sender must connect to the checked address, never look the name up again.
    target = resolve_target(f"https://hooks.test:{port}/ok", allow_loopback=True, resolve=lambda h, p: ["127.0.0.1"])
    sender = UrllibSender(connect_timeout_s=1, response_timeout_s=1, ca_certs=str(cert))

    attempt = sender.send(target, b"{}", {"Content-Type": "application/json"})

    assert (attempt.status, attempt.delivered) == ("200", True)
    assert server_names == ["hooks.test"] and receiver.received[0][1]["Host"] == f"hooks.test:{port}"

    other = resolve_target(f"https://other.test:{port}/ok", allow_loopback=True, resolve=lambda h, p: ["127.0.0.1"])
    refused = sender.send(other, b"{}", {})  # the certificate does not name other.test
    assert refused.status.startswith("tls failed") and not refused.delivered
    untrusted = UrllibSender(connect_timeout_s=1, response_timeout_s=1).send(target, b"{}", {})
    assert untrusted.status.startswith("tls failed")  # not in the system's CAs: never accepted


def test_a_receiver_down_for_a_stretch_catches_up_by_retries(stack: Stack, receiver: Receiver) -> None:
    port = receiver.start()
    stack.endpoint(f"http://127.0.0.1:{port}/ok")
    receiver.down = True

    first, _ = stack.deliver_once()  # 503: failed, and the endpoint is marked failing for its cool-down
    receiver.down = False
    stack.clock.now += 30
    deferred = stack.redeliver(stack.last_message)  # within the cool-down: no call, back later
    stack.clock.now += 31
    caught_up = stack.redeliver(deferred)  # after it: the probe goes out and is delivered

    assert len(first["batchItemFailures"]) == 1 and len(deferred["response"]["batchItemFailures"]) == 1
    assert (
        caught_up["response"] == {"batchItemFailures": []} and caught_up["Attributes"]["ApproximateReceiveCount"] == "3"
    )
    assert [p for p, _, _ in receiver.received] == ["/ok", "/ok"]  # two HTTP attempts for three receives
    key = {"merchant_id": {"S": MERCHANT}, "event_id#endpoint_id": {"S": f"{EVENT}#{ENDPOINT}"}}
    row = stack.dynamodb.get_item(TableName="webhook-deliveries", Key=key)["Item"]
    assert (row["attempts"]["N"], row["last_status"]["S"], "delivered_at" in row) == ("2", "200", True)
    assert stack.visible_messages() == 0


@pytest.mark.parametrize(("size", "delivered"), [(0, True), (64 * 1024, True), (64 * 1024 + 1, False)])
def test_the_response_body_is_read_up_to_64_kib_and_one_byte_more_fails(size: int, delivered: bool) -> None:
    class Sized(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.write(b"y" * size)

        def log_message(self, *args: Any) -> None:
            pass

    with serving(Sized) as server:
        target = resolve_target(server.url("/"), allow_loopback=True)
        attempt = UrllibSender(connect_timeout_s=1, response_timeout_s=2).send(target, b"{}", {})

    assert attempt.delivered is delivered
    assert attempt.status == ("200" if delivered else "200: response body over 65536 bytes")
