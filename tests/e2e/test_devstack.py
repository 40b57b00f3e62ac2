"""The local end-to-end run: nothing lost with a small N, and the dashboard renders in a real browser."""

from __future__ import annotations

import copy
import json
import random
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from devstack import series
from devstack.load import MERCHANTS, RETURN_URL, Sent, authenticate, drive, http, order, settle
from devstack.moto_local import client
from devstack.refunds import refund_some, settle_refunds
from devstack.sigv4 import LocalPrincipal, signed_headers
from devstack.stack import Devstack

from e2e.browser import rendered_dom, screenshot
from payments_testing.iam.deployed import Deployment

PANELS = {
    "service-map": "Service map",
    "overview": "API requests vs Lambda invocations",
    "errors": "API 4xx / 5xx",
    "latency": "Latency P50 / P90 / P95 / P99",
    "cold-starts": "Cold starts vs latency",
    "functions": "Invocations, concurrency and errors",
    "top-errors": "Top 10 errors",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devstack]:
    running = Devstack(api_port=0, psp_503_rate=0.2, logs=tmp_path_factory.mktemp("logs") / "lambda.jsonl")
    yield running
    running.stop()


def test_a_small_run_loses_nothing_and_balances(stack: Devstack) -> None:
    requests_before, invocations_before = len(stack.api.requests), len(stack.functions.invocations)
    sent = drive(stack.api.url, stack.keys, 24, 4, seed=3, progress=False, retry_share=0.25, unsigned_share=0.25)
    final = settle(stack.api.url, stack.keys, sent, timeout_s=120)
    refunds = refund_some(stack.api.url, stack.keys, sent, final, seed=3, share=0.6)
    settle_refunds(stack.api.url, stack.keys, refunds, final, timeout_s=120)
    report = stack.report(sent, final, refunds)
    assert report.ok, report.render()
    assert report.final_status.get("SUCCESS") and report.final_status.get("FAILED")
    assert report.http_status.get("400")  # the mix includes invalid requests
    assert sum(report.cold_starts.values()) >= 6  # every function started cold once
    # A manual-capture order's authorization is a charge at Stripe (captured: false) until it is captured or
    # released: the cancelled ones count too.
    assert report.details["psp_charges"] == report.final_status["SUCCESS"] + report.final_status.get("CANCELED", 0)
    # Refunds went through the flow: the PSP took them, the over-asks were refused naming what was left, and the
    # books (checked by report.ok) show each merchant's payable less what was refunded.
    assert report.refunds["statuses"].get("SUCCEEDED") and not report.refunds["pending"]
    assert sum(report.refunds["asked"].values()) >= 3
    # The unsigned orders mixed in were refused at the edge: API requests that no function answered.
    # (The initializer's: every request to it came from this test's clients and has been answered, whereas Stripe's
    # webhooks to the finalizer may still be in flight — a refund's reversal is told a moment after the refund.)
    refused = [r for r in stack.api.requests[requests_before:] if r.status == 403]
    gaps = series.requests_vs_invocations(
        stack.api.requests[requests_before:], stack.functions.invocations[invocations_before:]
    )
    [initializer] = [g for g in gaps if g.service == "initializer"]
    assert refused and initializer.refused == len(refused)


# The function roles' policies as Terraform rendered them before the IAM review (issue 34), from an apply.
ROLES_BEFORE = Path(__file__).with_name("iam_roles_before_review.json")


def test_every_call_of_the_run_is_allowed_by_the_deployed_roles_and_would_have_been_denied_before(
    stack: Devstack,
) -> None:
    """The small run's calls (the handlers' and their event sources') against infra/iam/policies.json; the
    same calls against the roles before the review name the two denials that review found."""
    checked = stack.iam_check()
    assert checked["denied"] == [] and checked["unmapped_calls"] == [], checked
    assert checked["requests"] > 50
    rendered = copy.deepcopy(dict(Deployment.load().rendered))
    for role, policies in json.loads(ROLES_BEFORE.read_text()).items():
        rendered["roles"][role]["inline"] = policies
    before = stack.iam_check(Deployment(rendered))["denied"]
    table, queue = "arn:aws:dynamodb:eu-west-1:123456789012:table", "arn:aws:sqs:eu-west-1:123456789012"
    assert f"initializer-outcome: dynamodb:UpdateItem on {table}/ShowMeTheMoney — IMPLICIT_DENY" in before, before
    for relay, store in [
        ("initializer-relay", "initializer"),
        ("finalizer-relay", "finalizer"),
        ("ledger-totals", "ledger"),
    ]:
        assert f"{relay}: sqs:SendMessage on {queue}:{store}-events-relay-failures — IMPLICIT_DENY" in before, before


