"""The Dynatrace dashboards (infra/dynatrace/*.json, the seed's five views) and SLOs (infra/dynatrace/slo_*.json)
read only what reaches Dynatrace: AWS metrics the CloudWatch metric stream sends (namespaces, metric names,
statistics and dimensions AWS publishes), logs Firehose ships (their `aws.log_group`, `content`, and the keys
our log lines and the API access log write), spans the OneAgent layer records, Davis problems of entities the
Terraform tags. And each tile shows what it promises (requests vs invocations, normalized top errors)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

DASHBOARDS = sorted(p for p in Path("infra/dynatrace").glob("*.json") if not p.name.startswith("slo_"))
SLOS = sorted(Path("infra/dynatrace").glob("slo_*.json"))
VIEWS = {"overview", "cold_starts", "requests_vs_invocations", "lambda_execution", "top_errors"}

# What AWS publishes in the namespaces the metric stream sends, named `cloud.aws.<namespace>.<metric in snake
# case>_<statistic>`. Source: the AWS user guides' metric tables (API Gateway REST APIs "Amazon API Gateway
# dimensions and metrics", Lambda "Types of metrics", EventBridge, DynamoDB, SQS, Firehose). The `Payments`
# namespace (our EMF) is streamed too; the tiles read it from the log lines that carry it, with its dimensions.
AWS_PUBLISHED = {
    "api_gateway": {
        "Count",
        "4XXError",
        "5XXError",
        "Latency",
        "IntegrationLatency",
        "CacheHitCount",
        "CacheMissCount",
    },
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
        # A function URL's (docs.aws.amazon.com/lambda/latest/dg/urls-monitoring.html): Stripe's webhook.
        "UrlRequestCount",
        "Url4xxCount",
        "Url5xxCount",
        "UrlRequestLatency",
    },
    "events": {
        "Invocations",
        "FailedInvocations",
        "SuccessfulInvocationAttempts",
        "InvocationAttempts",
        "RetryInvocationAttempts",
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
    "firehose": {"IncomingRecords", "IncomingBytes", "ThrottledRecords"},
}
# The dimensions each namespace's metrics carry (lower-cased, as the metric stream ingest names them). A REST
# API's are ApiName and Stage, with Resource and Method for detailed metrics; there is no ApiId.
DIMENSIONS = {
    "api_gateway": {"apiname", "stage", "resource", "method"},
    "lambda": {"functionname", "resource", "executedversion"},
    "events": {"eventbusname", "rulename"},
    "dynamodb": {"tablename", "operation", "globalsecondaryindexname"},
    "sqs": {"queuename"},
    "firehose": {"deliverystreamname"},
}
# A metric stream sends Min, Max, Sum and SampleCount, plus the additional statistics it is configured with.
STATISTIC = re.compile(r"_(sum|min|max|count|p50|p90|p95|p99)$")
# Fields of Dynatrace's span model (Grail `fetch spans`), beside the attributes our code sets.
SPAN_MODEL = {"span.kind", "span.name", "span.status_code", "span.status_message", "trace.id"}
# What a Firehose-shipped log record has: the line itself and the log group/stream Dynatrace's Firehose ingest sets.
LOG_RECORD = {"content", "timestamp", "aws.log_group", "aws.log_stream"}
# The API access log's JSON keys (the REST stage's access_log_settings format).
ACCESS_LOG = {
    "requestId",
    "ip",
    "caller",
    "httpMethod",
    "resourcePath",
    "status",
    "protocol",
    "responseLength",
    "latency",
    "integrationLatency",
    "integrationStatus",
    "errorMessage",
    "errorType",
}
ACCESS_LOG_GROUP = "/aws/apigateway/payments-access"
EXECUTION_LOG_PREFIX = "API-Gateway-Execution-Logs_"
# Keys of our functions' JSON lines: Powertools Logger's (with the injected Lambda context), our formatter's
# trace ids, and an EMF line's `_aws` with its dimensions (service, function_name on ColdStart).
FUNCTION_LOG = {
    "level",
    "message",
    "service",
    "timestamp",
    "location",
    "cold_start",
    "function_name",
    "function_request_id",
    "trace_id",
    "span_id",
    "_aws",
}
API_NAME, API_STAGE = "payments", "prod"


def snake(name: str) -> str:
    """CloudWatch name → metric key part: `PutEventsLatency` → put_events_latency, `4XXError` → 4xx_error."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


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


