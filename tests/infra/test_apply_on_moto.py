"""Apply → verify → destroy: the platform root, then every service root, on a local moto server.

The roots are applied exactly as a user would (`terraform apply` per root, the service zips Pants built,
Dynatrace switched on with tokens from SSM), then the wiring is read back through the AWS APIs. Tests in
this module run in file order: the last one destroys everything. Figures are printed (pytest -s).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from devstack import resources  # the local stack reads the same consumers file as Terraform
from devstack.moto_local import MotoServer
from devstack.moto_local import client as aws  # the local stack's client: bounded retries

from infra.rendered_iam import iam_document, render
from infra.terraform_cli import run_terraform
from payments_shared.event_patterns import load_pattern
from payments_shared.topology import api_routes, function_urls
from payments_testing.iam.deployed import POLICIES_FILE

SERVICES = ("initializer", "finalizer", "ledger", "wallet", "notifier")
# Functions fed by their event store's DynamoDB stream: the outbox relays and the ledger's totals projection.
STREAM_CONSUMERS = {
    function: resources.EVENT_STORES[service] for service, function in resources.STREAM_CONSUMERS.items()
}
# The routes the contract names (contracts/api_routes.json): the deployed API must serve exactly these, every one
# with IAM. Stripe's webhooks (Stripe cannot sign with AWS credentials) are the finalizer-webhook function's own URL
# (contracts/function_urls.json, auth type NONE); the function verifies Stripe-Signature.
ROUTES = {f"{r.method} {r.path}" for r in api_routes() if r.authorization == "AWS_IAM"}
SIGNED_BY_CALLER = {f"{r.method} {r.path}" for r in api_routes() if r.authorization == "NONE"}
assert "POST /payments" in ROUTES and SIGNED_BY_CALLER == set()
WEBHOOK_URL = function_urls()["finalizer-webhook"]
# Every function the five roots deploy.
FUNCTIONS = {
    "initializer-api",
    "initializer-relay",
    "initializer-outcome",
    "finalizer",
    "finalizer-refund",
    "finalizer-capture",
    "finalizer-relay",
    "finalizer-webhook",
    "finalizer-sweep",
    "ledger",
    "ledger-totals",
    "ledger-api",
    "wallet",
    "wallet-api",
    "wallet-relay",
    "notifier-api",
    "notifier-record",
    "notifier-deliver",
}
SECRETS = {
    "/payments/dynatrace/firehose-access-key": "dt0c01.firehose-fake",
    "/payments/dynatrace/metric-stream-access-key": "dt0c01.metrics-fake",
    "/payments/dynatrace/connection-token": "dt0c01.connection-fake",
}
# Onboarding, as a platform apply records it: two merchants' back ends and the operators.
MERCHANTS = {"m-1": "arn:aws:iam::111111111111:role/backend", "m-2": "arn:aws:iam::222222222222:role/backend"}
OPERATORS = ["arn:aws:iam::123456789012:role/support"]
DYNATRACE = {
    "dynatrace_tenant": "abc12345",
    "dynatrace_cluster_id": "-1234",
    "dynatrace_connection_base_url": "https://abc12345.live.dynatrace.com",
}


@dataclass
class Deployment:
    workdir: Path
    platform: dict[str, Any]
    layer_arn: str
    seconds: dict[str, float] = field(default_factory=dict)

    def root(self, name: str) -> Path:
        return self.workdir / ("platform" if name == "platform" else f"services/{name}")

    def variables(self, name: str) -> list[str]:
        values = {"local_endpoint": "true"}
        if name == "platform":
            values |= {"merchants": json.dumps(MERCHANTS), "operator_principals": json.dumps(OPERATORS)}
        else:
            values |= {
                "zip_path": str(Path(f"services.{name}/lambda.zip").resolve()),
                "dynatrace_enabled": "true",
                "dynatrace_layer_arn": self.layer_arn,
                **DYNATRACE,
            }
        return [arg for key, value in values.items() for arg in ("-var", f"{key}={value}")]

    def terraform(self, name: str, command: str) -> str:
        started = time.perf_counter()
        result = run_terraform(
            [command, "-auto-approve", "-input=false", "-no-color", *self.variables(name)], self.root(name)
        )
        self.seconds[f"{command} {name}"] = time.perf_counter() - started
        assert result.returncode == 0, f"{command} {name}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        return result.stdout

    def state_arns(self, name: str) -> set[str]:
        """Every ARN a root's state holds: what that root owns."""
        shown = json.loads(run_terraform(["show", "-json", "-no-color"], self.root(name)).stdout)
        arns: set[str] = set()
        modules = [shown["values"]["root_module"]]
        while modules:
            module = modules.pop()
            modules += module.get("child_modules", [])
            for resource in module.get("resources", []):
                if resource["mode"] == "managed":
                    values = resource["values"]
                    arns |= {v for k, v in values.items() if k.endswith("arn") and isinstance(v, str) and v}
        return arns


