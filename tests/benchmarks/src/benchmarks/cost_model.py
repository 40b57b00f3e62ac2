"""Cost per million payments at 10, 100 and 1,000 payments/s: DynamoDB on demand vs provisioned (issue 32).

A model from fixed figures (no stack run): the main path's per-payment DynamoDB items and reads, counted on moto
(docs/benchmarks.md §3, "Fewer calls per payment, second round"), priced with flow.py's PRICES, and provisioned
capacity priced per capacity-unit hour. PSP fees excluded.

**The day.** A level is the *peak* rate a day must carry. The day is PEAK_DAY_SHAPE: 24 hourly rates as shares of
the peak (a retail peak day: quiet night at 8-15 %, a morning ramp, a plateau at 80-90 % from 10:00, the evening
peak at 18:00-20:00, a fall after 21:00 — mean 0.59). Why this shape: a level names the peak, and a day flat at its
peak would be provisioned capacity's best case; a real day spends its nights far below it. On-demand cost per payment
does not depend on it; provisioned does, because capacity is bought per hour whether used or not and follows the rate
only as fast as auto scaling lets it:

- each table's capacity in an hour is its need (write units per second / target utilization), never below the
  service's minimum (`write_min`/`read_min`: the floor);
- it rises within the hour the rate rises (target tracking scales out after two minutes above the target), and
  falls one hour late (scale-in waits for 15 consecutive minutes below the target; DynamoDB allows 4 decreases in
  a day's first hour and one per hour after that, 27 a day — an hourly step down fits);
- capacity units are taken as continuous (rounding up to whole units adds under 1 % at these rates).

A sudden peak above the scaled capacity is outside an hourly model: docs/capacity.md says what carries it.

**The batches.** What a payment costs outside DynamoDB depends on how full the event source mappings' batches are
at the hour's rate: a batch of one bills its SQS receive and delete and its invocation to one payment
(`deliveries_per_payment`), as a batch's wait for Stripe is shared by its records (`charge_seconds_per_payment`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devstack import resources

from benchmarks.flow import (
    DEPLOYED_INVOCATION_MS,
    LAMBDA_MEMORY_GB,
    PRICES,
    charge_batch_seconds,
)

# Provisioned capacity, Standard table class, us-east-1: $0.00065 per WCU-hour, $0.00013 per RCU-hour
# (https://aws.amazon.com/dynamodb/pricing/provisioned/). One WCU is one write of up to 1 KB per second; a
# transactional write takes two (same page). On demand, a transactional write takes two write request units
# (https://aws.amazon.com/dynamodb/pricing/on-demand/; PRICES holds the per-unit prices).
PROVISIONED_PRICES = {"dynamodb_wcu_hour": 0.00065, "dynamodb_rcu_hour": 0.00013}
TRANSACTIONAL_WRITE_UNITS = 2  # per item up to 1 KB, both modes: every main-path item is a transaction's

# The main path's transactional items per SUCCESS (a Stripe PaymentMethod approved at once, Stripe's fee), by the
# table they land in, as measured on the local stack (docs/benchmarks.md §3, "The main path measured, every service
# priced": 32.73 write units by function, no item over 1 KB). API: order event + order row; charge: event + result
# row; outcome: event + row; ledger posting: the capture entry, carrying Stripe's fee; totals: its marker
# (ledger-events) and the stream batch's account rows (0.87 a payment); wallet credit: event, the payment's claim,
# snapshot (wallet-events) + balances row. Since the measurement, two items are no longer written: the wallet event's
# own claim (-2 units) and, since 2026-12-06, the ledger's psp_fee entry and its totals marker, the capture carrying
# the fee (-4 units: ledger-events 4 -> 2).
MAIN_PATH_ITEMS_PER_SUCCESS: dict[str, float] = {
    "initializer-events": 2,
    "orders": 2,
    "finalizer-events": 1,
    "BreakingTheBank": 1,
    "ledger-events": 2,
    "LedgerAccounts": 0.865,
    "wallet-events": 3,
    "WalletBalances": 1,
}
# The notifier's record of the payment for merchants' webhooks: one standard PutItem (1 unit) on merchant-events.
STANDARD_ITEMS_PER_SUCCESS: dict[str, float] = {"merchant-events": 1.0}
# Reads (4.0 units per payment measured): Stripe's webhook reads the payment's stream (finalizer-events), the wallet
# its snapshot (wallet-events), the notifier its merchant's endpoints (webhook-endpoints: one Query a payment, the
# dearer figure: a batch's events of one merchant share it). On demand in both modes: the API's principal lookup
# (0.57, cached 60 s per container, on the platform's principals table) and the 0.43 the measurement holds beyond
# one unit per call (priced on demand: the dearer assumption).
MAIN_PATH_READS_PER_SUCCESS: dict[str, float] = {
    "finalizer-events": 1.0,
    "wallet-events": 1.0,
    "webhook-endpoints": 1.0,
}
ON_DEMAND_ONLY_READS_PER_SUCCESS = 1.0

# Which service's table_capacity sets each table's floor (one setting per service root, for all its tables: a
# table off the main path, as the notifier's deliveries log, is billed its floor).
SERVICE_OF_TABLE = {
    "initializer-events": "initializer",
    "orders": "initializer",
    "finalizer-events": "finalizer",
    "BreakingTheBank": "finalizer",
    "ledger-events": "ledger",
    "LedgerAccounts": "ledger",
    "wallet-events": "wallet",
    "WalletBalances": "wallet",
    "merchant-events": "notifier",
    "webhook-endpoints": "notifier",
    "webhook-deliveries": "notifier",
}


def write_units_by_table() -> dict[str, float]:
    """Write units a payment takes in each table: 2 per transactional item, 1 per standard one (items up to 1 KB)."""
    return {
        table: TRANSACTIONAL_WRITE_UNITS * MAIN_PATH_ITEMS_PER_SUCCESS.get(table, 0.0)
        + STANDARD_ITEMS_PER_SUCCESS.get(table, 0.0)
        for table in SERVICE_OF_TABLE
    }


# The rest of a payment's bill, priced with PRICES: one REST API request (the merchant's POST) and one function URL
# request (Stripe's webhook, on the finalizer-webhook function's own URL since 2026-12-06: no charge beyond its
# invocation, counted in Lambda's); two EventBridge events; the event source mappings' SQS requests and Lambda
# invocations at the hour's rate (below); each invocation at flow.py's deployed duration (40 ms; the charge's share of
# its batch's wait below, charge_seconds_per_payment); the logs ingested by CloudWatch Logs and carried by Firehose:
# 3.08 KB a payment measured at 3.17 invocations a payment (2026-12-06, bench-2026-12-06-main-path-no-platform-lines:
# our lines only, Lambda's START and REPORT lines kept out by system_log_level WARN; was 3.83 KB with them, 4.34 KB
# with the Lambda context's constants on every line), and a metrics line for each invocation beyond those: Powertools
# flushes its metrics once an invocation, one EMF line of ~270 bytes (the mean of two local runs' 256 and 276).
# Fewer invocations are not credited (the dearer figure).
API_REQUESTS = 1
FUNCTION_URL_REQUESTS = 1
EVENTBRIDGE_EVENTS = 2
LOG_BYTES = 3_078
LOG_BYTES_MEASURED_AT_INVOCATIONS = 3.17
METRICS_LINE_BYTES = 270

# The event source mappings a payment's records pass through on the main path. How full their batches are depends on
# the rate, as the finalizer's wait for Stripe does: a batch of one bills its invocation, its ReceiveMessage and its
# DeleteMessageBatch to one payment. (Until 2026-12-07 the model held 6.28 SQS requests and 3.37 invocations a payment
# at every level: the main-path measurement's, whose 4 closed-loop clients back the local queues up — 9.4 records a
# batch, the cheap case, not a trickle's.)
# - SQS (contracts/consumers.json, one message a payment each): EventBridge sends the message (one SendMessage); the
#   mapping receives a batch (one ReceiveMessage) and deletes it (one DeleteMessageBatch), as flow.py counts them.
#   Empty long polls between messages are left out (at most 3 a minute per poller).
MAIN_PATH_QUEUES = ("finalizer", "initializer-outcome", "ledger", "wallet", "notifier")  # subscription names
QUEUE_SETTINGS = {s.name: s.settings for s in resources.SUBSCRIPTIONS if s.name in MAIN_PATH_QUEUES}
# "When messages are available, Lambda starts processing five batches at a time with five concurrent invocations of
# your function [...] When traffic is low, Lambda scales back the processing to five concurrent batches" (Lambda's
# guide, scaling behavior for SQS event source mappings; the optimization to 2 is off with maximum concurrency set).
# With a batching window each of them gathers its own batch: at a low rate the window holds a fifth of its messages.
LOW_TRAFFIC_BATCHES = 5
# - DynamoDB streams (modules/event_store: batch_size 100, maximum_batching_window_in_seconds 1): each event store's
#   stream feeds a function (topology.STREAM_CONSUMERS), every item a payment writes there a record; GetRecords by a
#   Lambda trigger is free. Each shard is read on its own: a table created on demand (the modules' default) starts
#   with 4 partitions, the "warm throughput" of 4,000 writes a second of DynamoDB's guide, a shard each, and
#   partitions never merge — so 4 shards a table at every level (more at 1,000/s, where batches are full anyway).
STREAM_BATCH = 100
STREAM_WINDOW_S = 1.0
STREAM_SHARDS = 4
STREAM_RECORDS_PER_PAYMENT = {table: MAIN_PATH_ITEMS_PER_SUCCESS[table] for table in resources.EVENT_STORES.values()}


# The finalizer's batches: up to FINALIZER_BATCH records (contracts/consumers.json), handed over with no batching
# window, so a batch is what one receive returned; at most `maximum_concurrency` in flight as built.
FINALIZER_BATCH = resources.CHARGE_MAPPING.batch_size
FINALIZER_MAXIMUM_CONCURRENCY = resources.CHARGE_MAPPING.maximum_concurrency
FINALIZER_HEADROOM = 1.5  # batches in flight allowed over those a level's peak needs with full batches

# The initializer's tables are written inside POST /payments: a throttled write answers the client (503 with
# Retry-After, nothing written). Every other main-path table is written behind a queue or a stream, where a throttled
# write is a redelivery. API_FLOOR_SHARE: the share of the peak the API's tables are never provisioned below.
SYNCHRONOUS_SERVICES = frozenset({"initializer"})
API_FLOOR_SHARE = 0.8

LEVELS = (10, 100, 1_000)
TARGET_UTILIZATION = 0.70  # the console's default target, and the modules' default
PEAK_DAY_SHAPE = (
    0.15, 0.10, 0.08, 0.08, 0.10, 0.15, 0.30, 0.50, 0.65, 0.75, 0.80, 0.85,
    0.90, 0.85, 0.80, 0.80, 0.85, 0.90, 1.00, 1.00, 0.95, 0.80, 0.50, 0.30,
)  # fmt: skip


def write_units_per_payment() -> float:
    return sum(write_units_by_table().values())


def read_units_per_payment() -> float:
    return sum(MAIN_PATH_READS_PER_SUCCESS.values()) + ON_DEMAND_ONLY_READS_PER_SUCCESS


# REST API requests are priced in monthly tiers (us-east-1, per million: the first 333 million $3.50, the next 667
# million $2.80, the next 19 billion $2.38, beyond $1.51 — AWS whitepaper "Best Practices for Designing Amazon API
# Gateway Private APIs and Private Integration", Cost optimization, Table 4). PRICES' $3.50 is the first tier.
REST_API_TIERS = ((333e6, 3.50e-6), (667e6, 2.80e-6), (19e9, 2.38e-6), (math.inf, 1.51e-6))
DAYS_PER_MONTH = 30


def rest_api_price_per_request(requests_per_month: float) -> float:
    """The mean price of a REST API request in a month of this many (the account's: every API's requests count)."""
    if requests_per_month <= 0:
        return REST_API_TIERS[0][1]
    left, cost = requests_per_month, 0.0
    for size, price in REST_API_TIERS:
        taken = min(left, size)
        cost, left = cost + taken * price, left - taken
        if left <= 0:
            break
    return cost / requests_per_month


def payments_per_day(peak_per_s: float, shape: tuple[float, ...] = PEAK_DAY_SHAPE) -> float:
    return sum(peak_per_s * share * 3600 for share in shape)


def finalizer_batch_seconds(records: int) -> float:
    """A finalizer batch, deployed: its wait for Stripe (charge_batch_seconds) and its own store work."""
    return charge_batch_seconds(records) + DEPLOYED_INVOCATION_MS / 1000


def finalizer_batches_in_flight(peak_per_s: float) -> float:
    """The batches in flight the finalizer's mapping allows to carry a peak (docs/capacity.md, "What carries each
    rate": its `maximum_concurrency`, this rounded up): full batches, each lasting its slowest charge and its store,
    with FINALIZER_HEADROOM; never below as built."""
    needed = peak_per_s * finalizer_batch_seconds(FINALIZER_BATCH) / FINALIZER_BATCH
    return max(FINALIZER_MAXIMUM_CONCURRENCY, FINALIZER_HEADROOM * needed)


def charge_batch(rate_per_s: float, batches_in_flight: float) -> int:
    """The records per finalizer batch at a rate (records_per_batch): each batch waits for its slowest charge, shared
    by few at a low rate (the dearest case)."""
    return records_per_batch(rate_per_s, FINALIZER_BATCH, batches_in_flight, finalizer_batch_seconds)


def records_per_batch(rate_per_s: float, batch_size: int, in_flight: float, seconds: Callable[[int], float]) -> int:
    """The fewest records a batch holds at a rate: with batches to spare a receive returns what little is queued, and
    each batch is as small as the batches in flight (each lasting `seconds(records)`) allow; beyond them the queue
    backs up and batches are full."""
    for records in range(1, batch_size + 1):
        if in_flight * records / seconds(records) >= rate_per_s:
            return records
    return batch_size


def queue_batch(name: str, rate_per_s: float, finalizer_in_flight: float) -> float:
    """Records per batch of a main-path queue's mapping at a payment rate (one message a payment)."""
    settings = QUEUE_SETTINGS[name]
    if name == "finalizer":  # its batches wait for Stripe, and a level sets how many are in flight
        fewest = charge_batch(rate_per_s, finalizer_in_flight)
    else:
        invocation_s = DEPLOYED_INVOCATION_MS / 1000
        fewest = records_per_batch(
            rate_per_s, settings.batch_size, settings.maximum_concurrency, lambda _: invocation_s
        )
    gathered = rate_per_s * settings.maximum_batching_window_seconds / LOW_TRAFFIC_BATCHES
    return min(settings.batch_size, max(fewest, gathered))