def emf_metadata_keys() -> set[str]:
    """Keys Powertools add_metadata(key=...) writes at the top of an EMF line (not dimensions: no metric each)."""
    sources = [*Path("services").glob("*/src/**/*.py"), *Path("shared/src").glob("**/*.py")]
    text = "\n".join(p.read_text() for p in sources)
    return set(re.findall(r'add_metadata\(key="(\w+)"', text))


def span_attributes_set_by_code() -> set[str]:
    sources = [*Path("shared/src").glob("**/*.py"), *Path("services").glob("*/src/**/*.py")]
    text = "\n".join(p.read_text() for p in sources)
    return set(re.findall(r'"((?:faas|http|messaging|rpc|peer|server)\.[a-z_.]+)"', text))


def service_roots() -> str:
    return "\n".join(p.read_text() for p in Path("infra/terraform/services").glob("*/main.tf"))


def deployed_function_names() -> set[str]:
    return set(re.findall(r'"([a-z-]+)" = \{\s*\n\s*handler\s*=', service_roots()))


def api_function_names() -> set[str]:
    """The functions the API integrates: the routes file the REST API is built from."""
    return {route["function"] for route in json.loads(Path("contracts/api_routes.json").read_text())["routes"]}


def terraform_tags() -> set[str]:
    """`key:value` tags the roots' default_tags set (component is the service's name in the service roots)."""
    roots = [Path("infra/terraform/platform/main.tf"), Path("infra/terraform/services/root_common.tf")]
    tags = set()
    for text in (p.read_text() for p in roots):
        for block in re.findall(r"default_tags\s*\{\s*tags\s*=\s*\{([^}]*)\}", text):
            for key, value in re.findall(r'(\w+)\s*=\s*"([^"]+)"', block):
                tags.add(f"{key}:{value}")
            if "component = local.service" in block:
                tags |= {f"component:{p.name}" for p in Path("infra/terraform/services").iterdir() if p.is_dir()}
    return tags


def unknown_metric_keys(query: str) -> list[str]:
    unknown = []
    for namespace, metric_and_stat in re.findall(r"cloud\.aws\.([a-z_]+)\.([a-z0-9_]+)", query):
        metric = STATISTIC.sub("", metric_and_stat)
        published = emitted_metric_names() if namespace == "payments" else AWS_PUBLISHED.get(namespace, set())
        known = {snake(name) for name in published}
        if metric == metric_and_stat or metric not in known:
            unknown.append(f"cloud.aws.{namespace}.{metric_and_stat}")
    return unknown


def commands(query: str) -> list[str]:
    """The query's `timeseries`/`fetch` commands with their pipes, comments dropped, subqueries apart (they
    open with `[ ` and close with ` ]`; `x[]` and `x[key]` have no spaces)."""
    query = re.sub(r"//[^\n]*", "", query)
    return [c.strip() for c in re.split(r"\[\s|\s\]", query) if re.match(r"\s*(timeseries|fetch)\b", c)]


def unknown_dimensions(query: str) -> list[str]:
    """Fields a `timeseries` groups or filters by (or post-filters on) that its metrics' namespaces lack."""
    unknown = []
    for command in (c for c in commands(query) if c.startswith("timeseries")):
        namespaces = set(re.findall(r"cloud\.aws\.([a-z_]+)\.", command))
        allowed = set().union(*(DIMENSIONS.get(n, set()) for n in namespaces))
        clauses = re.findall(r"(?:by|filter):\s*\{([^}]*)\}", command) + re.findall(r"\|\s*filter ([^\n|]*)", command)
        for clause in clauses:
            clause = re.sub(r'"[^"]*"|\$\w+|`[^`]*`', "", clause)
            words = set(re.findall(r"\b([a-z_]+)\b(?!\s*\()", clause)) - {"and", "or", "not", "true", "false"}
            unknown += sorted(words - allowed)
    return unknown


