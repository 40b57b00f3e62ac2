"""The whole flow through the local stack: AWS calls per payment, cost per 1M payments, throughput.

AWS calls are counted by operation inside Lambda invocations only (not the local event-source pumps,
which stand in for Lambda's own pollers and EventBridge). The same calls are then replayed directly on
a reset moto, one after another, to compare the stack's throughput with the bare cost of its AWS calls.

Prices (USD, us-east-1, on-demand, 2025) are assumptions stated here, not measurements. Every service a payment
touches is priced: DynamoDB (write units from each item's billed size: benchmarks.item_size), API Gateway (REST,
per request: the merchant's POST; Stripe's webhook is a Lambda function URL since 2026-12-06, nothing beyond its
invocation, which Lambda's line prices), EventBridge (per event published), SQS (EventBridge's
SendMessage per message, the event source mapping's ReceiveMessage and DeleteMessageBatch per batch), Lambda
(requests, and a stated deployed duration: local durations run on moto over HTTP and overstate AWS's by 10-1000x),
CloudWatch Logs ingestion (the functions' log groups, subscribed to Firehose) and Firehose, KMS and SSM.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import statistics
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import boto3
from devstack import runtime
from devstack.environment import Reply
from devstack.load import KINDS, TOKEN_SHARE, drive, settle
from devstack.moto_local import provision
from devstack.stack import Devstack
from fake_psp.latency import CHARGE

from benchmarks.item_size import KB, item_size, write_units

PRICES = {
    "dynamodb_write_request_unit": 0.625e-6,
    "dynamodb_read_request_unit": 0.125e-6,
    "eventbridge_event": 1.0e-6,
    "kms_request": 3.0e-6,
    "lambda_request": 0.2e-6,
    "lambda_gb_second": 16.6667e-6,
    "firehose_gb": 0.029,
    "sqs_request": 0.4e-6,
    "ssm_standard_get": 0.0,
    "apigateway_rest_request": 3.5e-6,  # first 333 million a month
    # A function URL request (Stripe's webhook): no charge of its own, only the invocation it makes (Lambda's line).
    "lambda_function_url_request": 0.0,
    "cloudwatch_logs_ingested_gb": 0.50,  # standard class, first 10 TB (Lambda's logs: the same tier's price)
}
LAMBDA_MEMORY_GB = 192 / 1024
# The deployed durations the Lambda cost assumes (not measured on AWS): a warm invocation of ours is its DynamoDB
# round trips (single-digit ms each in-region) plus our code; a charge waits for Stripe (tools/fake_psp/latency.py's
# CHARGE model, an assumption of its own). Lambda bills a whole invocation, so a batch's records share these: the
# finalizer charges a batch's records FINALIZER_CHARGE_CONCURRENCY at a time, each wave lasting its slowest charge.
DEPLOYED_INVOCATION_MS = 40.0
FINALIZER_CHARGE_CONCURRENCY = 10  # the finalizer's default (finalizer.container), as Terraform leaves it
PSP_CHARGING_FUNCTIONS = frozenset({"finalizer"})


@functools.cache  # an integral each: the cost model asks for the same few batches hour after hour
def charge_batch_seconds(records: int, concurrency: int = FINALIZER_CHARGE_CONCURRENCY) -> float:
    """How long a batch of `records` waits for Stripe: its waves of `concurrency` charges, each its slowest."""
    full, rest = divmod(records, concurrency)
    return full * CHARGE.expected_slowest(concurrency) + (CHARGE.expected_slowest(rest) if rest else 0.0)


# What Lambda itself writes to each invocation's log group at a system log level: its START, END and REPORT lines
# (about 300 bytes) are INFO events, kept out at WARN ("By default, Lambda sets the system log level to INFO. With
# this setting, Lambda automatically sends 'start' and 'report' log messages": Lambda's guide, log-level
# filtering). SYSTEM_LOG_LEVEL: modules/lambda_service's default, which a smoke test reads from variables.tf.
PLATFORM_LOG_BYTES_PER_INVOCATION = {"DEBUG": 300, "INFO": 300, "WARN": 0}
SYSTEM_LOG_LEVEL = "WARN"

_inside = threading.local()


class CallRecorder:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.by_function: Counter[str] = Counter()  # "function: service.Operation"
        self.recorded: list[tuple[str, str, dict[str, Any]]] = []
        self.write_units = 0  # of Puts, sized as written
        self.read_units = 0
        self.units_by_function: Counter[str] = Counter()
        self.events_published = 0  # PutEvents entries
        self.queue_messages = 0  # records delivered to the functions by SQS event source mappings
        self.queue_batches = 0
        self.psp_charges = 0  # records delivered to the charging function
        self.psp_wait_s = 0.0  # what their batches wait for Stripe, deployed (charge_batch_seconds)
        self.sized_later: list[tuple[str, str, dict[str, Any], bool]] = []  # updates, checks: sized at the end
        self.item_sizes: list[int] = []
        self._lock = threading.Lock()

    def record(self, operations: list[tuple[str, str, dict[str, Any]]], function: str = "") -> None:
        with self._lock:
            for service, operation, params in operations:
                self.calls[f"{service}.{operation}"] += 1
                self.by_function[f"{function}: {service}.{operation}"] += 1
                self.recorded.append((service, operation, params))
                if operation == "TransactWriteItems":
                    for action in params["TransactItems"]:
                        self._write(function, *action.items(), transactional=True)
                elif operation in ("PutItem", "UpdateItem"):
                    kind = "Put" if operation == "PutItem" else "Update"
                    self._write(function, (kind, params), transactional=False)
                elif operation == "PutEvents":
                    self.events_published += len(params["Entries"])
                elif operation in ("GetItem", "Query", "Scan"):
                    self.read_units += 1  # strongly consistent, items < 4 KB

    def _write(self, function: str, *actions: tuple[str, dict[str, Any]], transactional: bool) -> None:
        (kind, action), *_ = actions
        if kind == "Put":
            self._sized(function, item_size(action["Item"]), transactional)
        else:  # billed on the item as it stands (an update: the larger of before and after): sized at the end
            self.sized_later.append((function, action["TableName"], action["Key"], transactional))

    def _sized(self, function: str, size: int, transactional: bool) -> None:
        self.item_sizes.append(size)
        self.write_units += write_units(size, transactional)
        self.units_by_function[function] += write_units(size, transactional)

    def size_the_rest(self, client: Any) -> None:
        """Updates and condition checks, sized on their item as it ended (an upper bound: rows only grow)."""
        for function, table, key, transactional in self.sized_later:
            self._sized(function, item_size(client.get_item(TableName=table, Key=key).get("Item", key)), transactional)
        self.sized_later.clear()

    def install(self, functions: runtime.Functions) -> None:
        """Records the calls the functions' environments hand back, but for the settle loop's GET requests
        (the harness polling, not part of a payment)."""
        original_invoke = functions.invoke
        shipped = functions.on_reply
        recorder = self

        def invoke(function: str, event: dict[str, Any], *, synchronous: bool = False) -> Any:
            _inside.active = event.get("httpMethod") != "GET"
            records = event.get("Records") or []
            if records and records[0].get("eventSource") == "aws:sqs":
                with recorder._lock:
                    recorder.queue_messages += len(records)
                    recorder.queue_batches += 1
                    if function in PSP_CHARGING_FUNCTIONS:
                        recorder.psp_charges += len(records)
                        recorder.psp_wait_s += charge_batch_seconds(len(records))
            try:
                return original_invoke(function, event, synchronous=synchronous)
            finally:
                _inside.active = False

        def collect(function: str, reply: Reply) -> None:
            if getattr(_inside, "active", False):  # the invoking thread ships its reply
                recorder.record(reply.operations, function)
            if shipped is not None:
                shipped(function, reply)

        functions.on_reply = collect
        functions.invoke = invoke  # type: ignore[method-assign]


def replay(moto_url: str, recorded: list[tuple[str, str, dict[str, Any]]]) -> tuple[float, int]:
    """Issue the recorded calls directly on a reset moto; returns (seconds, failed calls)."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
    provision()
    clients = {service: boto3.client(service) for service in {s for s, _, _ in recorded}}
    failed = 0
    started = time.perf_counter()
    for service, operation, params in recorded:
        try:
            clients[service]._make_api_call(operation, params)
        except Exception:  # noqa: BLE001 - e.g. a condition that raced differently live; counted
            failed += 1
    return time.perf_counter() - started, failed