def stream_batches_per_s(records_per_s: float) -> float:
    """Batches a second from a table's stream, its records spread over its shards: on each shard, every record alone
    while fewer than one comes a window, then one batch a window, then full batches."""
    per_shard = records_per_s / STREAM_SHARDS
    return STREAM_SHARDS * min(per_shard, max(1 / STREAM_WINDOW_S, per_shard / STREAM_BATCH))


@dataclass(frozen=True)
class Deliveries:
    """What a payment's records cost the event source mappings: SQS requests and Lambda invocations (the API's and
    the webhook's included)."""

    sqs_requests: float
    invocations: float


def deliveries_at(rate_per_s: float, finalizer_in_flight: float) -> Deliveries:
    batches = {name: queue_batch(name, rate_per_s, finalizer_in_flight) for name in MAIN_PATH_QUEUES}
    streams = sum(stream_batches_per_s(rate_per_s * n) for n in STREAM_RECORDS_PER_PAYMENT.values()) / rate_per_s
    return Deliveries(
        sqs_requests=sum(1 + 2 / records for records in batches.values()),
        invocations=API_REQUESTS + FUNCTION_URL_REQUESTS + sum(1 / records for records in batches.values()) + streams,
    )


# Without a level, a trickle (the dearest): every queue message a batch, every stream record a batch.
TRICKLE = Deliveries(
    sqs_requests=3 * len(MAIN_PATH_QUEUES),
    invocations=API_REQUESTS + FUNCTION_URL_REQUESTS + len(MAIN_PATH_QUEUES) + sum(STREAM_RECORDS_PER_PAYMENT.values()),
)