def unknown_log_fields(query: str, emitted: set[str]) -> list[str]:
    """Top-level fields of a `fetch logs` beyond a Firehose record's, and parsed JSON keys no producer writes:
    `access` is the API access log, `emf` a function's EMF line, `j` either kind of line."""
    unknown = []
    for command in (c for c in commands(query) if c.startswith("fetch logs")):
        text = re.sub(r'"[^"]*"', '""', command)
        unknown += sorted(set(re.findall(r"\b(aws\.[a-z_.]+|log\.[a-z_.]+|loglevel|dt\.[a-z_.]+)", text)) - LOG_RECORD)
        emf = FUNCTION_LOG | emitted | emf_metadata_keys()
        keys = {"access": ACCESS_LOG, "emf": emf, "j": ACCESS_LOG | FUNCTION_LOG}
        for alias, key in re.findall(r"\b(\w+)\[(\w+)\]", text):
            if key not in keys.get(alias, set()):
                unknown.append(f"{alias}[{key}]")
    return unknown


def unknown_log_groups(query: str) -> list[str]:
    functions = deployed_function_names()
    known = {ACCESS_LOG_GROUP} | {f"/aws/lambda/{f}" for f in functions}
    prefixes = {"/aws/lambda/", EXECUTION_LOG_PREFIX} | {f"/aws/lambda/{f.split('-')[0]}" for f in functions}
    named = re.findall(r'aws\.log_group == "([^"]+)"', query)
    named += [
        g
        for array in re.findall(r"in\(aws\.log_group, array\(([^)]*)\)", query)
        for g in re.findall(r'"([^"]+)"', array)
    ]
    started = re.findall(r'startsWith\(aws\.log_group, "([^"]+)"\)', query)
    return [g for g in named if g not in known] + [p for p in started if p not in prefixes]


def tiles(path: Path) -> list[dict[str, str]]:
    return [t for t in json.loads(path.read_text())["tiles"].values() if t["type"] == "data"]


def queries(path: Path) -> list[str]:
    return [t["query"] for t in tiles(path)]


def slo_queries() -> dict[str, str]:
    return {p.stem: json.loads(p.read_text())["slo"]["customSli"]["indicator"] for p in SLOS}


def all_queries() -> list[str]:
    return [q for p in DASHBOARDS for q in queries(p)] + list(slo_queries().values())


def test_the_five_views_are_there_and_every_tile_is_laid_out() -> None:
    assert {p.stem for p in DASHBOARDS} == VIEWS
    for path in DASHBOARDS:
        document = json.loads(path.read_text())
        assert document["tiles"] and set(document["tiles"]) == set(document["layouts"]), path.name


@pytest.mark.parametrize("path", [*DASHBOARDS, *SLOS], ids=[p.stem for p in [*DASHBOARDS, *SLOS]])
def test_every_query_reads_only_what_reaches_dynatrace(path: Path) -> None:
    emitted = emitted_metric_names()
    found = queries(path) if path in DASHBOARDS else [json.loads(path.read_text())["slo"]["customSli"]["indicator"]]
    assert found, f"{path.name} queries nothing"
    for query in found:
        assert unknown_metric_keys(query) == [], query
        assert unknown_dimensions(query) == [], query
        assert unknown_log_fields(query, emitted) == [], query
        assert unknown_log_groups(query) == [], query


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.stem for p in DASHBOARDS])
def test_span_fields_and_function_names_exist(path: Path) -> None:
    known_fields = span_attributes_set_by_code() | SPAN_MODEL
    functions = deployed_function_names()
    document = json.loads(path.read_text())
    for query in queries(path):
        for command in (c for c in commands(query) if c.startswith("fetch spans")):
            used = set(re.findall(r"\b((?:faas|http|span|trace)\.[a-z_.]+[a-z])\b", command))
            assert used - known_fields == set(), command
        named = set(re.findall(r'(?:functionname|faas\.name) == "([^"]+)"', query))
        assert named <= functions, named - functions
    for variable in document["variables"]:
        if variable["key"] == "Function":
            assert set(variable["input"].split(",")) == functions


def test_the_api_is_selected_by_name_and_stage_never_by_id() -> None:
    api_queries = [q for q in all_queries() if "cloud.aws.api_gateway." in q]
    assert api_queries
    for query in api_queries:
        assert "apiid" not in query and "$ApiId" not in query, query
        assert f'apiname == "{API_NAME}" and stage == "{API_STAGE}"' in query, query
    for path in DASHBOARDS:
        assert all(v["key"] != "ApiId" for v in json.loads(path.read_text())["variables"]), path.name