# The main path: a PaymentMethod charged at once and approved (SUCCESS, Stripe's fee), nothing after it.
MAIN_PATH = [("approve", 1.0)]


def run(
    payments: int = 100, seed: int = 11, token_share: float = TOKEN_SHARE, mix: list[tuple[str, float]] = KINDS
) -> dict[str, Any]:
    recorder = CallRecorder()
    with tempfile.TemporaryDirectory() as directory:
        logs = Path(directory) / "lambda.jsonl"
        stack = Devstack(api_port=0, psp_503_rate=0.0, logs=logs, keep_operations=True)
        recorder.install(stack.functions)
        try:
            started = time.perf_counter()
            sent = drive(stack.api.url, stack.keys, payments, 4, seed, progress=False, mix=mix, token_share=token_share)
            settle(stack.api.url, stack.keys, sent, 180)
            elapsed = time.perf_counter() - started
            stack.stop_event_sources()
            accepted = sum(1 for s in sent if s.status == 201)
            flow_calls = dict(recorder.calls)
            function_calls = dict(recorder.by_function)
            # The payments' invocations: all but the API's reads (the harness polling).
            invocations = [i for i in stack.functions.invocations if not i.function.endswith("-api")]
            posts = [r for r in stack.api.requests if r.method == "POST"]
            # Stripe's webhooks reach their function through its own URL (contracts/function_urls.json).
            url_requests = [r for url in stack.function_urls.values() for r in url.requests]
            local_ms = sum(i.duration_ms for i in invocations) + sum(r.integration_ms for r in posts)
            # API functions run for their POSTs only; the others (the Stripe webhook too) are in `invocations`.
            lambda_requests = len(invocations) + sum(1 for r in posts if r.function.endswith("-api"))
            log_bytes = logs.stat().st_size + lambda_requests * PLATFORM_LOG_BYTES_PER_INVOCATION[SYSTEM_LOG_LEVEL]
            recorder.size_the_rest(boto3.client("dynamodb"))
            replay_s, replay_failed = replay(stack.moto.url, recorder.recorded)
        finally:
            stack.stop()
    total_calls = sum(flow_calls.values())
    per_payment = {op: round(n / accepted, 2) for op, n in sorted(flow_calls.items())}
    deployed_seconds = lambda_requests * DEPLOYED_INVOCATION_MS / 1000 + recorder.psp_wait_s
    cost = {
        "dynamodb_writes": recorder.write_units * PRICES["dynamodb_write_request_unit"],
        "dynamodb_reads": recorder.read_units * PRICES["dynamodb_read_request_unit"],
        "api_gateway": len(posts) * PRICES["apigateway_rest_request"],
        "function_url": len(url_requests) * PRICES["lambda_function_url_request"],
        "eventbridge": recorder.events_published * PRICES["eventbridge_event"],
        # EventBridge's SendMessage per message; the mapping's ReceiveMessage and DeleteMessageBatch per batch.
        "sqs": (recorder.queue_messages + 2 * recorder.queue_batches) * PRICES["sqs_request"],
        "kms": sum(n for op, n in flow_calls.items() if op.startswith("kms.")) * PRICES["kms_request"],
        # Standard-throughput SSM GetParameter is free; the finalizer caches Stripe's key for 5 minutes.
        "ssm": sum(n for op, n in flow_calls.items() if op.startswith("ssm.")) * PRICES["ssm_standard_get"],
        "lambda": lambda_requests * PRICES["lambda_request"]
        + deployed_seconds * LAMBDA_MEMORY_GB * PRICES["lambda_gb_second"],
        "cloudwatch_logs": log_bytes / 1e9 * PRICES["cloudwatch_logs_ingested_gb"],
        "firehose": log_bytes / 1e9 * PRICES["firehose_gb"],
    }
    per_million = {k: round(v / accepted * 1e6, 2) for k, v in cost.items()}
    stack_pps = len(sent) / elapsed
    direct_pps = len(sent) / replay_s
    return {
        "token_share": token_share,
        "payments": len(sent),
        "accepted": accepted,
        "aws_calls_per_accepted_payment": round(total_calls / accepted, 2),
        "calls_by_operation_per_payment": per_payment,
        # Which function makes them: where a saving comes from (redeliveries on a loaded machine show up here).
        "calls_by_function_per_payment": {k: round(n / accepted, 2) for k, n in sorted(function_calls.items())},
        "events_published_per_payment": round(recorder.events_published / accepted, 2),
        "queue_messages_per_payment": round(recorder.queue_messages / accepted, 2),
        "queue_batches_per_payment": round(recorder.queue_batches / accepted, 2),
        "lambda_invocations_per_payment": round(lambda_requests / accepted, 2),
        "api_requests_per_payment": round(len(posts) / accepted, 2),
        "function_url_requests_per_payment": round(len(url_requests) / accepted, 2),
        "log_bytes_per_payment": round(log_bytes / len(sent)),
        "local_lambda_ms_per_payment": round(local_ms / accepted, 1),  # not priced: see DEPLOYED_INVOCATION_MS
        "median_invocation_ms": round(statistics.median(i.duration_ms for i in invocations), 2),
        "write_units_per_payment": round(recorder.write_units / accepted, 2),
        "write_units_by_function_per_payment": {
            k: round(n / accepted, 2) for k, n in sorted(recorder.units_by_function.items())
        },
        "items_written_over_1kb": sum(1 for size in recorder.item_sizes if size > KB),
        "item_bytes_p50_max": [int(statistics.median(recorder.item_sizes)), max(recorder.item_sizes)],
        "cost_usd_per_million_payments": {**per_million, "total": round(sum(per_million.values()), 2)},
        "stack_payments_per_s": round(stack_pps, 2),
        "direct_moto_payments_per_s": round(direct_pps, 2),
        "throughput_ratio": round(stack_pps / direct_pps, 3),
        "replay_failed_calls": replay_failed,
        "prices_assumed": PRICES,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))


