"""The run's summary: what happened to every payment, and whether anything was lost or miscounted."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from fake_psp import FakePsp

from devstack.disputes import Disputes
from devstack.load import FINAL_STATUSES, Sent, captured, http
from devstack.moto_local import client
from devstack.payouts import Payouts
from devstack.psp_payouts import PspPayouts, books_agree_with_the_psp
from devstack.refunds import Refunds
from devstack.runtime import Invocation
from devstack.sigv4 import Keyring
from devstack.time_to_final import render as render_time_to_final
from devstack.time_to_final import summary as time_to_final_summary
from devstack.time_to_final import waits_ms
from payments_shared.fees import FeeSchedule


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {}
    ordered = sorted(samples)
    pick = lambda p: ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]  # noqa: E731
    return {f"p{p}": round(pick(p), 1) for p in (50, 90, 95, 99)}


@dataclass
class Report:
    payments: int
    http_status: dict[str, int]
    final_status: dict[str, int]
    latency_ms: dict[str, float]
    cold_starts: dict[str, int]
    init_ms: dict[str, float]  # the execution environments' init (Lambda's Init Duration), percentiles
    dlq_messages: dict[str, int]
    lost: list[str]
    wrong_outcomes: list[str]
    psp_charges_over_one: int
    ledger_balanced: bool
    ledger_payables_match: bool
    wallets_match: bool
    refunds: dict[str, Any] = field(default_factory=dict)  # asked, answers, statuses, pending, unexpected
    disputes: dict[str, Any] = field(default_factory=dict)  # plans (win, lose, keep-open), unexpected answers
    payouts: dict[str, Any] = field(default_factory=dict)  # paid out per merchant, answers, unexpected
    psp_payouts: dict[str, Any] = field(default_factory=dict)  # the PSP's payouts to our bank at the end
    # Each currency where the ledger's psp_clearing differs from the PSP's balance transactions (reconcile's
    # ledger/psp pair, once everything settled): none when wallet = ledger = PSP.
    psp_balance: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    iam: dict[str, Any] = field(default_factory=dict)  # devstack.aws_calls.iam_check, once the run is over
    webhooks: dict[str, Any] = field(default_factory=dict)  # devstack.webhooks.summary, when the run had endpoints
    # POST /payments → GET shows the final status, against the PSP's own charge latency (devstack.time_to_final).
    time_to_final: dict[str, Any] = field(default_factory=dict)
    soak: dict[str, Any] = field(default_factory=dict)  # devstack.soak's figures, lines and problems, in a soak

    @property
    def ok(self) -> bool:
        books_right = (
            self.ledger_balanced and self.ledger_payables_match and self.wallets_match and not self.psp_balance
        )
        nothing_lost = not self.lost and not any(self.dlq_messages.values()) and not self.refunds.get("pending")
        allowed = not self.iam.get("denied") and not self.iam.get("unmapped_calls")
        refunds_right = not (
            self.refunds.get("unexpected")
            or self.disputes.get("unexpected")
            or self.payouts.get("unexpected")
            or self.psp_payouts.get("unexpected")
        )
        return (
            books_right
            and nothing_lost
            and refunds_right
            and not self.wrong_outcomes
            and self.psp_charges_over_one == 0
            and allowed
            and not self.webhooks.get("problems")
            and not self.soak.get("problems")
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def render(self) -> str:
        yes = lambda flag: "yes" if flag else "NO"  # noqa: E731
        lines = [
            f"payments sent          {self.payments}",
            f"HTTP answers           {dict(sorted(self.http_status.items()))}",
            f"final statuses         {dict(sorted(self.final_status.items()))}",
            f"POST latency (ms)      {self.latency_ms}",
            render_time_to_final(self.time_to_final),
            f"cold starts            {dict(sorted(self.cold_starts.items()))}",
            f"init duration (ms)     {self.init_ms}",
            f"DLQ messages           {sum(self.dlq_messages.values())} {self.dlq_messages}",
            f"lost payments          {len(self.lost)}",
            f"wrong outcomes         {len(self.wrong_outcomes)}",
            f"PSP double charges     {self.psp_charges_over_one}",
            f"buyers too late (3DS)  {self.details.get('buyers_too_late', 0)}",
            f"POSTs sent again       {self.details.get('posts_unanswered', 0)} (no answer, or API Gateway's 504), "
            f"{self.details.get('posts_throttled', 0)} after a 500/503/429 (a throttled function or table)",
            f"refunds asked          {self.refunds.get('asked', {})} answered {self.refunds.get('answers', {})}",
            f"refund statuses        {self.refunds.get('statuses', {})}, still pending "
            f"{len(self.refunds.get('pending', []))}, unexpected answers {len(self.refunds.get('unexpected', []))}",
            f"disputes closed        {self.disputes.get('plans', {})}, unexpected answers "
            f"{len(self.disputes.get('unexpected', []))}",
            f"ledger balanced        {yes(self.ledger_balanced)}",
            f"paid out               {self.payouts.get('paid_minor', {})} answered {self.payouts.get('answers', {})}, "
            f"unexpected answers {len(self.payouts.get('unexpected', []))}",
            f"payables = expected    {yes(self.ledger_payables_match)}   "
            "(SUCCESS net of fees, less refunds, disputes and payouts)",
            f"wallets = expected     {yes(self.wallets_match)}",
            f"PSP paid out to bank   {self._psp_payouts_line()}",
            f"ledger = PSP balance   {yes(not self.psp_balance)}   (psp_clearing vs the PSP's balance transactions: "
            f"{len(self.psp_balance)} currencies differ)",
            f"IAM (deployed roles)   {self._iam_line()}",
            *self._webhook_lines(),
            *self.soak.get("lines", []),
            f"RESULT                 {'OK: nothing lost' if self.ok else 'FAILED'}",
        ]
        return "\n".join(
            lines
            + [f"  denied: {d}" for d in self.iam.get("denied", [])]
            + [f"  unmapped: {c}" for c in self.iam.get("unmapped_calls", [])]
            + [f"  refund: {u}" for u in self.refunds.get("unexpected", [])]
            + [f"  dispute: {u}" for u in self.disputes.get("unexpected", [])]
            + [f"  payout: {u}" for u in self.payouts.get("unexpected", [])]
            + [f"  PSP payout: {u}" for u in self.psp_payouts.get("unexpected", [])]
            + [f"  ledger/psp {d['currency']}: {'; '.join(d['problems'])}" for d in self.psp_balance]
            + [f"  wrong outcome: {w}" for w in self.wrong_outcomes]
            + [f"  webhooks: {p}" for p in self.webhooks.get("problems", [])]
            + [f"  soak: {p}" for p in self.soak.get("problems", [])]
        )

    def _psp_payouts_line(self) -> str:
        made = self.psp_payouts.get("made", [])
        if not self.psp_payouts:
            return "not asked"
        paid = {p["currency"]: p["amount_minor"] for p in made}
        return f"{paid}, unexpected {len(self.psp_payouts.get('unexpected', []))}"

    def _webhook_lines(self) -> list[str]:
        hooks = self.webhooks
        if not hooks:
            return []
        return [
            f"webhooks               {hooks['recorded']} events recorded, {hooks['delivered']} delivered (verified) "
            f"to {hooks['endpoints']} endpoints; {hooks['attempts']} attempts, {hooks['retried']} retried "
            f"(endpoint of {hooks['down']} down for a stretch), {hooks['duplicates']} duplicates, "
            f"{hooks['parked']} parked; problems {len(hooks['problems'])}",
            *(
                f"  receivers {kind:<12} {k['endpoints']} endpoint{'s' if k['endpoints'] != 1 else ''}: "
                f"{k['recorded']} events recorded, "
                f"{k['pushed']} received by push, {k['pulled']} caught up by GET /events, {k['duplicates']} "
                f"duplicates, {k['missing']} missing"
                for kind, k in hooks.get("kinds", {}).items()
            ),
        ]

    def _iam_line(self) -> str:
        if not self.iam:
            return "not checked"
        return (
            f"{self.iam['calls']} calls, {self.iam['requests']} distinct requests: {len(self.iam['denied'])} "
            f"denied, {len(self.iam['unused_grants'])} grants unused"
        )


EXPECTED = {
    "approve": "SUCCESS",
    "approve-refund-fails": "SUCCESS",
    "approve-dispute": "SUCCESS",
    "authenticate": "SUCCESS",
    "authenticate-fail": "FAILED",
    "abandon": "FAILED",
    "decline": "FAILED",
    "refuse": "FAILED",
    "authorize-capture": "SUCCESS",
    "authorize-cancel": "CANCELED",
    "authorize-expire": "CANCELED",  # load.LEFT_TO_EXPIRE: the capture window passed, the system cancelled it
}


def _books(api_url: str, keys: Keyring, merchants: set[str]) -> tuple[dict[str, Any], dict[Any, int], dict[Any, int]]:
    """The trial balance (as the operator), each merchant's payable, and each wallet as its merchant reads it."""
    _, trial = http("GET", f"{api_url}/ledger/trial-balance", signer=keys.operator)
    payables = {
        (a["account"].removeprefix("merchant_payable:"), a["currency"]): a["credits_minor"] - a["debits_minor"]
        for a in trial.get("accounts", [])
        if a["account"].startswith("merchant_payable:")
    }
    wallets: dict[tuple[str, str], int] = {}
    for merchant in merchants:
        status, wallet = http("GET", f"{api_url}/wallets/{merchant}", signer=keys.merchant(merchant))
        for balance in wallet.get("balances", []) if status == 200 else []:
            wallets[(merchant, balance["currency"])] = balance["amount_minor"]
    return trial, payables, wallets