def test_an_api_wide_series_excludes_the_per_resource_ones_it_would_double() -> None:
    # Detailed metrics publish Count per (ApiName, Stage) and per (…, Resource, Method); Lambda per FunctionName
    # and per (FunctionName, Resource=alias): summing every series counts each request/invocation twice.
    for query in all_queries():
        for command in (c for c in commands(query) if c.startswith("timeseries")):
            if "cloud.aws.api_gateway." in command and not re.search(r'resource == "', command):
                assert "isNull(resource) and isNull(method)" in command, command
            if "cloud.aws.lambda." in command:
                assert "by: {functionname, resource}" in command or "by: {resource}" in command, command
                # FunctionName alone, or one Resource (a function URL's alias: Url* metrics) — never both summed.
                assert "isNull(resource)" in command or re.search(r'resource == "', command), command


def test_davis_problem_tiles_select_entities_by_the_tags_terraform_sets() -> None:
    overview = json.loads(Path("infra/dynatrace/overview.json").read_text())["tiles"]
    davis = [t["query"] for t in overview.values() if t["type"] == "data" and "dt.davis.problems" in t["query"]]
    assert len(davis) == 2
    tags = terraform_tags()
    assert {"system:payments", "component:platform", "component:initializer"} <= tags
    for query in davis:
        assert "matchesPhrase(affected_entity_ids" not in query  # entity ids are Dynatrace's, not AWS names
        [selector] = re.findall(r'classicEntitySelector\("([^"]+)"\)', query)
        used = set(re.findall(r"tag\(([^)]+)\)", selector))
        assert "system:payments" in used and used <= tags, used - tags
    assert any("type(AWS_LAMBDA_FUNCTION)" in q for q in davis)


def test_requests_vs_invocations_compares_the_api_with_its_functions_invocations() -> None:
    # The gap the seed looks for (IAM 403s, throttling before any function) shows only if the two sides come
    # from different producers: API Gateway's count or access log against Lambda's own invocations.
    api_functions = api_function_names()
    # Stripe's webhook is the finalizer-webhook function's own URL (contracts/function_urls.json), not behind the API.
    assert api_functions == {"initializer-api", "wallet-api", "ledger-api", "notifier-api"}
    rest_api = Path("infra/terraform/modules/rest_api/main.tf").read_text()
    assert ACCESS_LOG_GROUP == f"/aws/apigateway/{API_NAME}-access"
    assert 'name              = "/aws/apigateway/${var.name}-access"' in rest_api
    logs, metrics, refused = queries(Path("infra/dynatrace/requests_vs_invocations.json"))
    assert "cloud.aws.api_gateway.count_sum" in metrics and "cloud.aws.lambda.invocations_sum" in metrics
    [named] = re.findall(r"in\(functionname, array\(([^)]*)\)\)", metrics)
    assert set(re.findall(r'"([^"]+)"', named)) == api_functions
    assert "gap = requests[] - invocations[]" in metrics
    # 1 m: each request from API Gateway's access log, each invocation from Lambda's own metric (the stream sends
    # it each minute); not from Lambda's REPORT lines, which the functions' system_log_level keeps out of the logs.
    assert f'aws.log_group == "{ACCESS_LOG_GROUP}"' in logs and "cloud.aws.lambda.invocations_sum" in logs
    assert "interval: 1m" in logs and "interval: 5m" in metrics
    [named] = re.findall(r"in\(functionname, array\(([^)]*)\)\)", logs)
    assert set(re.findall(r'"([^"]+)"', named)) == api_functions
    assert 'access[integrationStatus] == "-"' in refused and "access[errorType]" in refused
    for path in DASHBOARDS:  # no view compares traces with themselves any more
        for query in queries(path):
            assert not ("fetch spans" in query and "makeTimeseries" in query and "invocations" in query), query


def test_no_tile_reads_lambdas_platform_lines_the_functions_do_not_log() -> None:
    # modules/lambda_service logs JSON at system_log_level WARN: Lambda's START, END and REPORT lines (INFO) never
    # reach a log group, in either their text or their JSON form.
    variables = Path("infra/terraform/modules/lambda_service/variables.tf").read_text()
    assert re.search(r'variable "system_log_level" \{.*?default\s*=\s*"WARN"', variables, re.DOTALL)
    for path in DASHBOARDS:
        for query in queries(path):
            assert "REPORT RequestId" not in query and "platform.report" not in query and "START RequestId" not in query