def seed_account() -> str:
    """What exists before `terraform apply` in a real account: the SSM tokens and the Dynatrace layer
    (moto cannot attach Dynatrace's foreign layer ARN, so a stand-in layer is published here)."""
    for name, value in SECRETS.items():
        aws("ssm").put_parameter(Name=name, Type="SecureString", Value=value)
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as archive:
        archive.writestr("dynatrace", '#!/bin/sh\nexec "$@"\n')
    layer = aws("lambda").publish_layer_version(
        LayerName="Dynatrace_OneAgent_stand_in",
        Content={"ZipFile": content.getvalue()},
        CompatibleRuntimes=["python3.12"],
    )
    return str(layer["LayerVersionArn"])


RETRY_SCHEDULE = Path("services/notifier/src/notifier/delivery/retry_schedule.json")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    moto = MotoServer().start()
    # A copy, so state files stay out of the tree; the relative paths (contracts, ../../modules) still hold.
    base = tmp_path_factory.mktemp("deploy")
    shutil.copytree("infra/terraform", base / "infra/terraform", symlinks=True)
    shutil.copytree("contracts", base / "contracts")
    # The notifier's root reads the deliverer's retry schedule (the deliveries queue's maxReceiveCount).
    (base / RETRY_SCHEDULE).parent.mkdir(parents=True)
    shutil.copy(RETRY_SCHEDULE, base / RETRY_SCHEDULE)
    workdir = base / "infra/terraform"
    try:
        deployment = Deployment(workdir, {}, seed_account())
        for name in ("platform", *SERVICES):  # one at a time: they share the provider cache
            init = run_terraform(["init", "-input=false", "-no-color"], deployment.root(name))
            assert init.returncode == 0, init.stdout + init.stderr
        deployment.terraform("platform", "apply")
        outputs = json.loads(run_terraform(["output", "-json"], deployment.root("platform")).stdout)
        deployment.platform = {key: value["value"] for key, value in outputs.items()}
        # Service roots are independent of each other: applied side by side, as four teams would.
        started = time.perf_counter()
        with ThreadPoolExecutor(len(SERVICES)) as pool:
            list(pool.map(lambda name: deployment.terraform(name, "apply"), SERVICES))
        deployment.seconds["apply services (side by side)"] = time.perf_counter() - started
        yield deployment
    finally:
        moto.stop()


def functions() -> dict[str, dict[str, Any]]:
    return {f["FunctionName"]: f for f in aws("lambda").list_functions()["Functions"]}


def test_every_function_runs_its_service_zip_with_the_dynatrace_layer(deployment: Deployment) -> None:
    deployed = functions()
    assert set(deployed) == FUNCTIONS
    for name, function in deployed.items():
        service = name.split("-")[0]
        zip_sha = base64.b64encode(hashlib.sha256(Path(f"services.{service}/lambda.zip").read_bytes()).digest())
        assert function["CodeSha256"] == zip_sha.decode(), name
        assert (function["Runtime"], function["MemorySize"], function["Timeout"]) == ("python3.12", 192, 30)
        assert function["Handler"].startswith(f"{service}.entrypoints."), name
        assert [layer["Arn"] for layer in function["Layers"]] == [deployment.layer_arn], name
        env = function["Environment"]["Variables"]
        assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/dynatrace"
        assert env["DT_OPEN_TELEMETRY_ENABLE_INTEGRATION"] == "true"
        assert env["DT_TENANT"] == DYNATRACE["dynatrace_tenant"]
        assert env["DT_CLUSTER_ID"] == DYNATRACE["dynatrace_cluster_id"]
        # Tokens come from SSM at deploy time (nothing in code or tfvars).
        assert env["DT_CONNECTION_AUTH_TOKEN"] == SECRETS["/payments/dynatrace/connection-token"]
        # One log ingestion path (the log group's Firehose): the OneAgent does not collect logs as well.
        assert "DT_LOG_COLLECTION_AUTH_TOKEN" not in env
        # Loopback webhook receivers are the local run's alone: no deployed function may allow them (SSRF).
        assert "WEBHOOK_TARGETS_ALLOW_LOOPBACK" not in env, name


