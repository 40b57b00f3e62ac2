"""Run the whole payments system locally and drive payments through it.

    ./pants run tools/devstack -- --payments 200            # run, print the summary, exit 1 if anything was lost
    ./pants run tools/devstack -- --payments 200 --serve    # …then keep serving the API and the dashboard
    ./pants run tools/devstack -- --otlp-endpoint URL [--otlp-header K=V …]  # also export to an OTLP backend
    ./pants run tools/devstack -- --rate 5 --duration 600   # a soak: 5 payments/s arriving for 10 min (devstack.soak)

Starts moto (in-process, loopback) and the fake PSP, creates the tables, bus, rules, queues and keys with the
Terraform's names and event-pattern files, and runs the four services' real handlers: an HTTP API on
localhost, relays fed by the DynamoDB streams, consumers fed by EventBridge rules with retries and a DLQ.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from fake_psp.latency import parse as parse_latency

from devstack import series, soak
from devstack.disputes import close_some
from devstack.load import MERCHANTS, drive, settle
from devstack.otlp import OtlpExport, parse_headers
from devstack.payouts import pay_out_everyone
from devstack.psp_payouts import pay_out_the_psp
from devstack.refunds import refund_some, settle_refunds
from devstack.stack import Devstack
from devstack.webhooks import catch_up_one, register_everyone, settle_webhooks, take_one_down, tour
from devstack.webhooks import summary as webhooks_summary


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="devstack", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--payments", type=int, default=200, help="payments to send (default 200)")
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent API clients (default 4)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the payment mix (default 7)")
    parser.add_argument(
        "--psp-503-rate",
        type=float,
        default=0.05,
        help="share of PSP calls answered 503 first, to show retries (default 0.05)",
    )
    parser.add_argument(
        "--settle-timeout",
        type=float,
        default=120.0,
        help="seconds to wait for every payment to reach a final status (default 120)",
    )
    parser.add_argument(
        "--serve", action="store_true", help="after the run, keep serving the API and the dashboard until Ctrl-C"
    )
    parser.add_argument(
        "--psp-latency",
        default="stripe",
        help="how long the fake PSP takes to answer: stripe (a Stripe-like lognormal, fake_psp.latency: charges "
        "median 400 ms, p99 2 s), fixed:<ms> or none (default stripe)",
    )
    parser.add_argument("--port", type=int, default=8080, help="port of the local API (default 8080)")
    parser.add_argument("--dashboard-port", type=int, default=8081, help="port of the dashboard (default 8081)")
    parser.add_argument(
        "--rate",
        type=float,
        help="a soak instead of the normal run: payments arriving at this rate per second (open loop, devstack.soak)",
    )
    parser.add_argument("--duration", type=float, default=600.0, help="a soak's seconds of arrivals (default 600)")
    parser.add_argument("--json", type=Path, help="also write the summary as JSON to this file")
    parser.add_argument(
        "--logs",
        type=Path,
        default=Path("dist/devstack/lambda-logs.jsonl"),
        help="where the handlers' JSON logs and EMF metrics go (default dist/devstack/…)",
    )
    parser.add_argument(
        "--otlp-endpoint",
        metavar="URL",
        help="also export spans and metrics over OTLP/HTTP to this base URL (…/v1/traces and "
        "…/v1/metrics are appended), e.g. https://<env>.live.dynatrace.com/api/v2/otlp, "
        "http://localhost:4318 (Jaeger, Tempo, a Collector); default: nothing leaves",
    )
    parser.add_argument(
        "--otlp-header",
        metavar="K=V",
        action="append",
        default=[],
        help='a header for every export request, e.g. "Authorization=Api-Token dt0c01…"',
    )
    args = parser.parse_args(argv)
    try:
        args.otlp_headers = parse_headers(args.otlp_header)
    except ValueError as bad:
        parser.error(str(bad))
    try:
        parse_latency(args.psp_latency)
    except ValueError as bad:
        parser.error(f"--psp-latency: {bad}")
    if args.otlp_header and not args.otlp_endpoint:
        parser.error("--otlp-header needs --otlp-endpoint")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.rate is not None:
        return soak.run(args)
    otlp = OtlpExport(args.otlp_endpoint, args.otlp_headers) if args.otlp_endpoint else None
    stack = Devstack(
        api_port=args.port,
        dashboard_port=args.dashboard_port if args.serve else 0,  # a fixed port only when kept serving
        psp_503_rate=args.psp_503_rate,
        psp_latency=args.psp_latency,
        logs=args.logs,
        otlp=otlp,
    )
    out = stack.console
    try:
        print(f"local API      {stack.api.url}  (moto {stack.moto.url}, PSP {stack.psp.url})", file=out)
        print(f"Stripe webhook {stack.psp.webhook_url}  (finalizer-webhook's function URL, auth NONE)", file=out)
        if otlp is not None:
            print(
                f"OTLP export    {args.otlp_endpoint}  (spans and metrics; headers: {sorted(args.otlp_headers)})",
                file=out,
            )
        # Every merchant's back end registers its webhook endpoint first; one of them goes down mid-run and waits
        # for retries, another goes down and, back, catches up by GET /events.
        hooks = register_everyone(stack.api.url, stack.keys, stack.receiver, MERCHANTS, args.seed)
        tour(stack.api.url, stack.keys, hooks, args.seed)
        take_one_down(hooks)
        catch_up_one(stack.api.url, stack.keys, hooks, args.seed)
        started = time.perf_counter()
        sent = drive(
            stack.api.url, stack.keys, args.payments, args.concurrency, args.seed, retry_share=0.05, unsigned_share=0.02
        )
        final = settle(stack.api.url, stack.keys, sent, args.settle_timeout)
        elapsed = time.perf_counter() - started
        # Merchants then refund some of what succeeded: money going back through the same flow.
        refunds = refund_some(stack.api.url, stack.keys, sent, final, args.seed)
        settle_refunds(stack.api.url, stack.keys, refunds, final, args.settle_timeout)
        # Cardholders dispute the payments made with Stripe's dispute card; the run wins a third, loses a third.
        disputes = close_some(stack.psp, final, args.seed)
        # Then every merchant pays itself out its available balance (once its captures have settled).
        merchants = {body["merchant_id"] for body in final.values() if body.get("status") == "SUCCESS"}
        payouts = pay_out_everyone(stack.api.url, stack.keys, merchants, args.seed)
        # And the PSP pays its available balance out to our bank (payments-ops psp-payout): the ledger books it.
        psp_payouts = pay_out_the_psp(stack.psp)
        settle_webhooks(hooks, max(args.settle_timeout, 180))  # a retry after the outage may wait 72 s, or 180
        report = stack.report(sent, final, refunds, disputes, payouts, psp_payouts)
        report.webhooks = webhooks_summary(stack.api.url, stack.keys, hooks, args.seed, stack.parked_deliveries())
        report.iam = stack.iam_check()
        report.details["seconds"] = round(elapsed, 2)
        report.details["payments_per_second"] = round(len(sent) / elapsed, 1)
        gaps = series.requests_vs_invocations(stack.api.requests, stack.functions.invocations)
        report.details["api_requests_without_invocation"] = sum(g.refused for g in gaps)
        print(report.render(), file=out)
        print(
            f"API requests           {len(stack.api.requests)}, of which refused at the edge (no invocation) "
            f"{report.details['api_requests_without_invocation']}",
            file=out,
        )
        print(f"throughput             {report.details['payments_per_second']} payments/s", file=out)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(report.as_dict(), indent=2) + "\n")
        if args.serve:
            print(f"API            {stack.api.url}   (SigV4-signed requests only)", file=out)
            print(f"dashboard      {stack.dashboard.url}/dashboard   (Ctrl-C to stop)", file=out)
            # The API wants SigV4 (service execute-api, region eu-west-1), as API Gateway's IAM auth does.
            print("credentials    (sign requests with these: any SigV4 client, e.g. botocore's SigV4Auth)", file=out)
            for p in stack.keys.principals.values():
                acting = f"merchant {p.merchant_id}" if p.merchant_id else "operator"
                print(f"  {acting:<22} {p.access_key}  {p.secret_key}", file=out)
            out.flush()
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        return 0 if report.ok else 1
    finally:
        stack.stop()


if __name__ == "__main__":
    raise SystemExit(main())