def deliveries_per_payment(
    peak_per_s: float | None, shape: tuple[float, ...] = PEAK_DAY_SHAPE, in_flight: float | None = None
) -> Deliveries:
    """A payment's SQS requests and invocations over the day, hour by hour (weighted by the hour's payments);
    `in_flight` as in charge_seconds_per_payment."""
    if peak_per_s is None:
        return TRICKLE
    in_flight = in_flight or finalizer_batches_in_flight(peak_per_s)
    rates = [peak_per_s * share for share in shape]
    hours = [deliveries_at(rate, in_flight) for rate in rates]
    return Deliveries(
        sqs_requests=_per_payment(rates, [h.sqs_requests for h in hours]),
        invocations=_per_payment(rates, [h.invocations for h in hours]),
    )


def _per_payment(rates: list[float], hourly: list[float]) -> float:
    """A per-payment figure over the day: each hour's weighted by the payments it carries."""
    return sum(rate * value for rate, value in zip(rates, hourly, strict=True)) / sum(rates)


def charge_seconds_per_payment(
    peak_per_s: float | None, shape: tuple[float, ...] = PEAK_DAY_SHAPE, in_flight: float | None = None
) -> float:
    """Billed seconds a payment's charge adds to the finalizer's invocations over the day: its batch's wait for Stripe
    shared by the batch's records, hour by hour. Without a level, batches of one (a trickle: the dearest). `in_flight`:
    the mapping's maximum_concurrency, if not finalizer_batches_in_flight's."""
    if peak_per_s is None:
        return charge_batch_seconds(1)
    in_flight = in_flight or finalizer_batches_in_flight(peak_per_s)
    rates = [peak_per_s * share for share in shape]
    waits = [charge_batch_seconds(b) / b for b in (charge_batch(rate, in_flight) for rate in rates)]
    return _per_payment(rates, waits)