def test_every_log_group_keeps_a_year_and_streams_to_the_platform_firehose(deployment: Deployment) -> None:
    for name in functions():
        group = f"/aws/lambda/{name}"
        (described,) = (
            g
            for g in aws("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
            if g["logGroupName"] == group
        )
        assert described["retentionInDays"] == 365
        (subscription,) = aws("logs").describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
        assert subscription["destinationArn"] == deployment.platform["firehose_arn"]
        assert subscription["roleArn"] == deployment.platform["logs_to_firehose_role_arn"]


def test_every_consumer_reads_its_own_queue_fed_by_its_rule_never_an_async_invocation(
    deployment: Deployment,
) -> None:
    """rule (the contract's pattern) → encrypted queue (only that rule may send) → event source mapping
    (partial batch responses, the consumers file's batch settings) → function; redrive to a DLQ, alarmed."""
    events, sqs, lambdas = aws("events"), aws("sqs"), aws("lambda")
    bus, queue = deployment.platform["bus_name"], resources.QUEUE
    alarms = {a["AlarmName"] for a in aws("cloudwatch").describe_alarms()["MetricAlarms"]}
    mappings = {m["EventSourceArn"]: m for m in lambdas.list_event_source_mappings()["EventSourceMappings"]}
    for consumer in resources.SUBSCRIPTIONS:
        name = consumer.name
        described = events.describe_rule(Name=name, EventBusName=bus)
        assert json.loads(described["EventPattern"]) == load_pattern(consumer.pattern)
        inbox_url = sqs.get_queue_url(QueueName=f"{name}-inbox")["QueueUrl"]
        inbox = sqs.get_queue_attributes(QueueUrl=inbox_url, AttributeNames=["All"])["Attributes"]
        dlq_url = sqs.get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        (target,) = events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]
        assert target["Arn"] == inbox["QueueArn"], "the rule hands events to the queue, not to the function"
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0 and target["DeadLetterConfig"]["Arn"] == dlq_arn
        assert inbox["KmsMasterKeyId"] == deployment.platform["kms_key_arn"]
        (statement,) = json.loads(inbox["Policy"])["Statement"]
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == described["Arn"]
        assert json.loads(inbox["RedrivePolicy"]) == {
            "deadLetterTargetArn": dlq_arn,
            "maxReceiveCount": queue.max_receive_count,
        }
        function = functions()[consumer.function]
        assert int(inbox["VisibilityTimeout"]) >= 6 * function["Timeout"]
        mapping = mappings[inbox["QueueArn"]]
        assert invokes_the_alias(mapping["FunctionArn"], consumer.function), mapping["FunctionArn"]
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        # Its own batching over the shared settings (contracts/consumers.json): none on the buyer's hops.
        assert mapping["BatchSize"] == consumer.settings.batch_size
        # A window of 0 is Lambda's default for SQS: the provider leaves it out, and moto then returns none.
        window = mapping.get("MaximumBatchingWindowInSeconds") or 0
        assert window == consumer.settings.maximum_batching_window_seconds
        assert mapping["ScalingConfig"]["MaximumConcurrency"] == consumer.settings.maximum_concurrency
        assert f"{name}-dlq-depth" in alarms
        # No EventBridge invoke permission is left: the function is reached only through its queue.
        with pytest.raises(lambdas.exceptions.ResourceNotFoundException):
            lambdas.get_policy(FunctionName=consumer.function)