def test_top_errors_group_by_a_normalized_message_and_include_api_gateway() -> None:
    spans, logs = queries(Path("infra/dynatrace/top_errors.json"))
    for query in (spans, logs):
        assert "by: {" in query and "error}" in query
        for pattern in ("'[!dt ' LD ']'", "UUIDSTRING", "[0-9a-fA-F]{16,}", "INT"):
            assert pattern in query, pattern
        # the grouping uses the normalized message, never the raw one
        assert "span.status_message}" not in query and "content}" not in query
    assert f'aws.log_group == "{ACCESS_LOG_GROUP}"' in logs and "status >= 400" in logs and "j[errorMessage]" in logs
    assert f'startsWith(aws.log_group, "{EXECUTION_LOG_PREFIX}")' in logs
    # numbers are normalized before the status is put in front: a 403 and a 503 stay two rows
    assert logs.index('replacePattern(error, "INT"') < logs.index("concat(toString(status)")


def test_the_webhooks_tiles_show_what_the_local_dashboards_panel_does() -> None:
    """tools/devstack's webhooks panel (delivered / retried / parked), deployed: the deliverer's EMF counts, the
    deliveries DLQ's depth, and the failing endpoints (EMF metadata, grouped per merchant and endpoint)."""
    webhooks = [t for t in tiles(Path("infra/dynatrace/lambda_execution.json")) if "ebhook" in t["title"]]
    text = "\n".join(t["query"] for t in webhooks)
    for name in ("WebhookDeliveriesDone", "WebhookDeliveriesRetried", "WebhookDeliveriesParked"):
        assert f"emf[{name}]" in text and name in emitted_metric_names(), name
    assert 'queuename == "notifier-deliveries-dlq"' in text
    [per_endpoint] = [t for t in webhooks if "WebhookEndpointFailures" in t["query"]]
    assert "by: {merchant_id = emf[merchant_id], endpoint_id = emf[endpoint_id]}" in per_endpoint["query"]
    assert {"merchant_id", "endpoint_id", "status"} <= emf_metadata_keys()


def test_the_seeds_missing_metrics_are_plotted() -> None:
    text = "\n".join(all_queries())
    assert "cloud.aws.events.successful_invocation_attempts_sum" in text
    assert "cloud.aws.dynamodb.successful_request_latency_" in text
    latency = next(
        q for q in queries(Path("infra/dynatrace/lambda_execution.json")) if "successful_request_latency" in q
    )
    assert "by: {tablename, operation}" in latency  # per table (and operation: GetItem and Query differ)


@pytest.mark.parametrize("path", SLOS, ids=[p.stem for p in SLOS])
def test_slos_have_targets_timeframes_and_fast_and_slow_burn_alerts(path: Path) -> None:
    document = json.loads(path.read_text())
    slo = document["slo"]
    assert slo["name"] and slo["description"] and "sli" in slo["customSli"]["indicator"]
    [criteria] = slo["criteria"]
    assert 0 < criteria["target"] < criteria["warning"] < 100
    days = int(re.fullmatch(r"now-(\d+)d", criteria["timeframeFrom"]).group(1))  # type: ignore[union-attr]
    assert criteria["timeframeTo"] == "now" and days >= 7
    fast, slow = sorted(document["burnRateAlerts"], key=lambda a: -a["burnRate"])
    assert fast["name"].endswith("fast burn") and slow["name"].endswith("slow burn")

    def hours(window: str) -> float:
        value, unit = int(window[:-1]), window[-1]
        return value / 60 if unit == "m" else float(value)

    assert hours(fast["window"]) < hours(slow["window"]) and fast["burnRate"] > slow["burnRate"] > 1
    for alert in (fast, slow):
        assert hours(alert["shortWindow"]) < hours(alert["window"])
        spent = alert["burnRate"] * hours(alert["window"]) / (days * 24)  # share of the budget gone when it fires
        assert 0.01 <= spent <= 0.1, (alert["name"], spent)