def log_bytes_per_payment(invocations: float) -> float:
    return LOG_BYTES + METRICS_LINE_BYTES * max(0.0, invocations - LOG_BYTES_MEASURED_AT_INVOCATIONS)


def other_per_million(
    peak_per_s: float | None = None, shape: tuple[float, ...] = PEAK_DAY_SHAPE, in_flight: float | None = None
) -> dict[str, float]:
    """What a payment costs outside DynamoDB, per million payments: the same in both modes. At a level (`peak_per_s`,
    a month of its peak days) the REST API's requests fall into its monthly tiers; without one, the first tier's
    price (a lower bound on volume: the dearer figure)."""
    api_month = API_REQUESTS * payments_per_day(peak_per_s, shape) * DAYS_PER_MONTH if peak_per_s else 0.0
    deliveries = deliveries_per_payment(peak_per_s, shape, in_flight)
    invoked_seconds = deliveries.invocations * DEPLOYED_INVOCATION_MS / 1000
    log_bytes = log_bytes_per_payment(deliveries.invocations)
    return {
        "api_gateway": API_REQUESTS * rest_api_price_per_request(api_month) * 1e6,
        "function_url": FUNCTION_URL_REQUESTS * PRICES["lambda_function_url_request"] * 1e6,
        "eventbridge": EVENTBRIDGE_EVENTS * PRICES["eventbridge_event"] * 1e6,
        "sqs": deliveries.sqs_requests * PRICES["sqs_request"] * 1e6,
        "lambda": (
            deliveries.invocations * PRICES["lambda_request"]
            + (invoked_seconds + charge_seconds_per_payment(peak_per_s, shape, in_flight))
            * LAMBDA_MEMORY_GB
            * PRICES["lambda_gb_second"]
        )
        * 1e6,
        "cloudwatch_logs": log_bytes / 1e9 * PRICES["cloudwatch_logs_ingested_gb"] * 1e6,
        "firehose": log_bytes / 1e9 * PRICES["firehose_gb"] * 1e6,
    }


