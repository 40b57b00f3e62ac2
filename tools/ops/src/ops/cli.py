"""payments-ops: the operator's tool, against the local stack or an AWS account alike.

    ./pants run tools/ops -- dlq list [--consumer NAME]
    ./pants run tools/ops -- dlq redrive [--consumer NAME] [--dry-run]
    ./pants run tools/ops -- rebuild READ_MODEL [--in-place | --into TABLE]
    ./pants run tools/ops -- replay --from T --to T --consumer NAME [--dry-run]
    ./pants run tools/ops -- reconcile [--settle-seconds N] [--psp-api-base URL]
    ./pants run tools/ops -- trace <payment_order_id>
    ./pants run tools/ops -- psp-payout --currency EUR [--psp-api-base URL]

Target: --profile/--region for an AWS account, --endpoint-url for a local endpoint (the local stack's moto).
--json prints machine-readable output. Exit status 1 when `dlq list` finds letters, when `rebuild` leaves
differences, when `reconcile` finds mismatches (for scripts and alarms).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any, TextIO

from ops import psp_balance, psp_charges, psp_payout, replay
from ops.aws import Target
from ops.dead_letters import list_letters, parking_queues, redrive
from ops.payment_trace import trace_payment
from ops.read_models import READ_MODELS, STORE_SCHEMAS
from ops.rebuild import rebuild
from ops.reconcile import gather, reconcile
from ops.stores import events_by_stream, scan
from payments_shared.topology import EVENT_STORES as STORES  # the tables the Terraform names


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="payments-ops", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    top.add_argument("--profile", help="AWS profile (default: the environment's credentials)")
    top.add_argument("--region", help="AWS region (default: the environment's)")
    top.add_argument("--endpoint-url", help="a local AWS endpoint, e.g. the local stack's moto")
    top.add_argument("--json", action="store_true", help="print JSON instead of a table")
    commands = top.add_subparsers(dest="command", required=True)
    text = "dead letters of the consumers' queues and of the notifier's webhook deliveries (notifier-deliveries)"
    dlq = commands.add_parser("dlq", help=text).add_subparsers(dest="action", required=True)
    for action, text in (
        ("list", "list every dead letter with its reason, age, receives and payment id"),
        ("redrive", "move dead letters back to their consumer's queue"),
    ):
        command = dlq.add_parser(action, help=text, description=text)
        command.add_argument(
            "--consumer", action="append", help="only this consumer, or notifier-deliveries (repeatable)"
        )
        if action == "redrive":
            command.add_argument("--dry-run", action="store_true", help="say what would move; move nothing")
    text = "rebuild a read model from its event store (into a fresh table, or in place), then diff it"
    build = commands.add_parser("rebuild", help=text, description=text)
    build.add_argument("read_model", choices=sorted(READ_MODELS))
    where = build.add_mutually_exclusive_group()
    where.add_argument("--in-place", action="store_true", help="repair the live table (safe under traffic)")
    where.add_argument("--into", metavar="TABLE", help="the fresh table's name (default: <table>-rebuilt-<time>)")
    text = "re-deliver a time range's events to one consumer (idempotent: harmless twice)"
    again = commands.add_parser("replay", help=text, description=text)
    again.add_argument("--from", dest="start", required=True, type=_instant, help="ISO 8601, e.g. 2026-12-04T10:00Z")
    again.add_argument("--to", dest="end", required=True, type=_instant, help="ISO 8601, exclusive")
    again.add_argument("--consumer", required=True, action="append", help="the consumer (one)")
    again.add_argument(
        "--source",
        choices=["archive", "stores"],
        help="EventBridge's archive (default in AWS) or the event stores (default locally)",
    )
    again.add_argument("--dry-run", action="store_true", help="count what would be sent; send nothing")
    text = (
        "ledger vs wallets vs finalizer outcomes vs PSP charges: every mismatch with its payment id, and every"
        " merchant whose wallet differs from its ledger payable"
    )
    check = commands.add_parser("reconcile", help=text, description=text)
    check.add_argument(
        "--settle-seconds",
        type=float,
        default=300.0,
        help="payments with a fact younger than this are in flight, not mismatched (default 300)",
    )
    check.add_argument("--psp-api-base", help="the PSP's API (default: Stripe's); the local stack's fake PSP")
    check.add_argument(
        "--psp-key-parameter",
        default=psp_charges.SECRET_KEY_PARAMETER,
        help="the SSM SecureString holding the PSP's secret key (the finalizer's)",
    )
    text = "pay the PSP's available balance in one currency out to our bank (what Stripe's daily payouts do)"
    payout = commands.add_parser("psp-payout", help=text, description=text)
    payout.add_argument("--currency", required=True, help="ISO code, e.g. EUR")
    payout.add_argument("--psp-api-base", help="the PSP's API (default: Stripe's); the local stack's fake PSP")
    payout.add_argument(
        "--psp-key-parameter",
        default=psp_charges.SECRET_KEY_PARAMETER,
        help="the SSM SecureString holding the PSP's secret key (the finalizer's)",
    )
    story = "a payment's events across the four stores, in order, with trace ids"
    trace = commands.add_parser("trace", help=story, description=story)
    trace.add_argument("payment_order_id")
    return top


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone (add Z for UTC)")
    return moment


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    if not rows:
        return "(none)"
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def _progress(done: int, total: int) -> None:
    filled = int(30 * done / max(total, 1))
    sys.stderr.write(f"\r  [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = parser().parse_args(argv)
    out = out or sys.stdout
    target = Target(args.profile, args.region, args.endpoint_url)
    parking = {q.name: q for q in parking_queues()}
    known = list(parking) if args.command == "dlq" else [q.name for q in parking.values() if not q.deliveries]
    chosen = getattr(args, "consumer", None) or known
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        print(f"unknown consumer(s) {unknown}; known: {known}", file=sys.stderr)
        return 2
    progress = _progress if not args.json else lambda d, t: None
    if args.command == "rebuild":
        result = rebuild(
            target.client("dynamodb"),
            READ_MODELS[args.read_model],
            in_place=args.in_place,
            into=args.into,
            progress=progress,
        )
        sys.stderr.write("\n")
        left = result["after"]
        if args.json:
            print(json.dumps(result, indent=2, default=str), file=out)
        else:
            print(
                f"{result['read_model']}: {result['rows']} rows from {result['store']} -> {result['target']} "
                f"({result['written']} written, {result['moved_meanwhile']} moved meanwhile)\n"
                f"differences before: {len(result['before'])}, after: {len(left)}",
                file=out,
            )
            print(
                _table(
                    [
                        {"key": "/".join(map(str, d["key"])), "kind": d["kind"], "fields": ", ".join(d["fields"])}
                        for d in left
                    ],
                    ["key", "kind", "fields"],
                ),
                file=out,
            )
        return 1 if left else 0
    if args.command == "replay":
        if len(chosen) != 1:
            print("replay takes exactly one --consumer", file=sys.stderr)
            return 2
        source = args.source or ("stores" if args.endpoint_url else "archive")
        if source == "archive":
            result = replay.from_archive(
                target.client("events"), chosen[0], args.start, args.end, dry_run=args.dry_run, progress=progress
            )
        else:
            account = target.client("sts").get_caller_identity()["Account"]
            result = replay.from_stores(
                target.client("dynamodb"),
                target.client("events"),
                target.client("sqs"),
                account,
                chosen[0],
                args.start,
                args.end,
                dry_run=args.dry_run,
                progress=progress,
            )
        sys.stderr.write("\n")
        print(json.dumps(result, indent=2) if args.json else _table([result], list(result)), file=out)
        return 0 if result.get("state", "COMPLETED") == "COMPLETED" or args.dry_run else 1
    if args.command == "reconcile":
        dynamodb = target.client("dynamodb")
        stores = {
            service: events_by_stream(scan(dynamodb, table, progress), STORE_SCHEMAS.get(service))
            for service, table in STORES.items()
        }
        api_key = psp_charges.secret_key(target.client("ssm"), args.psp_key_parameter)
        charges = psp_charges.succeeded_charges(api_key, api_base=args.psp_api_base, progress=progress)
        balance = psp_balance.balance_movements(api_key, api_base=args.psp_api_base, progress=progress)
        sys.stderr.write("\n")
        result = reconcile(gather(stores, charges, balance), settle_s=args.settle_seconds)
        if args.json:
            print(json.dumps(result, indent=2), file=out)
        else:
            print(
                f"{result['payments']} payments, {result['in_flight']} in flight, "
                f"{len(result['mismatches'])} mismatches, {len(result['balances'])} wallets differing from the ledger, "
                f"{len(result['psp_balance'])} currencies where psp_clearing differs from the PSP's balance",
                file=out,
            )
            print(_table(result["mismatches"], ["payment_order_id", "pair", "problem"]), file=out)
            print(_table(result["balances"], ["merchant_id", "currency", "wallet_minor", "ledger_minor"]), file=out)
            differing = [{**d, "problems": "; ".join(d["problems"])} for d in result["psp_balance"]]
            print(_table(differing, ["currency", "ledger_minor", "psp_minor", "problems"]), file=out)
        return 1 if result["mismatches"] or result["balances"] or result["psp_balance"] else 0
    if args.command == "psp-payout":
        api_key = psp_charges.secret_key(target.client("ssm"), args.psp_key_parameter)
        made = psp_payout.pay_out_available(api_key, args.currency, api_base=args.psp_api_base)
        row = asdict(made) if made is not None else {}
        if args.json:
            print(json.dumps(row, indent=2), file=out)
        else:
            print(_table([row], list(row)) if row else f"nothing available in {args.currency.upper()}", file=out)
        return 0
    if args.command == "trace":
        events = trace_payment(target.client("dynamodb"), args.payment_order_id)
        rows: list[dict[str, Any]] = [e.as_dict() for e in events]
        columns = ["occurred_at", "service", "event_type", "stream_id", "version", "trace_id"]
        print(json.dumps(rows, indent=2) if args.json else _table(rows, columns), file=out)
        return 0 if rows else 1
    sqs = target.client("sqs")
    if args.action == "list":
        rows = [letter.as_dict() for letter in list_letters(sqs, [parking[name] for name in chosen])]
        print(
            json.dumps(rows, indent=2)
            if args.json
            else _table(rows, ["consumer", "payment_order_id", "event_type", "age_s", "receive_count", "reason"]),
            file=out,
        )
        return 1 if rows else 0
    # Against a local endpoint (moto) SQS's move task does not exist: copy, then delete.
    results = [
        redrive(sqs, parking[name], dry_run=args.dry_run, move_task=args.endpoint_url is None, progress=progress)
        for name in chosen
    ]
    if not args.json:
        sys.stderr.write("\n")
    print(
        json.dumps(results, indent=2) if args.json else _table(results, ["consumer", "method", "waiting", "moved"]),
        file=out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