def build(
    api_url: str,
    keys: Keyring,
    sent: list[Sent],
    final: dict[str, dict[str, Any]],
    invocations: list[Invocation],
    psp: FakePsp,
    dlqs: dict[str, str],
    fees: FeeSchedule,
    refunds: Refunds | None = None,
    books_timeout_s: float = 60.0,
    disputes: Disputes | None = None,
    payouts: Payouts | None = None,
    psp_payouts: PspPayouts | None = None,
) -> Report:
    kinds = {s.body["payment_order_id"]: s.kind for s in sent if s.status == 201}
    lost = [order_id for order_id, body in final.items() if body.get("status") not in FINAL_STATUSES]
    wrong = [
        f"{order_id}: {kinds[order_id]} → {body.get('status')}"
        for order_id, body in final.items()
        if order_id not in lost and EXPECTED[kinds[order_id]] != body.get("status")
    ]
    wrong += [f"invalid request answered {s.status}" for s in sent if s.kind == "invalid" and s.status != 400]

    success: dict[tuple[str, str], int] = defaultdict(int)
    owed: dict[tuple[str, str], int] = defaultdict(int)  # what each merchant is owed: net of fees, less refunds
    for body in final.values():
        if body.get("status") == "SUCCESS":
            amount = captured(body)
            success[(body["merchant_id"], body["currency"])] += amount.minor
            owed[(body["merchant_id"], body["currency"])] += fees.net(amount).minor
    for key, refunded in (refunds.refunded_minor() if refunds else {}).items():
        owed[key] -= refunded
    # Disputes take the amount and the dispute fee; a won one gives the amount back (devstack.disputes).
    for key, taken in (disputes.taken_minor() if disputes else {}).items():
        owed[key] -= taken
    for key, paid in (payouts.paid_minor if payouts else {}).items():
        owed[key] -= paid  # the payable after payouts: what is still owed
    expected = dict(owed)

    # The ledger, its totals projection and the wallet consume after the order's final status is set:
    # give them until books_timeout_s to catch up (they are eventually consistent by design).
    deadline = time.monotonic() + books_timeout_s
    while True:
        trial, payables, wallets = _books(api_url, keys, {m for m, _ in success})
        if (payables == expected and wallets == expected) or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    # The ledger's psp_clearing against the PSP's balance transactions, once the last webhooks are booked.
    psp_balance = books_agree_with_the_psp(client("dynamodb"), psp, books_timeout_s)

    sqs = client("sqs")
    dlq_messages = {
        name: int(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
                "ApproximateNumberOfMessages"
            ]
        )
        for name, url in dlqs.items()
    }
    return Report(
        payments=len(sent),
        http_status=dict(Counter(str(s.status) for s in sent)),
        final_status=dict(Counter(str(b.get("status")) for b in final.values())),
        latency_ms=percentiles([s.latency_ms for s in sent]),
        time_to_final=time_to_final_summary(waits_ms(client("dynamodb"), sent), psp.answer_seconds, psp.latency.spec),
        cold_starts=dict(Counter(i.function for i in invocations if i.cold)),
        init_ms=percentiles([i.init_ms for i in invocations if i.cold]),
        dlq_messages=dlq_messages,
        lost=lost,
        wrong_outcomes=wrong,
        psp_charges_over_one=sum(1 for n in psp.charges.values() if n > 1),
        ledger_balanced=bool(trial.get("balanced")),
        ledger_payables_match=payables == expected,
        wallets_match=wallets == expected,
        refunds={}
        if refunds is None
        else {
            "asked": dict(refunds.asked),
            "answers": dict(refunds.answers),
            "statuses": refunds.statuses(),
            "pending": refunds.pending(),
            "unexpected": refunds.unexpected,
        },
        disputes={} if disputes is None else {"plans": disputes.plans(), "unexpected": disputes.unexpected},
        payouts={}
        if payouts is None
        else {
            "paid_minor": {f"{m}/{c}": v for (m, c), v in sorted(payouts.paid_minor.items())},
            "answers": dict(payouts.answers),
            "unexpected": payouts.unexpected,
        },
        psp_payouts={} if psp_payouts is None else asdict(psp_payouts),
        psp_balance=psp_balance,
        details={
            "success_minor_by_merchant": {f"{m}/{c}": v for (m, c), v in sorted(success.items())},
            "owed_minor_by_merchant": {f"{m}/{c}": v for (m, c), v in sorted(expected.items())},
            "psp_charges": sum(psp.charges.values()),
            "buyers_too_late": sum(1 for s in sent if s.too_late),  # the sweep cancelled before they authenticated
            "posts_unanswered": sum(s.unanswered for s in sent),  # each sent again with its Idempotency-Key
            "posts_throttled": sum(s.throttled for s in sent),  # likewise, after a backoff
        },
    )