def test_webhook_deliveries_retry_on_their_schedule_then_park_in_an_alarmed_dlq(deployment: Deployment) -> None:
    """notifier-deliveries: no rule feeds it (notifier-record and notifier-api send), the deliverer reads it with
    partial batch responses, and the redrive parks a delivery after the schedule's last attempt."""
    sqs, lambdas = aws("sqs"), aws("lambda")
    settings = json.loads(Path("contracts/consumers.json").read_text())["notifier_deliveries"]
    schedule = json.loads(Path("services/notifier/src/notifier/delivery/retry_schedule.json").read_text())
    url = sqs.get_queue_url(QueueName="notifier-deliveries")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    dlq_url = sqs.get_queue_url(QueueName="notifier-deliveries-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert json.loads(queue["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": schedule["max_receive_count"],
    }
    assert queue["KmsMasterKeyId"] == deployment.platform["kms_key_arn"]
    assert int(queue["MessageRetentionPeriod"]) > sum(schedule["delays_s"])
    mappings = {m["EventSourceArn"]: m for m in lambdas.list_event_source_mappings()["EventSourceMappings"]}
    mapping = mappings[queue["QueueArn"]]
    assert invokes_the_alias(mapping["FunctionArn"], "notifier-deliver"), mapping["FunctionArn"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == settings["batch_size"] == 10
    alarms = {a["AlarmName"] for a in aws("cloudwatch").describe_alarms()["MetricAlarms"]}
    assert "notifier-deliveries-dlq-depth" in alarms
    sent_by = {
        name for name, policy in role_policies().items() if "sqs:SendMessage" in granted_on(policy, queue["QueueArn"])
    }
    assert sent_by == {"notifier-record", "notifier-api"}


def test_each_stream_consumer_reads_its_own_stream_with_bisect_and_partial_batch_failures(
    deployment: Deployment,
) -> None:
    mappings = aws("lambda").list_event_source_mappings()["EventSourceMappings"]
    by_function = {m["FunctionArn"].split(":")[6]: m for m in mappings if ":dynamodb:" in m["EventSourceArn"]}
    assert set(by_function) == set(STREAM_CONSUMERS)
    for function, table in STREAM_CONSUMERS.items():
        mapping = by_function[function]
        assert invokes_the_alias(mapping["FunctionArn"], function), mapping["FunctionArn"]
        assert mapping["EventSourceArn"] == aws("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
        assert mapping["BisectBatchOnFunctionError"] and mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(f":{table}-relay-failures")


def rest_methods(api_id: str) -> dict[str, dict[str, Any]]:
    """ "METHOD /path" → the method as API Gateway describes it (with its integration)."""
    gateway = aws("apigateway")
    described = {}
    for resource in gateway.get_resources(restApiId=api_id, limit=500)["items"]:
        for method in resource.get("resourceMethods", {}):
            described[f"{method} {resource['path']}"] = gateway.get_method(
                restApiId=api_id, resourceId=resource["id"], httpMethod=method
            )
    return described


def test_every_api_route_requires_iam_auth(deployment: Deployment) -> None:
    methods = rest_methods(deployment.platform["api_id"])
    assert {route: m["authorizationType"] for route, m in methods.items()} == dict.fromkeys(ROUTES, "AWS_IAM")
    assert f"{WEBHOOK_URL.method} {WEBHOOK_URL.path}" not in methods  # Stripe's webhook has its own URL
    for route, method in methods.items():
        integration = method["methodIntegration"]
        assert (integration["type"], integration["httpMethod"]) == ("AWS_PROXY", "POST"), route
        assert integration["uri"].endswith(":live/invocations"), route


def test_the_prod_stage_logs_at_info_without_bodies_with_detailed_metrics_and_json_access_logs(
    deployment: Deployment,
) -> None:
    gateway, logs, api_id = aws("apigateway"), aws("logs"), deployment.platform["api_id"]
    stage = gateway.get_stage(restApiId=api_id, stageName="prod")
    settings = stage["methodSettings"]["*/*"]
    assert (settings["loggingLevel"], settings["dataTraceEnabled"], settings["metricsEnabled"]) == ("INFO", False, True)
    access_group = "/aws/apigateway/payments-access"
    assert stage["accessLogSettings"]["destinationArn"].removesuffix(":*").endswith(f"log-group:{access_group}")
    fields = json.loads(stage["accessLogSettings"]["format"])
    assert {"status", "errorMessage", "errorType", "integrationStatus", "resourcePath"} <= set(fields)
    assert gateway.get_account()["cloudwatchRoleArn"].endswith(":role/payments-api-gateway-logs")
    # Access and execution logs reach Dynatrace the way the functions' logs do.
    for group in (access_group, f"API-Gateway-Execution-Logs_{api_id}/prod"):
        (described,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        assert described["retentionInDays"] == 365 and described.get("kmsKeyId"), group
        (subscription,) = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
        assert subscription["destinationArn"] == deployment.platform["firehose_arn"], group


def test_the_resource_policy_denies_other_accounts_on_every_route(deployment: Deployment) -> None:
    policy = json.loads(
        aws("apigateway").get_rest_api(restApiId=deployment.platform["api_id"])["policy"].replace('\\"', '"')
    )
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    account = deployment.platform["kms_key_arn"].split(":")[4]
    deny = by_sid["NoOtherAccounts"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"StringNotEquals": {"aws:PrincipalAccount": account}}
    assert deny["Resource"] == "execute-api:/*" and "NotResource" not in deny  # no route is open any more
    assert "CallersThatSignTheirOwnWay" not in by_sid
    assert by_sid["CallersOfTheseAccounts"]["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}


def test_stripes_webhook_is_the_webhook_functions_own_url_open_to_anyone_through_it_alone(
    deployment: Deployment,
) -> None:
    lambdas, name = aws("lambda"), WEBHOOK_URL.function
    config = lambdas.get_function_url_config(FunctionName=name, Qualifier=WEBHOOK_URL.qualifier)
    assert (config["AuthType"], config["InvokeMode"]) == ("NONE", "BUFFERED") and not config.get("Cors")
    shown = run_terraform(["output", "-json", "stripe_webhook_endpoint"], deployment.root("finalizer"))
    endpoint = json.loads(shown.stdout)
    assert endpoint == config["FunctionUrl"].rstrip("/") + WEBHOOK_URL.path  # what an operator registers at Stripe
    # Its only bound: the function's reserved concurrency.
    assert lambdas.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 200
    policy = lambdas.get_policy(FunctionName=name, Qualifier=WEBHOOK_URL.qualifier)["Policy"]
    statements = json.loads(policy)["Statement"]
    # One statement on AWS (the module's, under the id the provider's own would take); moto appends the provider's too.
    urls = [s for s in statements if s["Action"] == "lambda:InvokeFunctionUrl"]
    assert urls and {s["Sid"] for s in urls} == {"FunctionURLAllowPublicAccess"}
    for url in urls:
        assert url["Principal"] in ("*", {"AWS": "*"}) and url["Resource"].endswith(f"function:{name}:live")
        # AddPermission's FunctionUrlAuthType as moto records it (AWS: Condition StringEquals on it).
        condition = url.get("Condition", {}).get("StringEquals", {}).get("lambda:FunctionUrlAuthType")
        assert url.get("FunctionUrlAuthType", condition) == "NONE"
    assert not [s for s in statements if s["Action"] == "lambda:InvokeFunction" and "Condition" not in s]
    (alarm,) = aws("cloudwatch").describe_alarms(AlarmNames=[f"{name}-url-5xx-rate"])["MetricAlarms"]
    queried = [q["MetricStat"]["Metric"] for q in alarm["Metrics"] if "MetricStat" in q]
    assert {m["MetricName"] for m in queried} == {"Url5xxCount", "UrlRequestCount"}
    dimensions = {"FunctionName": name, "Resource": f"{name}:live"}
    assert all({d["Name"]: d["Value"] for d in m["Dimensions"]} == dimensions for m in queried)


def test_aws_metrics_stream_to_dynatrace_and_every_firehose_logs_its_delivery_errors(deployment: Deployment) -> None:
    stream = aws("cloudwatch").get_metric_stream(Name=deployment.platform["metric_stream_name"])
    assert stream["OutputFormat"] == "opentelemetry1.0" and stream["State"] == "running"
    namespaces = {f["Namespace"] for f in stream["IncludeFilters"]}
    assert namespaces == {
        "AWS/Lambda",
        "AWS/ApiGateway",
        "AWS/Events",
        "AWS/DynamoDB",
        "AWS/SQS",
        "AWS/Firehose",
        "Payments",
    }
    (statistics,) = stream["StatisticsConfigurations"]
    assert set(statistics["AdditionalStatistics"]) == {"p50", "p90", "p95", "p99"}
    percentiles = {f"{m['Namespace']}/{m['MetricName']}" for m in statistics["IncludeMetrics"]}
    assert {"AWS/Lambda/Duration", "AWS/ApiGateway/Latency", "AWS/DynamoDB/SuccessfulRequestLatency"} <= percentiles
    firehose = aws("firehose")
    metrics_stream = stream["FirehoseArn"].rsplit("/", 1)[1]
    for name, endpoint in [
        (metrics_stream, "https://aws.cloud.dynatrace.com/metrics"),
        (deployment.platform["firehose_arn"].rsplit("/", 1)[1], None),
    ]:
        (destination,) = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"][
            "Destinations"
        ]
        http = destination["HttpEndpointDestinationDescription"]
        logging = http["CloudWatchLoggingOptions"]
        assert logging == {
            "Enabled": True,
            "LogGroupName": f"/aws/kinesisfirehose/{name}",
            "LogStreamName": "DestinationDelivery",
        }
        if endpoint:
            assert http["EndpointConfiguration"]["Url"] == endpoint
            attributes = {
                a["AttributeName"]: a["AttributeValue"] for a in http["RequestConfiguration"]["CommonAttributes"]
            }
            assert attributes["dt-url"].startswith("https://")
    role = aws("iam").get_role(RoleName=stream["RoleArn"].rsplit("/", 1)[1])["Role"]
    trust = iam_document(role["AssumeRolePolicyDocument"])
    assert trust["Statement"][0]["Principal"] == {"Service": "streams.metrics.cloudwatch.amazonaws.com"}


def invokes_the_alias(function_arn: str, function: str) -> bool:
    """A trigger invokes the function's `live` alias (moto reports the version the alias points to; Lambda
    reports the alias): never the unpublished $LATEST, which SnapStart does not snapshot."""
    alias = aws("lambda").get_alias(FunctionName=function, Name="live")
    base = functions()[function]["FunctionArn"]
    return function_arn in (alias["AliasArn"], f"{base}:{alias['FunctionVersion']}")


def test_every_function_is_invoked_through_a_published_alias_and_the_apis_start_from_snapshots(
    deployment: Deployment,
) -> None:
    lambdas = aws("lambda")
    for name in functions():
        alias = lambdas.get_alias(FunctionName=name, Name="live")
        versions = [v["Version"] for v in lambdas.list_versions_by_function(FunctionName=name)["Versions"]]
        assert alias["FunctionVersion"] == max((v for v in versions if v != "$LATEST"), key=int), name
        snap_start = lambdas.get_function(FunctionName=name, Qualifier="live")["Configuration"]["SnapStart"]
        expected = "PublishedVersions" if name.endswith("-api") else "None"
        assert snap_start["ApplyOn"] == expected, (name, snap_start)
        assert (snap_start["OptimizationStatus"] == "On") == name.endswith("-api"), (name, snap_start)
    # One invoke permission per route, its source ARN naming the stage and that route (path parameters as *).
    permitted: dict[str, list[str]] = {}
    for route in api_routes():
        permitted.setdefault(route.function, []).append(route.method + re.sub(r"\{[^}]+\}", "*", route.path))
    assert permitted["initializer-api"][:2] == ["POST/payments", "GET/payments/*"]
    for api, routes in permitted.items():
        statements = json.loads(lambdas.get_policy(FunctionName=api, Qualifier="live")["Policy"])["Statement"]
        assert all(s["Principal"] == {"Service": "apigateway.amazonaws.com"} for s in statements), api
        assert all(s["Resource"].endswith(f"function:{api}:live") for s in statements), api
        source_arns = sorted(s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in statements)
        assert source_arns == sorted(f"{deployment.platform['api_execution_arn']}/prod/{r}" for r in routes), api


# Actions IAM authorizes on no resource (Resource "*" is their only form): listed in Lambda's stream permissions.
WITHOUT_RESOURCE = {"dynamodb:ListStreams"}


def out_of_scope(policy: dict[str, Any], allowed: set[str]) -> list[str]:
    """Statements granting a wildcard action or reaching a resource the function's root does not own."""
    problems = []
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        problems += [f"{statement['Sid']}: action {a}" for a in actions if "*" in a]
        if set(actions) <= WITHOUT_RESOURCE and resources == ["*"]:
            continue
        # A table's index is the table's own (an index ARN is the table's ARN + /index/<name>).
        owned = [r.removesuffix(":*").split("/index/")[0] for r in resources]
        problems += [
            f"{statement['Sid']}: resource {r}" for r, o in zip(resources, owned, strict=True) if o not in allowed
        ]
    return problems


def granted_on(policy: dict[str, Any], arn: str | None) -> set[str]:
    """The actions a policy allows on one resource (on any, for None)."""
    granted: set[str] = set()
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if statement.get("Effect", "Allow") == "Allow" and (arn is None or arn in resources):
            granted |= set(actions)
    return granted


def test_card_data_key_opens_for_the_finalizer_role_alone_and_only_for_card_data(deployment: Deployment) -> None:
    kms = aws("kms")
    policy = json.loads(
        kms.get_key_policy(KeyId=deployment.platform["card_data_key_arn"], PolicyName="default")["Policy"]
    )
    denies = {s["Sid"]: s for s in policy["Statement"] if s["Effect"] == "Deny"}
    account = deployment.platform["card_data_key_arn"].split(":")[4]
    opener = denies["OnlyTheFinalizerOpensCardData"]
    assert "kms:Decrypt" in opener["Action"]
    assert opener["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{account}:role/finalizer-role"}}
    sealer = denies["OnlyTheInitializerSealsCardData"]
    assert sealer["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{account}:role/initializer-api-role"}
    }
    assert denies["CardDataContextOnly"]["Condition"] == {
        "StringNotEquals": {"kms:EncryptionContext:purpose": "payments-card-data"}
    }
    assert denies["CardDataPerOrderOnly"]["Condition"] == {"Null": {"kms:EncryptionContext:payment_order_id": "true"}}
    # The roles these conditions name are the functions' real roles.
    roles = {f["FunctionName"]: f["Role"] for f in functions().values()}
    assert roles["finalizer"] == f"arn:aws:iam::{account}:role/finalizer-role"
    assert roles["initializer-api"] == f"arn:aws:iam::{account}:role/initializer-api-role"


def managed_policy(arn: str) -> dict[str, Any]:
    iam = aws("iam")
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return iam_document(iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"])


def test_each_merchant_role_invokes_merchant_routes_only_and_maps_to_its_merchant(deployment: Deployment) -> None:
    iam, execution_arn = aws("iam"), deployment.platform["api_execution_arn"]
    merchant = managed_policy(deployment.platform["merchant_api_policy_arn"])
    operator = managed_policy(deployment.platform["operator_api_policy_arn"])

    def routes(document: dict[str, Any]) -> set[str]:
        [statement] = document["Statement"]
        assert statement["Action"] in ("execute-api:Invoke", ["execute-api:Invoke"])
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        return {r.removeprefix(f"{execution_arn}/*/") for r in resources}

    webhooks = {
        "POST/webhook_endpoints",
        "GET/webhook_endpoints",
        "GET/webhook_endpoints/*",
        "DELETE/webhook_endpoints/*",
        "POST/webhook_endpoints/*/rotate_secret",
        "GET/events",
        "GET/events/*",
        "POST/events/*/redeliver",
    }
    assert routes(merchant) == {"POST/payments", "GET/payments/*", "GET/wallets/*", *webhooks}  # never the books
    assert routes(operator) == {"GET/ledger/trial-balance", "GET/payments/*", "GET/wallets/*", *webhooks}
    account = deployment.platform["kms_key_arn"].split(":")[4]
    table = deployment.platform["principals_table_name"]
    for merchant_id, trusted in MERCHANTS.items():
        role = f"payments-merchant-{merchant_id}"
        attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        assert [p["PolicyArn"] for p in attached] == [deployment.platform["merchant_api_policy_arn"]]
        trust = iam_document(iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"])
        assert trust["Statement"][0]["Principal"]["AWS"] == trusted
        item = aws("dynamodb").get_item(
            TableName=table, Key={"principal_arn": {"S": f"arn:aws:sts::{account}:assumed-role/{role}"}}
        )["Item"]
        assert (item["role"]["S"], item["merchant_id"]["S"]) == ("merchant", merchant_id)
    operator_item = aws("dynamodb").get_item(
        TableName=table, Key={"principal_arn": {"S": f"arn:aws:sts::{account}:assumed-role/payments-operator"}}
    )["Item"]
    assert operator_item["role"]["S"] == "operator" and "merchant_id" not in operator_item


def test_the_finalizer_is_configured_for_stripe_with_its_key_in_ssm(deployment: Deployment) -> None:
    environment = functions()["finalizer"]["Environment"]["Variables"]
    assert environment["PSP_API_BASE"] == "https://api.stripe.com"
    parameter = aws("ssm").get_parameter(Name=environment["PSP_API_KEY_PARAMETER"])["Parameter"]
    assert parameter["Type"] == "SecureString"
    assert not any("sk_" in value for value in environment.values())  # the key itself is never in the environment


def test_the_ledger_and_the_wallet_read_one_fee_rule(deployment: Deployment) -> None:
    """Both roots set the fee environment from contracts/fees.json: the wallet nets what the ledger books."""
    fees = json.loads(Path("contracts/fees.json").read_text())
    deployed = functions()
    for name in ("ledger", "wallet"):
        environment = deployed[name]["Environment"]["Variables"]
        assert int(environment["FEE_BASIS_POINTS"]) == fees["basis_points"], name
        assert json.loads(environment["FEE_FIXED_MINOR"]) == fees["fixed_minor"], name


def role_policies() -> dict[str, dict[str, Any]]:
    """Each function's inline policies (its own, and the queue consumer's), as one document."""
    iam = aws("iam")
    policies: dict[str, dict[str, Any]] = {}
    for function in functions().values():
        role = function["Role"].rsplit("/", 1)[1]
        documents = [
            iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
        ]
        policies[function["FunctionName"]] = {"Statement": [s for d in documents for s in d["Statement"]]}
    return policies


def test_each_function_reaches_only_its_own_tables_keys_bus_and_log_group(deployment: Deployment) -> None:
    platform_shared = {deployment.platform["kms_key_arn"], deployment.platform["bus_arn"]}
    card_key, principals = deployment.platform["card_data_key_arn"], deployment.platform["principals_table_arn"]
    owned = {service: deployment.state_arns(service) for service in SERVICES}
    policies = role_policies()
    for name, policy in policies.items():
        service = name.split("-")[0]
        region, account = deployment.platform["kms_key_arn"].split(":")[3:5]
        own_log_group = f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{name}"
        # The card data key: the initializer's API seals with it, the finalizer opens with it; no one else.
        card_use = {"initializer-api": {"kms:Encrypt"}, "finalizer": {"kms:Decrypt"}}.get(name, set())
        assert granted_on(policy, card_key) == card_use, name
        # The principals directory: read (one item at a time) by the HTTP entry points alone.
        assert granted_on(policy, principals) == ({"dynamodb:GetItem"} if name.endswith("-api") else set()), name
        allowed = owned[service] | platform_shared | {own_log_group, card_key, principals}
        assert out_of_scope(policy, allowed) == [], name
        # Stripe's secret key: the functions that call Stripe read exactly its parameter, the webhook's also
        # its endpoint secret; other tokens are injected at deploy.
        parameter = f"arn:aws:ssm:{region}:{account}:parameter/payments/finalizer/stripe-secret-key"
        webhook_secret = f"arn:aws:ssm:{region}:{account}:parameter/payments/finalizer/stripe-webhook-secret"
        reads = (
            {"ssm:GetParameter"}
            if name in ("finalizer", "finalizer-refund", "finalizer-capture", "finalizer-webhook", "finalizer-sweep")
            else set()
        )
        assert granted_on(policy, parameter) == reads, name
        webhook_reads = {"ssm:GetParameter"} if name == "finalizer-webhook" else set()
        assert granted_on(policy, webhook_secret) == webhook_reads, name
        assert {a for a in granted_on(policy, None) if a.startswith(("ssm:", "secretsmanager:"))} == reads, name
    # The check bites: the ledger's policy is out of scope for the wallet.
    foreign = owned["wallet"] | platform_shared
    assert out_of_scope(policies["ledger"], foreign)


def test_the_iam_check_evaluates_the_policies_this_apply_rendered(deployment: Deployment) -> None:
    """infra/iam/policies.json (what the local and fault runs' calls are checked against) is this apply's.

    Regenerate after a Terraform change:
    IAM_POLICIES_WRITE=$PWD/infra/iam/policies.json ./pants test tests/infra/test_apply_on_moto.py
    """
    rendered = render()
    assert set(rendered["functions"]) == set(functions())
    written = os.environ.get("IAM_POLICIES_WRITE")
    if written:
        Path(written).write_text(json.dumps(rendered, indent=2, sort_keys=True) + "\n")
    committed = json.loads(POLICIES_FILE.read_text()) if POLICIES_FILE.exists() else None
    what_now = "rewritten, commit it" if written else "regenerate it (see this test's docstring)"
    assert committed == rendered, f"{POLICIES_FILE} is not what Terraform renders: {what_now}"


def test_every_alarm_notifies_the_environments_topic(deployment: Deployment) -> None:
    topic = deployment.platform["alarm_topic_arn"]
    attributes = aws("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes["KmsMasterKeyId"] == deployment.platform["kms_key_arn"]
    pages = aws("cloudwatch").get_paginator("describe_alarms").paginate()
    alarms = {a["AlarmName"]: a for page in pages for a in page["MetricAlarms"]}
    assert {name for name, alarm in alarms.items() if alarm["AlarmActions"] != [topic]} == set()
    consumers = [c.name for c in resources.SUBSCRIPTIONS]
    tables = [
        t
        for service in SERVICES
        for t in json.loads(run_terraform(["output", "-json", "tables"], deployment.root(service)).stdout)
    ]
    expected = {
        "payments-api-5xx-rate",
        "payments-api-p99-latency",
        "payments-logs-to-dynatrace-delivery",
        "payments-metrics-to-dynatrace-delivery",
        "finalizer-sweep-not-running",
        "finalizer-webhook-url-5xx-rate",  # Stripe's webhook URL answering 5xx
        "payments-time-to-final-status",
        "notifier-deliveries-dlq-depth",  # webhook deliveries parked after every retry
        "notifier-deliveries-age",
        *(f"{c}-{kind}" for c in consumers for kind in ("dlq-depth", "dlq-age", "inbox-age")),
        *(f"{t}-{op}-throttles" for t in tables for op in ("read", "write")),
        *(f"{f}-{kind}" for f in functions() for kind in ("errors", "throttles", "p99-duration")),
    }
    assert expected <= set(alarms), sorted(expected - set(alarms))
    rate = alarms["payments-api-5xx-rate"]
    queried = {q["Id"]: q["MetricStat"]["Metric"] for q in rate["Metrics"] if "MetricStat" in q}
    assert {m["MetricName"] for m in queried.values()} == {"5XXError", "Count"}
    assert all(
        {d["Name"]: d["Value"] for d in m["Dimensions"]} == {"ApiName": "payments", "Stage": "prod"}
        for m in queried.values()
    )


def test_destroy_removes_every_service_then_the_platform(deployment: Deployment) -> None:
    started = time.perf_counter()
    with ThreadPoolExecutor(len(SERVICES)) as pool:
        list(pool.map(lambda name: deployment.terraform(name, "destroy"), SERVICES))
    deployment.seconds["destroy services (side by side)"] = time.perf_counter() - started
    deployment.terraform("platform", "destroy")
    assert aws("lambda").list_functions()["Functions"] == []
    assert aws("dynamodb").list_tables()["TableNames"] == []
    assert aws("sqs").list_queues().get("QueueUrls", []) == []
    assert [b["Name"] for b in aws("events").list_event_buses()["EventBuses"]] == ["default"]
    print("\nterraform on moto, seconds:")
    for step, seconds in deployment.seconds.items():
        print(f"  {step:<34} {seconds:6.1f}")