def on_demand_per_million(
    peak_per_s: float | None = None, shape: tuple[float, ...] = PEAK_DAY_SHAPE
) -> dict[str, float]:
    """DynamoDB on demand bills each unit: the same per payment at any rate and in any day shape (the rest as
    other_per_million)."""
    return {
        "dynamodb_writes": write_units_per_payment() * PRICES["dynamodb_write_request_unit"] * 1e6,
        "dynamodb_reads": read_units_per_payment() * PRICES["dynamodb_read_request_unit"] * 1e6,
        **other_per_million(peak_per_s, shape),
    }


@dataclass(frozen=True)
class Floors:
    """The services' minimum capacity units (table_capacity's write_min/read_min), applied to each of their tables."""

    write: dict[str, float]
    read: dict[str, float]

    @classmethod
    def uniform(cls, write: float, read: float) -> Floors:
        services = set(SERVICE_OF_TABLE.values())
        return cls({s: write for s in services}, {s: read for s in services})


def _hourly_capacity(needs: list[float], floor: float, target: float) -> list[float]:
    """Provisioned units each hour: the need at the target, up at once, down one hour late, never below the floor."""
    return [max(floor, needs[h] / target, needs[h - 1] / target) for h in range(len(needs))]  # h-1: the day repeats


def provisioned_per_million(
    peak_per_s: float,
    floors: Floors,
    target: float = TARGET_UTILIZATION,
    shape: tuple[float, ...] = PEAK_DAY_SHAPE,
    on_demand_services: frozenset[str] = frozenset(),
    in_flight: float | None = None,
) -> dict[str, float]:
    """Provisioned tables (but those of on_demand_services, billed per request) over the day; `in_flight` as in
    charge_seconds_per_payment."""
    payments = payments_per_day(peak_per_s, shape)
    wcu_hours = rcu_hours = 0.0
    on_demand_writes, on_demand_reads = 0.0, ON_DEMAND_ONLY_READS_PER_SUCCESS
    for table, units in write_units_by_table().items():
        service = SERVICE_OF_TABLE[table]
        if service in on_demand_services:
            on_demand_writes += units
            on_demand_reads += MAIN_PATH_READS_PER_SUCCESS.get(table, 0.0)
            continue
        writes = [peak_per_s * share * units for share in shape]
        reads = [peak_per_s * share * MAIN_PATH_READS_PER_SUCCESS.get(table, 0.0) for share in shape]
        wcu_hours += sum(_hourly_capacity(writes, floors.write[service], target))
        rcu_hours += sum(_hourly_capacity(reads, floors.read[service], target))
    return {
        "dynamodb_writes": (
            wcu_hours * PROVISIONED_PRICES["dynamodb_wcu_hour"] / payments
            + on_demand_writes * PRICES["dynamodb_write_request_unit"]
        )
        * 1e6,
        "dynamodb_reads": (
            rcu_hours * PROVISIONED_PRICES["dynamodb_rcu_hour"] / payments
            + on_demand_reads * PRICES["dynamodb_read_request_unit"]
        )
        * 1e6,
        **other_per_million(peak_per_s, shape, in_flight),
    }


