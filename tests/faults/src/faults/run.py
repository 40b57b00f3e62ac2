"""The fault run: payments through the local stack while everything misbehaves at once.

    ./pants run tests/faults -- --payments 1000

PSP (the fake, a Stripe subset): 20 % declines over six of Stripe's decline test cards, 10 % 503, 5 % timeouts,
2 % "charged but response lost" (on any request, replays included); 10 % duplicate event
deliveries; deliveries out of order; 5 % of PutEvents entries failing; the relay crashing after publishing
but before its checkpoint; consumers crashing in the middle of a batch (5 % of batches); 5 % of DynamoDB
transactions cancelled with TransactionConflict, ThrottlingError or ProvisionedThroughputExceeded, on top
of the conflicts of transactions that really overlap; one merchant receiving 30 % of all payments; 5 % of the
POSTs sent twice with the same Idempotency-Key. Then: every
accepted payment has exactly one final status, the PSP charged each at most once, the books balance, the
wallets match, the DLQs hold nothing but poison, and no log line or span carries a card number or CVV.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from devstack.disputes import close_some
from devstack.faults import Faults
from devstack.load import CARDS, MERCHANTS, drive, settle
from devstack.payouts import pay_out_everyone
from devstack.psp_payouts import pay_out_the_psp
from devstack.refunds import refund_some, settle_refunds
from devstack.report import Report
from devstack.stack import Devstack
from devstack.webhooks import catch_up_one, register_everyone, settle_webhooks, take_one_down, tour
from devstack.webhooks import summary as webhooks_summary

# 10 % of the payments meet 3-D Secure: half the buyers complete it, a quarter fail it, a quarter walk away.
# 5 % only authorize: the merchant captures (all or a part) four in five, cancels the rest; 2 % are disputed.
MIX = [
    ("approve", 0.48),
    ("authorize-capture", 0.04),
    ("authorize-cancel", 0.01),
    ("approve-dispute", 0.02),
    ("authenticate", 0.05),
    ("authenticate-fail", 0.025),
    ("abandon", 0.025),
    ("decline", 0.20),
    ("refuse", 0.05),
    ("invalid", 0.10),
]
HOT_MERCHANT_SHARE = 0.30
CLIENT_RETRY_SHARE = 0.05  # POSTs sent again with the same Idempotency-Key (a client that lost the answer)


def card_data_hits(texts: list[str]) -> list[str]:
    """The run's card numbers (in any grouping: plain, spaced, dashed) and CVV values in the given texts.

    A generic "any Luhn-valid digit run" scan is not used here: epoch-millisecond timestamps pass Luhn
    one time in ten. Log redaction of arbitrary card numbers is covered by the kernel's property tests.
    """
    patterns = [re.compile("[ -]?".join(card)) for card in CARDS]
    hits = []
    for text in texts:
        hits += [m.group(0) for pattern in patterns for m in pattern.finditer(text)]
        hits += ["cvv value" for _ in re.finditer(r'"cvv"\s*:\s*"[0-9]{3,4}"', text)]
    return hits


def dead_letters(stack: Devstack) -> tuple[list[dict[str, Any]], list[str]]:
    """What the DLQs hold: (one summary per message, the messages' bodies for the card-data scan)."""
    from devstack.moto_local import client

    sqs, letters, bodies = client("sqs"), [], []
    for name, url in stack.provisioned.dlqs.items():
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            bodies.append(message["Body"])
            body = json.loads(message["Body"])
            reasons = [i.error for i in stack.functions.invocations if i.error and i.function == name]
            letters.append(
                {
                    "queue": name,
                    "event_id": body.get("detail", {}).get("event_id"),
                    "reason": reasons[-1] if reasons else "unknown",
                }
            )
    return letters, bodies


def stored_rows() -> list[str]:
    """Every row of every table: each event the services wrote (and so published), snapshots, read models."""
    from devstack.moto_local import client
    from devstack.resources import tables

    dynamodb, rows = client("dynamodb"), []
    for table in tables():
        for page in dynamodb.get_paginator("scan").paginate(TableName=table["TableName"]):
            rows += [json.dumps(item) for item in page["Items"]]
    return rows


def run(payments: int, seed: int, logs: Path) -> tuple[Report, dict[str, Any]]:
    faults = Faults(
        psp={"503": 0.10, "timeout": 0.05, "lost": 0.02},
        duplicate_delivery=0.10,
        consumer_crash_mid_batch=0.05,
        dynamodb_refusals=0.05,
        relay_crash_after_publish=0.05,
        put_events_entry_failure=0.05,
        shuffle_deliveries=True,
        webhook_duplicates=0.2,
        webhook_max_delay_s=2.0,
        seed=seed,
    )
    stack = Devstack(api_port=0, logs=logs, faults=faults)
    started = time.perf_counter()
    try:
        # Merchants' webhooks under the same faults (duplicated, crashed and shuffled batches), one endpoint down
        # (retries catch it up), another merchant's back end down that catches up by GET /events when back.
        hooks = register_everyone(stack.api.url, stack.keys, stack.receiver, MERCHANTS, seed)
        tour(stack.api.url, stack.keys, hooks, seed)
        take_one_down(hooks)
        catch_up_one(stack.api.url, stack.keys, hooks, seed)
        sent = drive(
            stack.api.url,
            stack.keys,
            payments,
            4,
            seed,
            progress=False,
            mix=MIX,
            hot_merchant_share=HOT_MERCHANT_SHARE,
            retry_share=CLIENT_RETRY_SHARE,
        )
        final = settle(stack.api.url, stack.keys, sent, timeout_s=600)
        # Merchants refund some of what succeeded, under the same faults: money going back must not be lost either.
        refunds = refund_some(stack.api.url, stack.keys, sent, final, seed)
        settle_refunds(stack.api.url, stack.keys, refunds, final, timeout_s=600)
        # Disputes are won, lost or left open; then every merchant is paid out what is available.
        disputes = close_some(stack.psp, final, seed)
        merchants = {body["merchant_id"] for body in final.values() if body.get("status") == "SUCCESS"}
        payouts = pay_out_everyone(stack.api.url, stack.keys, merchants, seed)
        # Then the PSP pays its available balance out to our bank, and the bank returns one payout (paid, then
        # failed: the money back on the balance); the report ends with the ledger/psp comparison.
        psp_payouts = pay_out_the_psp(stack.psp, bank_returns_first=True)
        settle_webhooks(hooks, timeout_s=600)
        report = stack.report(sent, final, refunds, disputes, payouts, psp_payouts)
        report.webhooks = webhooks_summary(stack.api.url, stack.keys, hooks, seed, stack.parked_deliveries())
        report.iam = stack.iam_check()
        spans = stack.spans.get_finished_spans()
        span_texts = [json.dumps(dict(s.attributes or {}), default=str) + s.name for s in spans]
        letters, letter_bodies = dead_letters(stack)
        rows = stored_rows()
        seconds = round(time.perf_counter() - started, 1)
    finally:
        stack.stop()
    security = {
        "log_lines_scanned": sum(1 for _ in logs.open()),
        "spans_scanned": len(span_texts),
        "stored_events_and_rows_scanned": len(rows),
        "card_data_hits": card_data_hits([logs.read_text(), *span_texts, *rows, *letter_bodies]),
        # The sealed card did reach the PSP, and only there: the numbers the fake PSP was sent.
        "payment_intents_with_card": sum(stack.psp.card_numbers_seen.values()),
    }
    extra = {
        "injected": {
            "put_events_entry_failures": stack.functions.put_events_failed,
            "dynamodb_transactions": stack.dynamodb.transactions,
            "dynamodb_cancelled_injected": dict(stack.dynamodb.injected),
            "dynamodb_cancelled_overlapping": stack.dynamodb.cancelled["TransactionConflict"]
            - stack.dynamodb.injected["TransactionConflict"],
            **dict(faults.injected),
            "hot_merchant_payments": sum(1 for s in sent if s.body.get("merchant_id") == "merchant-001"),
            "psp_requests": sum(stack.psp.requests.values()),
            "psp_charges": sum(stack.psp.charges.values()),
            "webhook_events_sent": len(stack.psp.webhooks_delivered),
            "webhook_deliveries": sum(stack.psp.webhooks_delivered.values()),
            "webhook_attempts": sum(stack.psp.webhook_attempts.values()),
            "webhooks_abandoned": len(stack.psp.webhooks_abandoned),
        },
        "seconds": seconds,
        "max_charges_per_payment": max(stack.psp.charges.values(), default=0),
        "max_payment_intents_per_payment": max(stack.psp.intents.values(), default=0),
        "dead_letters": letters,
        "security": security,
    }
    return report, extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=1000, help="payments to send (default 1000)")
    parser.add_argument("--seed", type=int, default=5, help="random seed of faults and mix (default 5)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        report, extra = run(args.payments, args.seed, Path(directory) / "lambda.jsonl")
    ok = (
        report.ok
        and not extra["security"]["card_data_hits"]
        and extra["max_charges_per_payment"] <= 1
        and extra["max_payment_intents_per_payment"] <= 1
    )
    print(report.render())
    print(json.dumps(extra, indent=2))
    print(f"FAULT RUN {'OK' if ok else 'FAILED'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"report": report.as_dict(), **extra, "ok": ok}, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
