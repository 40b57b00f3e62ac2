"""A local run exported over OTLP/HTTP: what a backend (Dynatrace, Jaeger, Tempo) would receive."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from devstack.load import CARDS, drive, settle
from devstack.moto_local import client
from devstack.otlp import OtlpExport, parse_headers
from devstack.report import Report
from devstack.stack import Devstack
from ops.payment_trace import trace_payment

from e2e.otlp_receiver import OtlpReceiver, attributes, point_value

RESOURCE_KEYS = {"service.name", "faas.name", "cloud.provider", "cloud.region", "deployment.environment"}
TOKEN = "Api-Token dt0c01.local-test"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OtlpReceiver, Report, dict[str, Any]]]:
    with OtlpReceiver() as receiver:
        stack = Devstack(
            api_port=0,
            logs=tmp_path_factory.mktemp("logs") / "lambda.jsonl",
            otlp=OtlpExport(receiver.url + "/", {"Authorization": TOKEN}),
        )
        try:
            # every kind but 3-D Secure's (its own tests), 2 refusals
            sent = drive(stack.api.url, stack.keys, 16, 4, seed=15, progress=False, mix=OTLP_MIX)
            final = settle(stack.api.url, stack.keys, sent, timeout_s=120)
            report = stack.report(sent, final)  # (waits until the ledger and wallets agree)
            # The trace ids each payment's events recorded in the four event stores.
            dynamodb = client("dynamodb")
            traces = {order_id: {e.trace_id for e in trace_payment(dynamodb, order_id)} for order_id in final}
            kinds = {s.body["payment_order_id"]: s.kind for s in sent if s.status == 201}
        finally:
            stack.stop()  # flushes the batch processor and the metric readers
    assert report.ok, report.render()
    yield receiver, report, {order_id: (kinds[order_id], ids) for order_id, ids in traces.items()}


OTLP_MIX = [("approve", 0.70), ("decline", 0.15), ("refuse", 0.05), ("invalid", 0.10)]


def test_every_export_request_carries_the_headers_given(run: Any) -> None:
    receiver, _, _ = run
    paths = Counter(r.path for r in receiver.received)
    assert paths["/v1/traces"] >= 1 and paths["/v1/metrics"] >= 1, paths
    assert {r.headers.get("authorization") for r in receiver.received} == {TOKEN}


def test_one_trace_per_payment_crosses_the_services_with_each_functions_resource(run: Any) -> None:
    receiver, _, traces = run
    functions_in_trace: dict[str, set[str]] = defaultdict(set)
    for resource, span in receiver.spans():
        assert RESOURCE_KEYS <= resource.keys(), resource
        assert resource["service.name"] == resource["faas.name"]
        assert (resource["cloud.provider"], resource["cloud.region"], resource["deployment.environment"]) == (
            "aws",
            "eu-west-1",
            "local",
        )
        functions_in_trace[span.trace_id.hex()].add(resource["faas.name"])

    assert Counter(kind for kind, _ in traces.values()) == {"approve": 9, "decline": 2, "refuse": 2}
    crossing = {"initializer-api", "initializer-relay", "finalizer", "finalizer-relay", "initializer-outcome"}
    for order_id, (kind, trace_ids) in traces.items():
        assert len(trace_ids) == 1 and None not in trace_ids, (order_id, trace_ids)  # one trace, every event
        seen = functions_in_trace[next(iter(trace_ids))]
        if kind == "approve":  # charged, booked and credited
            assert crossing | {"ledger", "wallet"} <= seen, (order_id, seen)
        elif kind == "decline":  # charged and declined: the ledger hears of it, the wallet does not
            assert crossing | {"ledger"} <= seen and "wallet" not in seen, (order_id, seen)
        else:  # refused by a business rule: answered by the API, never sent to the PSP
            assert "initializer-api" in seen and "finalizer" not in seen, (order_id, seen)


def test_no_card_number_is_exported(run: Any) -> None:
    receiver, _, _ = run
    everything = b"".join(r.body for r in receiver.received)
    assert len(everything) > 10_000
    for card in CARDS:
        assert card.encode() not in everything


def test_the_emf_business_metrics_arrive_as_otlp_metrics_of_their_function(run: Any) -> None:
    receiver, report, _ = run
    totals: Counter[tuple[str, str, str]] = Counter()
    for resource, name, point in receiver.metric_points():
        labels = attributes(point.attributes)
        totals[(resource["faas.name"], name, labels.get("currency", ""))] += point_value(point)
        # EMF dimensions become attributes: the service, or the currency alone for the captured amount
        expected = {"amount_captured_minor_units": {"currency"}, "cold_start": {"service", "function_name"}}
        assert set(labels) == expected.get(name, {"service"}), (name, labels)
        assert labels.get("service", "finalizer") == resource["faas.name"].split("-")[0]
    assert totals[("finalizer", "payments_succeeded", "")] == report.final_status["SUCCESS"]
    # Each SUCCESS posts one entry: its capture, carrying Stripe's fee on it (the fake PSP charges one on every card).
    assert totals[("ledger", "journal_entries_posted", "")] == report.final_status["SUCCESS"]
    assert totals[("finalizer", "psp_latency", "")] >= report.details["psp_charges"]  # a histogram: one per call
    captured: Counter[str] = Counter()
    for key, minor in report.details["success_minor_by_merchant"].items():
        captured[key.split("/")[1]] += minor
    for currency, minor in captured.items():
        assert totals[("finalizer", "amount_captured_minor_units", currency)] == minor


def test_headers_are_parsed_as_key_value_pairs() -> None:
    assert parse_headers(["Authorization=Api-Token a=b", " X-Scope = t1 "]) == {
        "Authorization": "Api-Token a=b",
        "X-Scope": "t1",
    }
    with pytest.raises(ValueError, match="'Authorization: x'"):
        parse_headers(["Authorization: x"])
