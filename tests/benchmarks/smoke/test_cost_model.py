"""cost_model: the cost per million payments per level, on demand vs provisioned, from fixed figures (no stack run)."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import pytest
from benchmarks import cost_model, flow
from benchmarks.cost_model import Floors, on_demand_per_million, provisioned_per_million
from benchmarks.flow import charge_batch_seconds
from benchmarks.run import main
from fake_psp.latency import CHARGE
from hypothesis import given, settings
from hypothesis import strategies as st

FLAT_DAY = (1.0,) * 24
NO_FLOOR = Floors.uniform(0, 0)
rates = st.floats(min_value=0.01, max_value=5_000, allow_nan=False)
shapes = st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=1, max_size=24).map(tuple)
targets = st.floats(min_value=0.2, max_value=0.9)


def test_the_main_path_is_benchmarks_32_73_write_units_less_the_wallets_event_claim_and_the_ledgers_fee_entry() -> None:
    # docs/benchmarks.md §3, "The main path measured": 31.73 units in transactions + the notifier's 1-unit PutItem;
    # the wallet's credit no longer claims its event id (one item, 2 units, fewer), and the ledger's capture carries
    # Stripe's fee (no psp_fee entry nor its totals marker: two items, 4 units, fewer). 32.73 - 2 - 4 = 26.73.
    assert cost_model.MAIN_PATH_ITEMS_PER_SUCCESS["ledger-events"] == 2  # the capture entry and its totals marker
    assert sum(cost_model.MAIN_PATH_ITEMS_PER_SUCCESS.values()) == pytest.approx(12.865)
    assert cost_model.write_units_by_table()["merchant-events"] == 1.0  # the notifier's record: a standard PutItem
    assert cost_model.write_units_per_payment() == pytest.approx(26.73)
    assert cost_model.read_units_per_payment() == pytest.approx(4.0)


def test_on_demand_at_a_trickle_in_the_first_api_tier_is_38_dollars_per_million() -> None:
    # By hand: 26.73 WRU x $0.625/M = $16.71; 4 RRU x $0.125/M = $0.50; API Gateway 1 x $3.50/M = $3.50 (the
    # merchant's POST; Stripe's webhook is a function URL: $0 beyond its invocation, already in Lambda's); EventBridge
    # 2 x $1/M. A trickle: every batch one record. SQS: 5 queues x (send, receive, delete) = 15 x $0.40/M = $6.00.
    # Lambda: 15 invocations (the POST, Stripe's webhook, 5 queue batches, 8 stream records: 2 + 1 + 2 + 3) x $0.2/M
    # + (15 x 40 ms + 507.8 ms, a charge's capped mean) x 0.1875 GB x $16.6667/M GB-s = $3.00 + $3.462. Logs: 3,078
    # bytes measured at 3.17 invocations, + 270 bytes of metrics for each of the 11.83 more = 6,272 bytes: CloudWatch
    # $0.50/GB = $3.136, Firehose $0.029/GB = $0.182.
    cost = on_demand_per_million()
    assert cost["dynamodb_writes"] == pytest.approx(26.73 * 0.625)
    assert cost["dynamodb_reads"] == pytest.approx(0.50)
    assert cost["api_gateway"] == pytest.approx(3.50)
    assert cost["function_url"] == 0.0
    assert cost["sqs"] == pytest.approx(6.00)
    assert cost["lambda"] == pytest.approx(3.00 + 1.1078 * 0.1875 * 16.6667, abs=0.001)
    assert cost["cloudwatch_logs"] == pytest.approx(3.136, abs=0.001)
    assert cost["firehose"] == pytest.approx(0.1819, abs=0.0001)
    # 29.53 when the model held the backed-up measurement's 6.28 SQS requests, 3.37 invocations and 3,078 log bytes
    # at every rate
    assert sum(cost.values()) == pytest.approx(38.49, abs=0.01)


def test_provisioned_at_a_steady_thousand_per_second_by_hand() -> None:
    # 26.73 write units/s per payment/s (25.73 transactional, the notifier's 1) at 70 %: 38,186 WCU x $0.00065 =
    # $24.82 an hour for 3.6 M payments: $6.89 per million. Reads: 3,000 / 0.7 RCU x $0.00013 = $0.557 an hour
    # ($0.155 per million) + 1 unit on demand ($0.125). API Gateway: 2,592 M POSTs in a month of such
    # days: 333 M at $3.50, 667 M at $2.80, 1,592 M at $2.38 = $6,822.06, $2.632 per million. The finalizer
    # allows 1.5 x 1,000/s x (1.262 s + 40 ms) / 10 = 195.3 batches in flight; 1,000/s over them is 5.12/s each, which
    # a batch of 6 carries (6 / (1.065 s + 40 ms) = 5.43; 5 / (0.999 s + 40 ms) = 4.81 does not): 1.065 s / 6 =
    # 177.5 ms a payment. The outcome's 10 batches of 40 ms carry 1,000/s with 4 records (3 make 750/s); the ledger's,
    # wallet's and notifier's 1 s windows gather 200 each, so 10. SQS: (1 + 2/6) + (1 + 2/4) + 3 x (1 + 2/10) =
    # 6.433 x $0.40 = $2.573. Invocations: 2 + 1/6 + 1/4 + 3/10 + the streams' full batches (2,000 + 1,000 + 2,000 +
    # 3,000 records/s, 4 shards each, over 100 a shard each second: 80/s) 0.08 = 2.797: x $0.2/M = $0.559, and
    # (2.797 x 40 ms + 177.5 ms) x 0.1875 GB x $16.6667/M GB-s = $0.904. Logs: 3.078 KB, $1.539 + $0.089.
    # EventBridge $2.
    cost = provisioned_per_million(1_000, NO_FLOOR, target=0.7, shape=FLAT_DAY)
    assert cost["dynamodb_writes"] == pytest.approx(24.8207 / 3.6, abs=0.001)
    assert cost["dynamodb_reads"] == pytest.approx(0.55714 / 3.6 + 0.125, abs=0.001)
    assert cost["api_gateway"] == pytest.approx(6822.06 / 2592, abs=0.001)
    assert cost["sqs"] == pytest.approx(6.4333 * 0.4, abs=0.001)
    assert cost["lambda"] == pytest.approx(0.5593 + 0.9043, abs=0.001)
    # 17.60 with the backed-up measurement's 6.28 SQS requests and 3.37 invocations (2.80 here: no more log bytes)
    assert sum(cost.values()) == pytest.approx(17.47, abs=0.01)


def test_the_stream_mappings_batch_as_the_event_store_module_deploys_them() -> None:
    module = Path("infra/terraform/modules/event_store/main.tf").read_text()
    mapping = re.search(r'resource "aws_lambda_event_source_mapping" "relay" \{(.*?)\n\}', module, re.DOTALL)
    assert mapping is not None
    assert re.search(rf"\bbatch_size\s*=\s*{cost_model.STREAM_BATCH}\n", mapping[1])
    assert re.search(rf"maximum_batching_window_in_seconds\s*=\s*{cost_model.STREAM_WINDOW_S:g}\n", mapping[1])


def test_batches_fill_with_the_rate_as_each_mapping_allows() -> None:
    in_flight = cost_model.finalizer_batches_in_flight(10)
    at_ten = {name: cost_model.queue_batch(name, 10, in_flight) for name in cost_model.MAIN_PATH_QUEUES}
    # No window (the buyer's path): batches of one while the batches in flight carry the rate. A 1 s window: what
    # one of the five pollers gathers, 10/s over 5.
    assert at_ten == {"finalizer": 1, "initializer-outcome": 1, "ledger": 2, "wallet": 2, "notifier": 2}
    # A stream's 4 shards at 10 records/s: one batch a window each; at 1,000/s over 100 a shard: full batches.
    assert cost_model.stream_batches_per_s(10) == pytest.approx(4)
    assert cost_model.stream_batches_per_s(1_000) == pytest.approx(10)
    assert cost_model.stream_batches_per_s(0.5) == pytest.approx(0.5)  # fewer than one a window: each alone


@settings(deadline=None)  # pure arithmetic, but a loaded machine can stall an example
@given(low=rates, high=rates, shape=shapes)
def test_a_payments_deliveries_never_rise_with_the_rate_and_never_pass_a_trickles(
    low: float, high: float, shape: tuple[float, ...]
) -> None:
    low, high = sorted((low, high))
    at_low, at_high = (cost_model.deliveries_per_payment(rate, shape) for rate in (low, high))
    for field in ("sqs_requests", "invocations"):
        trickle = getattr(cost_model.TRICKLE, field)
        assert getattr(at_high, field) <= getattr(at_low, field) * (1 + 1e-9) <= trickle * (1 + 1e-6)
    # Never below every batch full: a send and 2/10 of a receive and a delete per queue message.
    assert at_high.sqs_requests >= len(cost_model.MAIN_PATH_QUEUES) * 1.2 * (1 - 1e-9)


def test_a_batch_charged_at_once_waits_for_its_slowest_charge_wave_by_wave() -> None:
    assert charge_batch_seconds(1) == pytest.approx(CHARGE.expected_slowest(1))
    assert charge_batch_seconds(10) == pytest.approx(CHARGE.expected_slowest(10)) == pytest.approx(1.262, abs=0.001)
    assert charge_batch_seconds(13) == pytest.approx(CHARGE.expected_slowest(10) + CHARGE.expected_slowest(3))


def test_the_finalizers_batches_in_flight_per_level_are_capacity_mds() -> None:
    # docs/capacity.md, "What carries each rate": maximum_concurrency 10 (as built), 20 and 196.
    assert [math.ceil(cost_model.finalizer_batches_in_flight(level)) for level in (10, 100, 1_000)] == [10, 20, 196]
    assert cost_model.charge_batch(10, 10) == 1  # a trickle: batches of one
    assert cost_model.charge_batch(1_000, 10) == cost_model.FINALIZER_BATCH  # beyond them: a backlog, full batches


def test_fewer_batches_in_flight_fill_each_batch_and_cost_less_but_each_waits_longer() -> None:
    trade = list(cost_model.concurrency_trade(10).values())
    as_built = cost_model.provisioned_per_million(10, cost_model.floors_of(cost_model.settings(10)))

    assert trade[-1]["total"] == pytest.approx(sum(as_built.values()), abs=0.01)  # 10 in flight: the model as built
    for fewer, more in itertools.pairwise(trade):
        assert fewer["total"] <= more["total"] and fewer["batch_wait_s"] >= more["batch_wait_s"]
        assert fewer["records_per_batch_at_peak"] >= more["records_per_batch_at_peak"]
    assert trade[0]["total"] < trade[-1]["total"] - 0.5  # 2 in flight: batches of several share their wait


@settings(deadline=None)  # pure arithmetic, but a loaded machine can stall an example
@given(low=rates, high=rates, shape=shapes)
def test_a_payments_charge_bills_between_a_full_batchs_share_and_a_lone_charge_and_never_more_at_a_higher_rate(
    low: float, high: float, shape: tuple[float, ...]
) -> None:
    low, high = sorted((low, high))
    at_low, at_high = (cost_model.charge_seconds_per_payment(rate, shape) for rate in (low, high))
    assert charge_batch_seconds(10) / 10 * (1 - 1e-9) <= at_high <= at_low * (1 + 1e-9)
    assert at_low <= charge_batch_seconds(1) * (1 + 1e-9)


def test_rest_api_requests_are_priced_in_their_monthly_tiers() -> None:
    assert cost_model.rest_api_price_per_request(100e6) == pytest.approx(3.50e-6)
    assert cost_model.rest_api_price_per_request(1e9) == pytest.approx((333 * 3.50 + 667 * 2.80) / 1000 * 1e-6)
    assert cost_model.rest_api_price_per_request(40e9) == pytest.approx(
        (333 * 3.50 + 667 * 2.80 + 19_000 * 2.38 + 20_000 * 1.51) / 40_000 * 1e-6
    )


@settings(deadline=None)  # pure arithmetic, but a loaded machine can stall an example
@given(low=st.floats(min_value=1, max_value=1e11), high=st.floats(min_value=1, max_value=1e11))
def test_a_request_never_costs_more_in_a_busier_month(low: float, high: float) -> None:
    low, high = sorted((low, high))
    assert cost_model.rest_api_price_per_request(high) <= cost_model.rest_api_price_per_request(low) * (1 + 1e-12)


def test_a_floor_costs_the_quiet_hours() -> None:
    # One payment a second needs 0-8 write units per table: a floor of 100 on each of 11 tables is what is bought.
    floored = provisioned_per_million(1, Floors.uniform(100, 1), target=0.7, shape=FLAT_DAY)
    assert floored["dynamodb_writes"] == pytest.approx(11 * 100 * 0.00065 / 3600 * 1e6)


def test_behind_queues_the_settings_floor_never_holds_a_table_above_its_need() -> None:
    # Its need, or DynamoDB's least capacity (1 unit) for a table the main path does not write (the notifier's
    # endpoints and deliveries log).
    for level in cost_model.LEVELS:
        chosen = cost_model.settings(level)
        api_floor_only = Floors(
            {s: v["write_min"] if s in cost_model.SYNCHRONOUS_SERVICES else 1 for s, v in chosen.items()},
            {s: 0 for s in chosen},
        )
        assert provisioned_per_million(level, cost_model.floors_of(chosen))["dynamodb_writes"] == pytest.approx(
            provisioned_per_million(level, api_floor_only)["dynamodb_writes"]
        )


def test_the_apis_tables_hold_the_plateau_and_every_maximum_carries_the_peak() -> None:
    for level in cost_model.LEVELS:
        for service, setting in cost_model.settings(level).items():
            tables = [t for t, s in cost_model.SERVICE_OF_TABLE.items() if s == service]
            busiest = max(cost_model.write_units_by_table()[t] for t in tables)
            assert setting["write_max"] >= busiest * level / 0.7
            assert 1 <= setting["write_min"] <= setting["write_max"] and 20 <= setting["target_utilization"] <= 90
            if service in cost_model.SYNCHRONOUS_SERVICES:
                assert setting["write_min"] >= busiest * cost_model.API_FLOOR_SHARE * level / 0.7


def test_api_tables_on_demand_cost_their_write_units_at_the_on_demand_price() -> None:
    # The initializer's 4 items (8 write units) at $0.625/M: at a flat day with no floor, the other 18.73 units
    # provisioned at 70 % ($0.2579/M each) + 8 x $0.625.
    mixed = provisioned_per_million(1_000, NO_FLOOR, 0.7, FLAT_DAY, on_demand_services=frozenset({"initializer"}))
    assert mixed["dynamodb_writes"] == pytest.approx(18.73 * 0.00065 / 3600 / 0.7 * 1e6 + 8 * 0.625)


def test_the_levels_table_names_every_level() -> None:
    rows = cost_model.per_level()
    assert list(rows) == ["10_per_s", "100_per_s", "1000_per_s"]
    assert all(f"| {level}/s |" in cost_model.table(rows) for level in (10, 100, 1000))


@settings(deadline=None)  # pure arithmetic, but a loaded machine can stall an example
@given(low=rates, high=rates, shape=shapes, target=targets)
def test_provisioned_cost_per_million_never_rises_with_the_rate(
    low: float, high: float, shape: tuple[float, ...], target: float
) -> None:
    low, high = sorted((low, high))
    floors = Floors.uniform(5, 5)
    at_low = sum(provisioned_per_million(low, floors, target, shape).values())
    at_high = sum(provisioned_per_million(high, floors, target, shape).values())
    assert at_high <= at_low * (1 + 1e-9)


@settings(deadline=None)  # pure arithmetic, but a loaded machine can stall an example
@given(rate=rates, other=rates)
def test_on_demand_dynamodb_is_the_same_at_every_rate_and_the_rest_never_dearer_at_a_higher_one(
    rate: float, other: float
) -> None:
    low, high = sorted((rate, other))
    at_low, at_high = on_demand_per_million(low), on_demand_per_million(high)
    assert at_low["dynamodb_writes"] == at_high["dynamodb_writes"] == on_demand_per_million()["dynamodb_writes"]
    assert sum(at_high.values()) <= sum(at_low.values()) * (1 + 1e-9)
    rows = cost_model.per_level((round(rate) + 1,))
    assert rows[f"{round(rate) + 1}_per_s"]["on_demand_per_million"]["total"] == round(
        sum(on_demand_per_million(round(rate) + 1).values()), 2
    )


@settings(deadline=None)  # pure arithmetic, but a loaded machine can stall an example
@given(rate=rates, shape=shapes, target=targets, floor=st.floats(min_value=0, max_value=1_000))
def test_provisioned_is_never_cheaper_than_its_utilization_allows(
    rate: float, shape: tuple[float, ...], target: float, floor: float
) -> None:
    cost = provisioned_per_million(rate, Floors.uniform(floor, floor), target, shape)
    dynamodb = cost["dynamodb_writes"] + cost["dynamodb_reads"]
    assert dynamodb >= cost_model.utilization_bound_per_million(target) * (1 - 1e-9)


def test_the_benchmark_prints_the_table_and_writes_the_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    assert main(["--only", "cost_per_level", "--json", str(out)]) == 0
    assert "| 1000/s |" in capsys.readouterr().out
    figures = json.loads(out.read_text())["cost_per_level"]
    assert figures["1000_per_s"]["settings"]["wallet"]["billing_mode"] == "PROVISIONED"


def test_the_platform_log_bytes_follow_the_functions_system_log_level() -> None:
    """The log bytes a payment is billed: Lambda's START and REPORT lines only at the level Terraform gives every
    function (modules/lambda_service's system_log_level default)."""
    variables = Path("infra/terraform/modules/lambda_service/variables.tf").read_text()
    block = re.search(r'variable "system_log_level" \{.*?default\s*=\s*"(\w+)"', variables, re.DOTALL)
    assert block is not None
    assert flow.SYSTEM_LOG_LEVEL == block[1]
    assert flow.PLATFORM_LOG_BYTES_PER_INVOCATION[flow.SYSTEM_LOG_LEVEL] == 0
    assert flow.PLATFORM_LOG_BYTES_PER_INVOCATION["INFO"] > 0
