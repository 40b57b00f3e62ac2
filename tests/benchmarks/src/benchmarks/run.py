"""Run the benchmarks, print a table and write the figures as JSON.

    ./pants package :: && ./pants run tests/benchmarks -- --json dist/bench.json

Every figure that matters is a ratio measured within one run; medians of --runs (>= 7) repetitions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devstack.load import TOKEN_SHARE

from benchmarks import (
    capacity_shape,
    contention,
    cost_model,
    finalizer_throughput,
    flow,
    time_to_final,
    wallet_scale,
    warm,
    webhooks,
    zips,
)

BENCHMARKS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "zips_and_cold_init": lambda args: zips.run(
        args.runs,
        args.cold_init_services,
        args.cold_init_entry_points,
        args.cold_init_baseline,
        args.cold_init_compiling,
    ),
    "cold_init_imports": lambda args: zips.imports(args.runs, args.cold_init_services, args.cold_init_entry_points),
    "warm_overhead": lambda args: warm.run(args.warm_invocations, args.runs),
    "flow": lambda args: flow.run(args.flow_payments, token_share=args.flow_token_share),
    "payment_methods_vs_cards": lambda args: flow.payment_methods_vs_cards(args.flow_payments),
    "main_path": lambda args: flow.run(args.flow_payments, token_share=1.0, mix=flow.MAIN_PATH),
    "wallet_scale": lambda args: wallet_scale.run(args.wallet_events, args.moto_wallet_events, args.runs),
    "contention": lambda args: contention.run(args.contention_credits, args.runs),
    "webhooks_dead_endpoint": lambda args: webhooks.run(
        args.webhook_endpoints, args.webhook_events, args.webhook_rounds
    ),
    "finalizer_throughput": lambda args: finalizer_throughput.run(args.finalizer_rounds),
    "time_to_final": lambda args: time_to_final.run(args.time_to_final_payments),
    "capacity_shape": lambda args: capacity_shape.run(),
    "cost_per_level": lambda args: cost_model.run(),
}


def flatten(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [row for key, item in value.items() for row in flatten(f"{prefix}.{key}" if prefix else key, item)]
    return [(prefix, value)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--runs", type=int, default=7, help="repetitions per timing (median taken; default 7)")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="run only these")
    parser.add_argument(
        "--cold-init-services",
        type=lambda names: tuple(names.split(",")),
        default=zips.SERVICES,
        help="zips_and_cold_init, cold_init_imports: only these services (comma-separated)",
    )
    parser.add_argument(
        "--cold-init-entry-points",
        type=lambda names: tuple(names.split(",")),
        default=(),
        help="… and only these entry points (comma-separated: relay,consumer,outcome,totals,api)",
    )
    parser.add_argument(
        "--cold-init-baseline",
        type=Path,
        help="zips_and_cold_init: another build's dist (e.g. main's) timed interleaved as 'before'",
    )
    parser.add_argument(
        "--cold-init-compiling",
        action="store_true",
        help="zips_and_cold_init: no process keeps what it compiles (python -B), as in Lambda's read-only code dir",
    )
    parser.add_argument("--warm-invocations", type=int, default=300, help="invocations per handler and round")
    parser.add_argument("--flow-payments", type=int, default=100, help="payments through the local stack")
    parser.add_argument(
        "--flow-token-share",
        type=float,
        default=TOKEN_SHARE,
        help=f"share of the flow's orders paid with a Stripe PaymentMethod, the rest cards (default {TOKEN_SHARE})",
    )
    parser.add_argument("--wallet-events", type=int, default=100_000, help="past events on the busy wallet")
    parser.add_argument("--moto-wallet-events", type=int, default=5_000, help="the same on moto (see wallet_scale)")
    parser.add_argument("--contention-credits", type=int, default=200, help="credits and postings per round")
    parser.add_argument("--webhook-endpoints", type=int, default=20, help="live endpoints beside the dead one")
    parser.add_argument("--webhook-events", type=int, default=10, help="messages per endpoint and round")
    parser.add_argument("--webhook-rounds", type=int, default=3, help="interleaved rounds (median taken)")
    parser.add_argument("--finalizer-rounds", type=int, default=3, help="batches per environment and setting")
    parser.add_argument(
        "--time-to-final-payments", type=int, default=60, help="payments per PSP latency model (time_to_final)"
    )
    args = parser.parse_args(argv)

    results: dict[str, Any] = {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            # The machine is shared: its load (1, 5, 15 min) says how far to trust a timing.
            "load_before": os.getloadavg(),
        },
    }
    for name in args.only or list(BENCHMARKS):
        print(f"running {name} …", file=sys.stderr, flush=True)
        results[name] = BENCHMARKS[name](args)
    results["machine"]["load_after"] = os.getloadavg()
    width = max(len(k) for k, _ in flatten("", results))
    for key, value in flatten("", results):
        small = isinstance(value, float) and 0 < abs(value) < 0.01
        shown = (f"{value:.3g}" if small else f"{value:,.3f}") if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {shown}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