def test_dashboard_renders_every_panel_with_data_and_links_to_waterfalls(stack: Devstack, tmp_path: Path) -> None:
    dom = rendered_dom(f"{stack.dashboard.url}/dashboard")
    for panel_id, title in PANELS.items():
        assert f'id="{panel_id}"' in dom and title in dom
    assert re.search(r"<td>initializer</td><td>\d+</td><td>\d+</td>", dom)  # requests vs invocations
    # Each time series drawn by uPlot (served locally) with every series and values in it.
    charts = {"traffic-chart": 5, "latency-chart": 5, "cold-chart": 2, "capacity-chart": 3}
    for chart_id, series_count in charts.items():
        drawn = re.search(rf'id="{chart_id}"[^>]*data-drawn="(\d+)" data-series="(\d+)"', dom)
        assert drawn and int(drawn.group(1)) > 0 and int(drawn.group(2)) == series_count, chart_id
    assert dom.count("<canvas") >= 4 and "u-legend" in dom
    # The service map: the API, every function the flow ran, the bus, queues, tables, the PSP; labelled edges.
    service_map = dom[dom.index('id="service-map"') : dom.index('id="overview"')]
    names = {
        " ".join(re.findall(r"<tspan[^>]*>([^<]*)</tspan>", node))
        for node in re.findall(r'<g class="node">.*?</g>', service_map)
    }
    assert {
        "API",
        "initializer-api",
        "initializer-relay",
        "finalizer",
        "finalizer-relay",
        "initializer-outcome",
        "ledger",
        "ledger-totals",
        "wallet",
        "EventBridge bus",
        "finalizer queue",
        "initializer tables",
        "PSP (Stripe API)",
        "KMS",
    } <= names, names
    psp = re.search(r"finalizer → PSP \(Stripe API\): (\d+) calls, (\d+) errors", service_map)
    assert psp and int(psp.group(1)) >= sum(stack.psp.requests.values()) > 0, psp  # every attempt has its span
    trace_link = re.search(r'href="(/traces/[0-9a-f]{32})"', dom)
    assert trace_link, "top errors should link to trace waterfalls (the PSP 503s at least)"
    waterfall = rendered_dom(stack.dashboard.url + trace_link.group(1))
    assert 'id="waterfall"' in waterfall and "<rect" in waterfall

    with urllib.request.urlopen(f"{stack.dashboard.url}/assets/uPlot.iife.min.js", timeout=10) as script:
        assert script.headers["Content-Type"].startswith("text/javascript") and b"uPlot" in script.read()
    assert http("GET", f"{stack.dashboard.url}/assets/..%2Fdashboard.py")[0] == 404
    # The API's port serves the API alone: no unsigned page beside it.
    assert http("GET", f"{stack.api.url}/dashboard")[0] == 403  # Missing Authentication Token, as REST

    png = tmp_path / "dashboard.png"
    screenshot(f"{stack.dashboard.url}/dashboard", png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_the_local_api_answers_like_api_gateway(stack: Devstack) -> None:
    status, trial = http("GET", f"{stack.api.url}/ledger/trial-balance", signer=stack.keys.operator)
    assert status == 200 and trial["balanced"] is True


def post_order(stack: Devstack, merchant: str, signer: LocalPrincipal, key: str) -> tuple[int, dict[str, Any]]:
    body = {**order("approve", random.Random(key)), "merchant_id": merchant}
    return http("POST", f"{stack.api.url}/payments", body, {"Idempotency-Key": key}, signer=signer)


def test_stripes_amount_rules_hold_from_the_api_to_the_psp(stack: Devstack) -> None:
    url, merchant = stack.api.url, stack.keys.merchant(MERCHANTS[0])
    isk = {**order("approve", random.Random(1)), "merchant_id": MERCHANTS[0], "amount": "500", "currency": "ISK"}
    status, placed = http("POST", f"{url}/payments", isk, {"Idempotency-Key": "isk-500"}, signer=merchant)
    assert status == 201, placed
    order_id = placed["payment_order_id"]
    assert (
        settle(url, stack.keys, [Sent("approve", status, placed, 0.0)], timeout_s=60)[order_id]["status"] == "SUCCESS"
    )
    [intent] = stack.psp.intents_with(payment_order_id=order_id)
    assert (intent["amount"], intent["currency"]) == (50_000, "isk")  # 500 krónur, two-decimal at Stripe

    before = rows_in("ShowMeTheMoney")
    below = {**isk, "amount": "0.10", "currency": "EUR"}
    status, problem = http("POST", f"{url}/payments", below, {"Idempotency-Key": "eur-0.10"}, signer=merchant)
    assert status == 400 and problem["errors"] == [
        {"field": "body.amount", "reason": "Value error, Stripe's minimum charge in EUR is 0.50"}
    ]
    assert rows_in("ShowMeTheMoney") == before


def test_a_payment_method_payment_succeeds_with_no_card_data_anywhere(stack: Devstack) -> None:
    url, merchant = stack.api.url, stack.keys.merchant(MERCHANTS[0])
    body = {k: v for k, v in order("approve", random.Random(2)).items() if k != "payment_details"}
    body = {**body, "merchant_id": MERCHANTS[0], "payment_method": "pm_card_visa"}
    numbers_seen = sum(stack.psp.card_numbers_seen.values())
    status, placed = http("POST", f"{url}/payments", body, {"Idempotency-Key": "pm-visa-1"}, signer=merchant)
    assert status == 201, placed
    order_id = placed["payment_order_id"]
    final = settle(url, stack.keys, [Sent("approve", status, placed, 0.0)], timeout_s=60)[order_id]
    assert (final["status"], final["payment_method"], final["card"]) == ("SUCCESS", "pm_card_visa", None)
    [intent] = stack.psp.intents_with(payment_order_id=order_id)
    assert intent["payment_method"] == "pm_card_visa" and intent["status"] == "succeeded"
    assert sum(stack.psp.card_numbers_seen.values()) == numbers_seen  # no card number reached Stripe for it
    dynamodb = client("dynamodb")
    events = dynamodb.query(
        TableName="initializer-events",
        KeyConditionExpression="stream_id = :s",
        ExpressionAttributeValues={":s": {"S": f"payment-{order_id}"}},
    )["Items"]
    first = json.loads(events[0]["data"]["S"])
    assert (first["card"], first["payment_details"], first["payment_method"]) == (None, None, "pm_card_visa")
    row = dynamodb.get_item(TableName="ShowMeTheMoney", Key={"payment_order_id": {"S": order_id}})["Item"]
    assert row["payment_method"] == {"S": "pm_card_visa"}
    assert row.get("payment_details", {"NULL": True}) == row.get("card_last4", {"NULL": True}) == {"NULL": True}


@pytest.mark.parametrize(
    ("buyer", "status", "reason"),
    [
        ("complete", "SUCCESS", None),
        ("fail", "FAILED", "payment_intent_authentication_failure"),
        (None, "FAILED", "authentication_abandoned"),  # walks away: the sweep cancels it past the deadline
    ],
)
def test_a_3ds_card_awaits_the_buyer_then_ends_by_stripes_webhook_or_the_sweep(
    stack: Devstack, buyer: str | None, status: str, reason: str | None
) -> None:
    merchant = stack.keys.merchant(MERCHANTS[2])
    body = {
        "merchant_id": MERCHANTS[2],
        "amount": "25.00",
        "currency": "EUR",
        "buyer_info": {"name": "Ada Lovelace", "email": "ada@example.com", "country": "FR"},
        "payment_method": "pm_card_authenticationRequired",
        "return_url": RETURN_URL,
    }
    created, order_ = http(
        "POST", f"{stack.api.url}/payments", body, {"Idempotency-Key": f"3ds-{buyer}"}, signer=merchant
    )
    assert created == 201, order_
    order_id = order_["payment_order_id"]
    assert authenticate(stack.api.url, merchant, order_id, buyer) == "REQUIRES_ACTION"
    final = settle(stack.api.url, stack.keys, [Sent("3ds", 201, order_, 0.0)], timeout_s=60)[order_id]
    assert final["status"] == status and final.get("next_action") is None, final
    assert reason is None or reason in (final["failure_reason"] or ""), final
    assert stack.psp.intents[order_id] == 1 and stack.psp.charges[order_id] == (1 if status == "SUCCESS" else 0)


def test_two_merchants_and_an_operator_each_reach_only_what_is_theirs(stack: Devstack) -> None:
    url, keys = stack.api.url, stack.keys
    one, two = keys.merchant(MERCHANTS[0]), keys.merchant(MERCHANTS[1])
    status, mine = post_order(stack, MERCHANTS[0], one, "isolation-1")
    assert status == 201, mine
    order_url = f"{url}/payments/{mine['payment_order_id']}"
    assert http("GET", order_url, signer=one)[0] == 200
    assert http("GET", order_url, signer=keys.operator)[0] == 200
    # Another merchant's order answers exactly as an order that does not exist: its existence is not disclosed.
    hidden, problem = http("GET", order_url, signer=two)
    unknown_id = "6f1f4d4e-2b0a-4c55-9d55-7b1c0b1e5a10"
    missing, absent = http("GET", f"{url}/payments/{unknown_id}", signer=two)
    assert hidden == missing == 404
    assert problem == {**absent, "detail": absent["detail"].replace(unknown_id, mine["payment_order_id"])}

    # Its own wallet: the answer the operator gets (200, or 404 before any credit), never a refusal.
    own = http("GET", f"{url}/wallets/{MERCHANTS[0]}", signer=one)
    assert own == http("GET", f"{url}/wallets/{MERCHANTS[0]}", signer=keys.operator) and own[0] != 403, own
    assert http("GET", f"{url}/wallets/{MERCHANTS[0]}", signer=two)[0] == 403
    assert http("GET", f"{url}/ledger/trial-balance", signer=one)[0] == 403  # the books: operators only


def test_a_spoofed_merchant_id_is_refused_and_writes_nothing(stack: Devstack) -> None:
    before = rows_in("ShowMeTheMoney")
    status, problem = post_order(stack, MERCHANTS[0], stack.keys.merchant(MERCHANTS[1]), "spoofed-1")
    assert status == 403 and problem["errors"][0]["field"] == "body.merchant_id"
    assert rows_in("ShowMeTheMoney") == before


def test_unsigned_expired_and_wrongly_signed_requests_are_refused_before_any_handler(stack: Devstack) -> None:
    url, merchant = stack.api.url, stack.keys.merchant(MERCHANTS[0])

    def api_invocations() -> int:  # consumers and relays may still be finishing earlier tests' events
        return sum(1 for i in stack.functions.invocations if i.function.endswith("-api"))

    invocations = api_invocations()
    assert http("GET", f"{url}/ledger/trial-balance")[0] == 403  # unsigned
    old = datetime.now(UTC) - timedelta(minutes=20)
    with patch("botocore.auth.get_current_datetime", return_value=old):
        expired = signed_headers(stack.keys.operator, "GET", f"{url}/ledger/trial-balance", None)
    wrong_key = replace(merchant, secret_key="not-the-secret")
    forged = signed_headers(wrong_key, "GET", f"{url}/wallets/{MERCHANTS[0]}", None)
    for target, headers in ((f"{url}/ledger/trial-balance", expired), (f"{url}/wallets/{MERCHANTS[0]}", forged)):
        status, body = http("GET", target, headers=headers)
        assert status == 403 and body["message"], body
    assert expired and "Signature expired" in str(http("GET", f"{url}/ledger/trial-balance", headers=expired)[1])
    assert api_invocations() == invocations  # no handler ran


def rows_in(table: str) -> int:
    return int(client("dynamodb").scan(TableName=table, Select="COUNT")["Count"])