def test_the_three_slos_measure_what_they_are_named_for() -> None:
    sli = slo_queries()
    assert set(sli) == {"slo_post_payments_availability", "slo_post_payments_latency_p95", "slo_time_to_final_status"}
    post = 'resource == "/payments" and method == "POST"'
    availability, latency = sli["slo_post_payments_availability"], sli["slo_post_payments_latency_p95"]
    assert post in availability and "5xx_error_sum" in availability and "count_sum" in availability
    assert post in latency and "latency_p95" in latency and re.search(r"p95\[\] < \d+", latency)
    final = sli["slo_time_to_final_status"]
    used = set(re.findall(r"emf\[(\w+)\]", final)) - {"_aws"}
    assert used == {"PaymentsSucceeded", "PaymentsFailed", "AbandonedAuthenticationsSettled"}
    assert used <= emitted_metric_names()


def test_the_rest_stage_in_terraform_matches_what_the_queries_read() -> None:
    module = Path("infra/terraform/modules/rest_api/main.tf").read_text()
    assert re.search(rf'variable "name" {{\s*type\s*=\s*string\s*default\s*=\s*"{API_NAME}"', module)
    assert re.search(rf'variable "stage_name" {{\s*type\s*=\s*string\s*default\s*=\s*"{API_STAGE}"', module)
    stage = module[module.index('resource "aws_api_gateway_stage"') :]
    fields = set(re.findall(r"(\w+)\s*=\s*\"\$context\.", stage[: stage.index("\n}\n")]))
    assert fields == ACCESS_LOG, fields ^ ACCESS_LOG


def test_the_checks_reject_what_nobody_publishes() -> None:
    emitted = emitted_metric_names()
    assert {"PaymentsInitiated", "PaymentsRejected", "PaymentsSucceeded", "ColdStart"} <= emitted
    assert snake("4XXError") == "4xx_error" and snake("PutEventsLatency") == "put_events_latency"
    assert unknown_metric_keys("sum(cloud.aws.lambda.invocationz_sum)") == ["cloud.aws.lambda.invocationz_sum"]
    assert unknown_metric_keys("sum(cloud.aws.payments.payments_initiated_sum)") == []  # our EMF is streamed
    assert unknown_metric_keys("sum(cloud.aws.payments.paymentz_initiated_sum)") != []
    assert unknown_metric_keys("sum(cloud.aws.lambda.invocations)") == ["cloud.aws.lambda.invocations"]
    assert unknown_metric_keys("avg(cloud.aws.lambda.duration_avg)") == ["cloud.aws.lambda.duration_avg"]
    assert unknown_metric_keys("sum(cloud.aws.lambda.invocations_sum)") == []
    assert unknown_dimensions("timeseries x = sum(cloud.aws.api_gateway.count_sum), filter: {apiid == $A}") == ["apiid"]
    assert unknown_dimensions("timeseries x = sum(cloud.aws.lambda.errors_sum), by: {tablename}") == ["tablename"]
    assert unknown_log_fields('fetch logs\n| filter loglevel == "ERROR"', emitted) == ["loglevel"]
    assert unknown_log_fields("fetch logs\n| filter isNotNull(access[routeKey])", emitted) == ["access[routeKey]"]
    assert unknown_log_groups('fetch logs | filter aws.log_group == "/aws/lambda/refunds"') == ["/aws/lambda/refunds"]
    assert "faas.coldstart" in span_attributes_set_by_code()
    assert len(deployed_function_names()) == 18


def test_the_metric_stream_sends_the_namespaces_the_tiles_read() -> None:
    module = Path("infra/terraform/modules/metric_stream/main.tf").read_text()
    block = module[module.index('variable "namespaces"') :]
    streamed = set(re.findall(r'"(AWS/\w+|Payments)"', block[: block.index("\n}\n")]))
    # Dynatrace's metric key part for each CloudWatch namespace.
    key_part = {
        "AWS/ApiGateway": "api_gateway",
        "AWS/Lambda": "lambda",
        "AWS/Events": "events",
        "AWS/DynamoDB": "dynamodb",
        "AWS/SQS": "sqs",
        "AWS/Firehose": "firehose",
        "Payments": "payments",
    }
    assert streamed == set(key_part), streamed
    assert set(key_part.values()) == {*AWS_PUBLISHED, "payments"}
