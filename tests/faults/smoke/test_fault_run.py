"""The fault run with N=200 (CI): nothing lost, nothing charged twice, books right, no card data leaked."""

from __future__ import annotations

from pathlib import Path

from faults.run import card_data_hits, run

# Grants for a path a run may not take, each needed by the code and exercised by a test of its own.
RARE_PATHS = {
    # A credit that read its shard's snapshot while another credit appended: the newer events are queried
    # (DynamoDBEventStore.load; shared/tests/test_eventstore_contract.py, the snapshot tests).
    "wallet: wallet-least-privilege/CreditWallets dynamodb:Query "
    "arn:aws:dynamodb:eu-west-1:123456789012:table/wallet-events",
    # The same for a payout: a merchant's payouts stream is snapshotted at each payout, so its events are queried
    # only when another payout appended after the snapshot read (the same store contract tests).
    "wallet-api: wallet-api-least-privilege/PayOut dynamodb:Query "
    "arn:aws:dynamodb:eu-west-1:123456789012:table/wallet-events",
    # A credit or a payout checks its stream's version with an item of its own only when the snapshot it read is not
    # the head (an event after it, from code that did not snapshot: none writes these streams today); otherwise the
    # snapshot it replaces pins the version (services/wallet/tests/test_wallet_aws.py, the recovery test). Kept so
    # that recovery is a full load and a write, not an AccessDenied.
    "wallet: wallet-least-privilege/CreditWallets dynamodb:ConditionCheckItem "
    "arn:aws:dynamodb:eu-west-1:123456789012:table/wallet-events",
    "wallet-api: wallet-api-least-privilege/PayOut dynamodb:ConditionCheckItem "
    "arn:aws:dynamodb:eu-west-1:123456789012:table/wallet-events",
    # A redelivered PaymentInitiated that finds its payment awaiting 3-D Secure appends the outcome after
    # PaymentActionRequired (services/finalizer/tests/test_finalizer_3ds.py, the redelivery test).
    "finalizer: finalizer-least-privilege/SettlePayments dynamodb:ConditionCheckItem "
    "arn:aws:dynamodb:eu-west-1:123456789012:table/finalizer-events",
}


def test_the_scan_finds_card_numbers_in_any_grouping_and_cvv_values() -> None:
    hits = card_data_hits(['{"note": "4242 4242 4242 4242"}', '{"cvv": "123"}', "ts 1795591362607"])
    assert hits == ["4242 4242 4242 4242", "cvv value"]


def test_two_hundred_payments_under_every_fault_lose_nothing(tmp_path: Path) -> None:
    report, extra = run(200, seed=5, logs=tmp_path / "lambda.jsonl")
    assert report.ok, report.render()
    # It ends with the books compared with the PSP: the PSP paid its balance out to our bank, and the ledger's
    # psp_clearing moved as the PSP's balance transactions did (reconcile's ledger/psp pair finds no difference).
    assert report.psp_payouts["made"] and report.psp_payouts["unexpected"] == []
    assert report.psp_balance == [], report.render()
    assert extra["max_charges_per_payment"] <= 1
    assert extra["dead_letters"] == []
    assert extra["security"]["card_data_hits"] == [] and extra["security"]["log_lines_scanned"] > 500
    assert extra["security"]["stored_events_and_rows_scanned"] > 1000
    # Every AWS call of the run (handlers and their event sources), and what AWS does with each role as
    # deployed, allowed by the policies Terraform renders (infra/iam/policies.json); every grant used.
    iam = report.iam
    print({k: v for k, v in iam.items() if k != "denied"})
    assert iam["denied"] == [] and iam["unmapped_calls"] == [], iam
    # requests: distinct (function, IAM request) pairs; most are the KMS requests of card payments (one per order)
    assert iam["requests"] > 120 and iam["calls"] > 2000
    assert set(iam["unused_grants"]) <= RARE_PATHS, iam["unused_grants"]
    # The faults really happened.
    assert extra["injected"]["put_events_entry_failures"] > 0
    assert extra["injected"]["psp_requests"] > extra["injected"]["psp_charges"]
    print(report.render(), extra)
