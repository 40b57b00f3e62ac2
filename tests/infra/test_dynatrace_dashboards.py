"""The Dynatrace dashboards (infra/dynatrace/*.json, the seed's five views) use only metrics AWS publishes
or our services emit, span fields our code or Dynatrace's span model provides, and our function names."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

DASHBOARDS = sorted(Path("infra/dynatrace").glob("*.json"))
VIEWS = {"overview", "cold_starts", "requests_vs_invocations", "lambda_execution", "top_errors"}

# What AWS publishes, per namespace, as the CloudWatch metric streams / Dynatrace AWS connector name it
# (`cloud.aws.<namespace>.<metric in snake case>_<statistic>`). Source: the AWS user guides' metric tables
# (API Gateway HTTP APIs "Monitor", Lambda "Types of metrics", EventBridge, DynamoDB, SQS "Available
# CloudWatch metrics"); only the namespaces this system uses.
AWS_PUBLISHED = {
    "api_gateway": {"Count", "4xx", "5xx", "Latency", "IntegrationLatency", "DataProcessed"},
    "lambda": {
        "Invocations",
        "Errors",
        "Throttles",
        "Duration",
        "ConcurrentExecutions",
        "DeadLetterErrors",
        "DestinationDeliveryFailures",
        "IteratorAge",
        "UnreservedConcurrentExecutions",
    },
    "events": {
        "Invocations",
        "FailedInvocations",
        "MatchedEvents",
        "TriggeredRules",
        "ThrottledRules",
        "PutEventsLatency",
        "PutEventsRequestSize",
        "InvocationsSentToDlq",
        "InvocationsFailedToBeSentToDlq",
    },
    "dynamodb": {
        "ConsumedReadCapacityUnits",
        "ConsumedWriteCapacityUnits",
        "ThrottledRequests",
        "SuccessfulRequestLatency",
        "SystemErrors",
        "UserErrors",
        "TransactionConflict",
        "ConditionalCheckFailedRequests",
        "ReturnedRecordsCount",
    },
    "sqs": {
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "NumberOfMessagesSent",
        "NumberOfMessagesReceived",
        "NumberOfMessagesDeleted",
    },
}
CUSTOM_NAMESPACE = "payments"  # POWERTOOLS_METRICS_NAMESPACE=Payments (EMF)
STATISTIC = re.compile(r"_(sum|avg|min|max|count|p\d{2})$")
# Fields of Dynatrace's span model (Grail `fetch spans`), beside the attributes our code sets.
SPAN_MODEL = {"span.kind", "span.name", "span.status_code", "span.status_message", "trace.id"}


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def emitted_metric_names() -> set[str]:
    """Names passed to Powertools add_metric/single_metric anywhere in the code (constants, conditional
    constants, or a local variable assigned constants), plus Powertools' own ColdStart metric."""
    names: set[str] = set()
    sources = [*Path("services").glob("*/src/**/*.py"), *Path("shared/src").glob("**/*.py")]
    for path in sources:
        tree = ast.parse(path.read_text())
        assigned = {
            target.id: node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            if getattr(call.func, "attr", getattr(call.func, "id", None)) not in ("add_metric", "single_metric"):
                continue
            for keyword in (k for k in call.keywords if k.arg == "name"):
                value = keyword.value
                if isinstance(value, ast.Name):  # e.g. name=outcome, with outcome = "A" if ... else "B"
                    value = assigned.get(value.id, value)
                names |= {c.value for c in ast.walk(value) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
        if "capture_cold_start_metric=True" in path.read_text():
            names.add("ColdStart")
    return names


def span_attributes_set_by_code() -> set[str]:
    sources = [*Path("shared/src").glob("**/*.py"), *Path("services").glob("*/src/**/*.py")]
    text = "\n".join(p.read_text() for p in sources)
    return set(re.findall(r'"((?:faas|http|messaging|rpc|peer|server)\.[a-z_.]+)"', text))


def deployed_function_names() -> set[str]:
    text = "\n".join(p.read_text() for p in Path("infra/terraform/services").glob("*/main.tf"))
    return set(re.findall(r'"([a-z-]+)" = \{\s*\n\s*handler\s*=', text))


def unknown_metric_keys(query: str, emitted: set[str]) -> list[str]:
    unknown = []
    for namespace, metric_and_stat in re.findall(r"cloud\.aws\.([a-z_]+)\.([a-z0-9_]+)", query):
        metric = STATISTIC.sub("", metric_and_stat)
        known = emitted if namespace == CUSTOM_NAMESPACE else AWS_PUBLISHED.get(namespace, set())
        if metric == metric_and_stat or metric not in {snake(name) for name in known}:
            unknown.append(f"cloud.aws.{namespace}.{metric_and_stat}")
    return unknown


def queries(path: Path) -> list[str]:
    return [t["query"] for t in json.loads(path.read_text())["tiles"].values() if t["type"] == "data"]


def test_the_five_views_are_there_and_every_tile_is_laid_out() -> None:
    assert {p.stem for p in DASHBOARDS} == VIEWS
    for path in DASHBOARDS:
        document = json.loads(path.read_text())
        assert document["tiles"] and set(document["tiles"]) == set(document["layouts"]), path.name


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.stem for p in DASHBOARDS])
def test_every_metric_key_is_published_by_aws_or_emitted_by_a_service(path: Path) -> None:
    emitted = emitted_metric_names()
    keys = [key for query in queries(path) for key in re.findall(r"cloud\.aws\.[a-z0-9_.]+", query)]
    fetches = [query for query in queries(path) if query.startswith("fetch ")]
    assert keys or fetches, f"{path.name} queries nothing"
    assert [u for query in queries(path) for u in unknown_metric_keys(query, emitted)] == []


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.stem for p in DASHBOARDS])
def test_span_fields_and_function_names_exist(path: Path) -> None:
    known_fields = span_attributes_set_by_code() | SPAN_MODEL
    functions = deployed_function_names()
    document = json.loads(path.read_text())
    for query in queries(path):
        if query.startswith("fetch spans"):
            used = set(re.findall(r"\b((?:faas|http|span|trace)\.[a-z_.]+[a-z])\b", query))
            assert used - known_fields == set(), query
        named = set(re.findall(r'(?:functionname|faas\.name) == "([^"]+)"', query))
        assert named <= functions, named - functions
    for variable in document["variables"]:
        if variable["key"] == "Function":
            assert set(variable["input"].split(",")) == functions


def test_the_checks_reject_what_nobody_publishes() -> None:
    emitted = emitted_metric_names()
    assert {"PaymentsInitiated", "PaymentsRejected", "PaymentsSucceeded", "ColdStart"} <= emitted
    assert unknown_metric_keys("sum(cloud.aws.lambda.invocationz_sum)", emitted) == ["cloud.aws.lambda.invocationz_sum"]
    assert unknown_metric_keys("sum(cloud.aws.payments.refunds_sum)", emitted) == ["cloud.aws.payments.refunds_sum"]
    assert unknown_metric_keys("sum(cloud.aws.lambda.invocations)", emitted) == ["cloud.aws.lambda.invocations"]
    assert unknown_metric_keys("sum(cloud.aws.lambda.invocations_sum)", emitted) == []
    assert "faas.coldstart" in span_attributes_set_by_code()
    assert len(deployed_function_names()) == 12