def payment_methods_vs_cards(payments: int = 100, seed: int = 11) -> dict[str, Any]:
    """The same orders paid all with PaymentMethods, then all with cards: AWS calls and cost per payment. Each
    in a process of its own: the services' containers bind to one local stack for their process's life."""
    # Not a multiprocessing.Pool: its workers are daemons, and a daemon cannot start execution environments.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn, max_tasks_per_child=1) as pool:
        tokens = pool.submit(run, payments, seed, 1.0).result()
        cards = pool.submit(run, payments, seed, 0.0).result()

    def kms(figures: dict[str, Any]) -> float:
        return round(sum(n for op, n in figures["calls_by_operation_per_payment"].items() if op.startswith("kms.")), 2)

    return {
        "payment_method": {
            "aws_calls_per_payment": tokens["aws_calls_per_accepted_payment"],
            "kms_calls_per_payment": kms(tokens),
            "cost_usd_per_million": tokens["cost_usd_per_million_payments"]["total"],
        },
        "card": {
            "aws_calls_per_payment": cards["aws_calls_per_accepted_payment"],
            "kms_calls_per_payment": kms(cards),
            "cost_usd_per_million": cards["cost_usd_per_million_payments"]["total"],
        },
        "calls_ratio_payment_method_to_card": round(
            tokens["aws_calls_per_accepted_payment"] / cards["aws_calls_per_accepted_payment"], 3
        ),
    }
