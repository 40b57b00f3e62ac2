"""Starts the local system: moto, the fake PSP, the handlers, their event sources and the local API."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from fake_psp import FakePsp
from fake_psp.latency import CAP_S as LATENCY_CAP_S
from fake_psp.latency import parse as parse_latency
from moto.core import DEFAULT_ACCOUNT_ID
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from devstack import dashboard, resources
from devstack.api_server import LocalApi, PageServer
from devstack.aws_calls import CallLog, iam_check
from devstack.disputes import Disputes, close_some
from devstack.environment import Reply
from devstack.faults import Faults
from devstack.function_url import LocalFunctionUrl
from devstack.load import MERCHANTS, Sent
from devstack.moto_local import MotoServer, client, provision
from devstack.otlp import LogSink, OtlpExport
from devstack.payouts import SETTLEMENT_DELAY_S, Payouts
from devstack.psp_payouts import PspPayouts
from devstack.pumps import QueuePump, Schedule, StreamPump
from devstack.refunds import Refunds
from devstack.report import Report, build
from devstack.runtime import Functions
from devstack.sigv4 import Keyring
from devstack.span_transport import restored
from devstack.webhook_receiver import WebhookReceiver
from payments_shared import fees
from payments_shared.observability.tracing import configure_sdk
from payments_shared.topology import function_urls
from payments_testing.iam.deployed import Deployment
from payments_testing.strict_dynamodb import StrictTransactions

# Local runs shorten the queues' visibility timeout (180 s deployed) so a redelivery takes seconds: 36 s,
# which stays above what an invocation takes here under the fault run's load (functions in processes of
# their own, on two cores, up to ~10 s; beyond 18 s with the notifier's three functions while CI runs other
# tests beside it), as Lambda requires the timeout to stay above the function's.
TIME_SCALE = 0.2
# 3-D Secure, locally: a buyer who walks away is cancelled after 30 s (15 min deployed), swept every 2 s (5 min).
# The deadline leaves the buyer time to see REQUIRES_ACTION: under the run's load the hops from the finalizer
# to the order's view (relay, bus, queue, outcome consumer) take up to ~10 s on two cores.
AUTHENTICATION_DEADLINE_S = 30
SWEEP_PERIOD_S = 2.0
# Manual capture, locally: an authorization no one captures is cancelled by the sweep after 2 min (7 days deployed).
CAPTURE_WINDOW_S = 120
# Merchant webhooks, locally: the retry schedule's waits (1 min, 5 min, 30 min, … deployed) become 1 s, 3 s, 18 s,
# 72 s, … so an endpoint down for ~20 s catches up within the run, and nothing parks (the schedule lasts ~47 min).
WEBHOOK_RETRY_SCALE = 0.01


class Devstack:
    def __init__(
        self,
        *,
        api_port: int = 0,
        dashboard_port: int = 0,
        psp_503_rate: float = 0.0,
        logs: Path,
        faults: Faults | None = None,
        time_scale: float = TIME_SCALE,
        otlp: OtlpExport | None = None,
        keep_operations: bool = False,
        psp_latency: str = "none",
    ) -> None:
        """psp_latency: how long the fake PSP takes to answer (fake_psp.latency: none, fixed:<ms>, stripe)."""
        self.faults = faults or Faults(psp={"503": psp_503_rate})
        logs.parent.mkdir(parents=True, exist_ok=True)
        # The handlers' JSON logs and EMF metrics go to a file, as CloudWatch would receive them.
        self.console: TextIO = sys.stdout
        # With an OTLP export, the EMF lines also become OTLP metrics and the spans go out too.
        self.otlp = otlp
        self._log_file = LogSink(logs.open("w", buffering=1), otlp)
        sys.stdout = self._log_file
        # The functions' spans, as the OneAgent would collect them (the environments hand them back).
        self.spans = InMemorySpanExporter()
        configure_sdk(self.spans, service_name="payments-local")
        self.moto = MotoServer().start()
        # Every AWS call made with a function's role, for the IAM check against the deployed policies.
        self.calls = CallLog(resources.REGION, DEFAULT_ACCOUNT_ID).install()
        # DynamoDB as strict as the real one: overlapping transactions on an item are cancelled, and a
        # share of all transactions is refused for passing reasons when the faults ask for it.
        self.dynamodb = StrictTransactions(fault_rate=self.faults.dynamodb_refusals, seed=self.faults.seed).install()
        self.time_scale = time_scale
        self.provisioned = provision(time_scale)
        # Raw card numbers reach Stripe only from an account with raw card data access: the local one has it.
        # Its webhooks come late, twice and out of order when the faults ask for it, as Stripe's may.
        # With a latency model the SDK's read timeout must outlast the model's longest answer (as the deployed 5 s
        # does Stripe's), and a hung answer must outlast the timeout; without one, 0.5 s keeps the faults quick.
        self.psp_latency = parse_latency(psp_latency, self.faults.seed)
        read_timeout_s = 0.5 if psp_latency == "none" else LATENCY_CAP_S + 1.0
        self.psp = FakePsp(
            latency=self.psp_latency,
            hang_seconds=read_timeout_s + 0.5,
            fault_rates=self.faults.psp,
            seed=self.faults.seed,
            raw_card_access=True,
            webhook_duplicate_rate=self.faults.webhook_duplicates,
            webhook_delay_s=(0.0, self.faults.webhook_max_delay_s),
            # Its charges become available when the wallets' captures do, so the run can pay the balance out.
            settlement_delay_s=SETTLEMENT_DELAY_S,
        ).start()
        # The finalizer talks to the fake as to Stripe: its secret key and the webhook endpoint's signing secret
        # from SSM, the SDK pointed at the fake.
        ssm = client("ssm")
        ssm.put_parameter(Name=resources.PSP_API_KEY_PARAMETER, Value=self.psp.api_key, Type="SecureString")
        ssm.put_parameter(
            Name=resources.STRIPE_WEBHOOK_SECRET_PARAMETER, Value=self.psp.webhook_secret, Type="SecureString"
        )
        os.environ.update(
            PSP_API_BASE=self.psp.url,
            PSP_API_KEY_PARAMETER=resources.PSP_API_KEY_PARAMETER,
            STRIPE_WEBHOOK_SECRET_PARAMETER=resources.STRIPE_WEBHOOK_SECRET_PARAMETER,
            AUTHENTICATION_DEADLINE_S=str(AUTHENTICATION_DEADLINE_S),
            CAPTURE_WINDOW_S=str(CAPTURE_WINDOW_S),
            PSP_READ_TIMEOUT_S=str(read_timeout_s),
            POWERTOOLS_METRICS_NAMESPACE="Payments",
            PYDANTIC_DISABLE_PLUGINS="__all__",  # as Terraform sets it on every function (lambda_service)
            RAW_CARD_DATA="on",  # the local Stripe account has raw card data access (FakePsp above)
            **fees.environment_of(),  # the ledger's and the wallet's fee rule, as Terraform sets it
            # Captures settle after seconds here, not Stripe's two days: the run pays merchants out at its end.
            SETTLEMENT_DELAY_S=str(SETTLEMENT_DELAY_S),
            # The notifier's tables and queue, as its Terraform root sets them.
            WEBHOOK_ENDPOINTS_TABLE="webhook-endpoints",
            MERCHANT_EVENTS_TABLE="merchant-events",
            WEBHOOK_DELIVERIES_TABLE="webhook-deliveries",
            DELIVERIES_QUEUE_URL=self.provisioned.queues[resources.DELIVERIES_QUEUE],
            # The local run's alone: its merchants' receiver listens on 127.0.0.1, and retries come in seconds.
            WEBHOOK_TARGETS_ALLOW_LOOPBACK="1",
            WEBHOOK_RETRY_SCALE=str(WEBHOOK_RETRY_SCALE),
        )
        self.fees = fees.from_env(fees.environment_of())  # what the books must show, per payment
        # Execution environments start with the environment set above. Consumers scale out to their
        # mappings' maximum concurrency; the API as API Gateway would (the local server's client threads).
        # The relays publish through PutEvents as it behaves on a bad day (partial failures), when asked to.
        consumers = {s.function: s.settings.maximum_concurrency for s in resources.SUBSCRIPTIONS}
        consumers[resources.DELIVERIES_FUNCTION] = resources.DELIVERIES.maximum_concurrency
        apis = {
            "initializer-api": 16,
            "ledger-api": 16,
            "wallet-api": 16,
            "finalizer-webhook": 16,
            "notifier-api": 16,
        }
        self.functions = Functions(
            {**consumers, **apis},
            on_reply=self._collect,
            put_events_entry_failure=self.faults.put_events_entry_failure,
            seed=self.faults.seed,
            region=resources.REGION,
            account=DEFAULT_ACCOUNT_ID,
            # Lambda refuses a queue whose visibility timeout is shorter than the function's timeout.
            timeout_s=resources.QUEUE.visibility_timeout_seconds * time_scale,
            keep_operations=keep_operations,  # benchmarks count and replay the calls
        )
        self._stop = threading.Event()
        self._pumps: list[threading.Thread] = [
            StreamPump(
                self.functions,
                function,
                self.provisioned.stream_arns[resources.EVENT_STORES[service]],
                self._stop,
                self.faults,
            )
            for service, function in resources.STREAM_CONSUMERS.items()
        ] + [
            QueuePump(
                self.functions,
                s.function,
                self.provisioned.queues[s.name],
                self.provisioned.queue_arns[s.name],
                s.settings,  # its own batching over the shared settings, as its event source mapping
                self._stop,
                self.faults,
            )
            for s in resources.SUBSCRIPTIONS
        ]
        self._pumps.append(
            QueuePump(
                self.functions,
                resources.DELIVERIES_FUNCTION,
                self.provisioned.queues[resources.DELIVERIES_QUEUE],
                self.provisioned.queue_arns[resources.DELIVERIES_QUEUE],
                resources.DELIVERIES,
                self._stop,
                self.faults,
                from_rule=False,
            )
        )
        self._pumps.append(Schedule(self.functions, "finalizer-sweep", SWEEP_PERIOD_S, self._stop))
        for pump in self._pumps:
            pump.start()
        # Credentials per merchant and one operator; onboarded into the principals directory.
        self.keys = Keyring(MERCHANTS)
        self.keys.onboard(client("dynamodb"), resources.PRINCIPALS["TableName"])
        self.api = LocalApi(self.functions, self.keys, api_port).start()
        # Functions with a URL of their own (contracts/function_urls.json), each on its own port as each has its
        # own host when deployed: Stripe's webhook endpoint is the finalizer-webhook function's URL.
        self.function_urls = {
            name: LocalFunctionUrl(self.functions, config).start() for name, config in function_urls().items()
        }
        self.psp.webhook_url = self.function_urls["finalizer-webhook"].endpoint  # the endpoint registered at "Stripe"
        self.dashboard = PageServer(self._page, dashboard_port).start()
        # The merchants' webhook receiver (devstack.webhooks registers its endpoints through the API).
        self.receiver = WebhookReceiver().start()

    def _collect(self, function: str, reply: Reply) -> None:
        """An invocation's spans and AWS calls, from its execution environment."""
        self.spans.export([restored(span) for span in reply.spans])
        if self.otlp is not None:
            self.otlp.export_spans(function, reply.spans)
        self.calls.merge(function, reply.calls, reply.unmapped)

    def _page(self, path: str) -> tuple[int, str, str] | None:
        spans = self.spans.get_finished_spans()
        if path in ("/", "/dashboard"):
            return (
                200,
                "text/html; charset=utf-8",
                dashboard.render(
                    self.api.requests,
                    self.functions.invocations,
                    spans,
                    dashboard.webhooks_panel(self.receiver.summary(), self.parked_deliveries()),
                    self.functions.throttles,
                ),
            )
        if path.startswith("/assets/"):
            found = dashboard.asset(path.removeprefix("/assets/"))
            return (200, *found) if found else None
        if path.startswith("/traces/"):
            page = dashboard.render_trace(path.removeprefix("/traces/"), spans)
            return (200, "text/html; charset=utf-8", page) if page else None
        return None

    def parked_deliveries(self) -> int:
        """Webhook deliveries the notifier-deliveries queue parked after every retry (its DLQ's depth)."""
        url = self.provisioned.dlqs[resources.DELIVERIES_QUEUE]
        attributes = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def report(
        self,
        sent: list[Sent],
        final: dict[str, dict[str, Any]],
        refunds: Refunds | None = None,
        disputes: Disputes | None = None,
        payouts: Payouts | None = None,
        psp_payouts: PspPayouts | None = None,
    ) -> Report:
        """The run's summary on this stack (waits until the books have caught up)."""
        return build(
            self.api.url,
            self.keys,
            sent,
            final,
            self.functions.invocations,
            self.psp,
            self.provisioned.dlqs,
            self.fees,
            refunds,
            # A caller that closed none still has the dispute card's disputes, open, in the books.
            disputes=disputes if disputes is not None else close_some(self.psp, final, 0, close=False),
            payouts=payouts,
            psp_payouts=psp_payouts,
        )

    def iam_check(self, deployment: Deployment | None = None) -> dict[str, Any]:
        """The run's AWS calls, function by function, against the policies Terraform renders (or others)."""
        # The local keys' ids differ from the deployed ones: both are named by their alias.
        aliases = {
            a["TargetKeyId"]: a["AliasName"].removeprefix("alias/")
            for a in client("kms").list_aliases()["Aliases"]
            if "TargetKeyId" in a
        }
        return iam_check(self.calls, deployment or Deployment.load(), aliases)

    def stop_event_sources(self) -> None:
        self._stop.set()
        for pump in self._pumps:
            pump.join(timeout=5)

    def stop(self) -> None:
        self.stop_event_sources()
        if self.otlp is not None:
            self.otlp.shutdown()  # sends what is still batched
        self.api.stop()
        for url in self.function_urls.values():
            url.stop()
        self.functions.close()
        self.dashboard.stop()
        self.receiver.stop()
        self.psp.stop()
        self.moto.stop()
        self.calls.uninstall()
        self.dynamodb.uninstall()
        sys.stdout = self.console
        self._log_file.close()