def utilization_bound_per_million(target: float = TARGET_UTILIZATION) -> float:
    """The least provisioned DynamoDB can cost per million payments: every unit bought used at exactly the target."""
    per_unit_second = {k: v / 3600 for k, v in PROVISIONED_PRICES.items()}
    provisioned_reads = sum(MAIN_PATH_READS_PER_SUCCESS.values())
    return (
        write_units_per_payment() * per_unit_second["dynamodb_wcu_hour"] / target
        + provisioned_reads * per_unit_second["dynamodb_rcu_hour"] / target
        + ON_DEMAND_ONLY_READS_PER_SUCCESS * PRICES["dynamodb_read_request_unit"]
    ) * 1e6


def settings(
    peak_per_s: float, target: float = TARGET_UTILIZATION, shape: tuple[float, ...] = PEAK_DAY_SHAPE
) -> dict[str, dict[str, Any]]:
    """Each service's table_capacity for a level. The maximum: twice what its busiest table needs at the peak (a day
    above the forecast still scales). The floor: behind a queue or a stream, what its smallest table needs in the
    day's quietest hour (the floor never holds a table above its need: a throttle there is a redelivery); for the
    API's service, what its busiest table needs on the day's plateau (API_FLOOR_SHARE of the peak), so POST /payments
    never waits on a scale-out in the day's busy hours. Reads: at least one unit (DynamoDB's minimum).
    """
    quiet, peak = min(shape) * peak_per_s, max(shape) * peak_per_s
    result: dict[str, dict[str, Any]] = {}
    for service in sorted(set(SERVICE_OF_TABLE.values())):
        tables = [t for t, s in SERVICE_OF_TABLE.items() if s == service]
        writes = [write_units_by_table()[t] for t in tables]
        reads = [MAIN_PATH_READS_PER_SUCCESS.get(t, 0.0) for t in tables]
        if service in SYNCHRONOUS_SERVICES:
            write_min = math.ceil(max(writes) * API_FLOOR_SHARE * peak_per_s / target)
        else:
            write_min = max(1, math.floor(min(writes) * quiet / target))
        result[service] = {
            "billing_mode": "PROVISIONED",
            "write_min": write_min,
            "write_max": math.ceil(2 * max(writes) * peak / target),
            "read_min": max(1, math.floor(min(reads) * quiet / target)),
            "read_max": max(10, math.ceil(2 * max(reads) * peak / target)),
            "target_utilization": round(target * 100),
        }
    return result


def floors_of(service_settings: dict[str, dict[str, Any]]) -> Floors:
    return Floors(
        {s: v["write_min"] for s, v in service_settings.items()},
        {s: v["read_min"] for s, v in service_settings.items()},
    )


def peak_write_capacity(peak_per_s: float, target: float = TARGET_UTILIZATION) -> float:
    """Write capacity units provisioned over all main-path tables at the peak: what the account quota must allow."""
    return write_units_per_payment() * peak_per_s / target


