"""payments-ops: dead letters and payment traces, against the local stack or an AWS account alike.

    ./pants run tools/ops -- dlq list [--consumer NAME]
    ./pants run tools/ops -- dlq redrive [--consumer NAME] [--dry-run]
    ./pants run tools/ops -- trace <payment_order_id>

Target: --profile/--region for an AWS account, --endpoint-url for a local endpoint (the local stack's moto).
--json prints machine-readable output. Exit status 1 when `dlq list` finds letters (for scripts and alarms).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from devstack.resources import QUEUE, SUBSCRIPTIONS  # contracts/consumers.json, as Terraform reads it

from ops.aws import Target
from ops.dead_letters import list_letters, redrive
from ops.payment_trace import trace_payment


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="payments-ops", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    top.add_argument("--profile", help="AWS profile (default: the environment's credentials)")
    top.add_argument("--region", help="AWS region (default: the environment's)")
    top.add_argument("--endpoint-url", help="a local AWS endpoint, e.g. the local stack's moto")
    top.add_argument("--json", action="store_true", help="print JSON instead of a table")
    commands = top.add_subparsers(dest="command", required=True)
    dlq = commands.add_parser("dlq", help="dead letters of the consumers' queues").add_subparsers(
        dest="action", required=True)  # fmt: skip
    for action, text in (("list", "list every dead letter with its reason, age, receives and payment id"),
                         ("redrive", "move dead letters back to their consumer's queue")):  # fmt: skip
        command = dlq.add_parser(action, help=text, description=text)
        command.add_argument("--consumer", action="append", help="only this consumer (repeatable)")
        if action == "redrive":
            command.add_argument("--dry-run", action="store_true", help="say what would move; move nothing")
    story = "a payment's events across the four stores, in order, with trace ids"
    trace = commands.add_parser("trace", help=story, description=story)
    trace.add_argument("payment_order_id")
    return top


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
    known, max_receive_count = [s.name for s in SUBSCRIPTIONS], QUEUE.max_receive_count
    chosen = getattr(args, "consumer", None) or known
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        print(f"unknown consumer(s) {unknown}; known: {known}", file=sys.stderr)
        return 2
    if args.command == "trace":
        events = trace_payment(target.client("dynamodb"), args.payment_order_id)
        rows: list[dict[str, Any]] = [e.as_dict() for e in events]
        columns = ["occurred_at", "service", "event_type", "stream_id", "version", "trace_id"]
        print(json.dumps(rows, indent=2) if args.json else _table(rows, columns), file=out)
        return 0 if rows else 1
    sqs = target.client("sqs")
    if args.action == "list":
        rows = [letter.as_dict() for letter in list_letters(sqs, chosen, max_receive_count)]
        print(json.dumps(rows, indent=2) if args.json else
              _table(rows, ["consumer", "payment_order_id", "event_type", "age_s", "receive_count", "reason"]),
              file=out)  # fmt: skip
        return 1 if rows else 0
    # Against a local endpoint (moto) SQS's move task does not exist: copy, then delete.
    results = [redrive(sqs, name, dry_run=args.dry_run, move_task=args.endpoint_url is None,
                       progress=_progress if not args.json else lambda d, t: None) for name in chosen]  # fmt: skip
    if not args.json:
        sys.stderr.write("\n")
    print(json.dumps(results, indent=2) if args.json else _table(results, ["consumer", "method", "waiting", "moved"]),
          file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