def per_level(levels: tuple[int, ...] = LEVELS) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for level in levels:
        deliveries = deliveries_per_payment(level)
        on_demand = on_demand_per_million(level)
        level_settings = settings(level)
        provisioned = provisioned_per_million(level, floors_of(level_settings))
        api_on_demand = provisioned_per_million(
            level, floors_of(level_settings), on_demand_services=SYNCHRONOUS_SERVICES
        )
        rows[f"{level}_per_s"] = {
            "on_demand_per_million": _rounded(on_demand),
            "provisioned_per_million": _rounded(provisioned),
            # The same, but the API's tables left on demand: no throttle can reach a client.
            "provisioned_api_on_demand_per_million": _rounded(api_on_demand),
            "payments_on_the_peak_day": round(sum(level * s * 3600 for s in PEAK_DAY_SHAPE)),
            # Over the day, at the finalizer's batches in flight for the level (both modes alike).
            "sqs_requests_per_payment": round(deliveries.sqs_requests, 2),
            "invocations_per_payment": round(deliveries.invocations, 2),
            "log_bytes_per_payment": round(log_bytes_per_payment(deliveries.invocations)),
            "peak_write_capacity_units": round(peak_write_capacity(level)),
            "settings": level_settings,
        }
    return rows


def _rounded(cost: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 2) for k, v in cost.items()} | {"total": round(sum(cost.values()), 2)}


def table(rows: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| level | on demand $/M (DynamoDB) | provisioned $/M (DynamoDB) | provisioned, API's tables on demand $/M "
        "| saved per peak day (provisioned) | peak WCU, all tables |",
        "|---|---|---|---|---|---|",
    ]
    for level, row in rows.items():
        od, pr = row["on_demand_per_million"], row["provisioned_per_million"]
        mixed = row["provisioned_api_on_demand_per_million"]
        saved = (od["total"] - pr["total"]) * row["payments_on_the_peak_day"] / 1e6
        od_dynamodb = od["dynamodb_writes"] + od["dynamodb_reads"]
        pr_dynamodb = pr["dynamodb_writes"] + pr["dynamodb_reads"]
        lines.append(
            f"| {level.replace('_per_s', '')}/s | {od['total']:.2f} ({od_dynamodb:.2f}) "
            f"| {pr['total']:.2f} ({pr_dynamodb:.2f}) | {mixed['total']:.2f} | ${saved:,.0f} "
            f"| {row['peak_write_capacity_units']:,} |"
        )
    return "\n".join(lines)


# The finalizer's batches in flight tried at a level: SQS event source mappings allow a maximum_concurrency of 2 to
# 1,000 (docs/capacity.md). Fewer batches in flight fill each batch more, so its wait for Stripe is shared by more
# records; the price is the buyer's: a payment that finds every batch busy waits for one to end.
CONCURRENCY_TRIED = (2, 3, 4, 6, 10)


def concurrency_trade(peak_per_s: float = LEVELS[0]) -> dict[str, dict[str, float]]:
    """Provisioned cost per million at a level with each maximum_concurrency in CONCURRENCY_TRIED, with the records
    per batch at the peak and how long such a batch waits for Stripe (a payment finding every batch busy waits up to
    that, on top of its own charge)."""
    floors = floors_of(settings(peak_per_s))
    rows = {}
    for in_flight in CONCURRENCY_TRIED:
        cost = provisioned_per_million(peak_per_s, floors, in_flight=in_flight)
        records = charge_batch(peak_per_s, in_flight)
        rows[f"{in_flight}_batches"] = {
            "total": round(sum(cost.values()), 2),
            "lambda": round(cost["lambda"], 2),
            "records_per_batch_at_peak": records,
            "batch_wait_s": round(finalizer_batch_seconds(records), 2),
        }
    return rows


def run() -> dict[str, dict[str, Any]]:
    rows = per_level()
    print(table(rows), flush=True)
    trade = concurrency_trade()
    print(f"\nThe finalizer's batches in flight at {LEVELS[0]}/s (provisioned $/M, records a batch, its wait):")
    for setting, row in trade.items():
        print(f"  {setting}: ${row['total']:.2f} ({row['records_per_batch_at_peak']} records, {row['batch_wait_s']} s)")
    return {**rows, f"finalizer_concurrency_at_{LEVELS[0]}_per_s": trade}
