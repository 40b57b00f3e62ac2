"""The local stack's moto patch keeps CloudWatch metric streams as CloudWatch does: what was put is read back,
a second put replaces it, and what CloudWatch refuses is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from devstack.moto_local import MotoServer, client

FIREHOSE = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/metrics"
ROLE = "arn:aws:iam::123456789012:role/metric-stream"
PERCENTILES = [
    {"IncludeMetrics": [{"Namespace": "AWS/Lambda", "MetricName": "Duration"}], "AdditionalStatistics": ["p99"]}
]


@pytest.fixture(scope="module")
def cloudwatch() -> Iterator[Any]:
    moto = MotoServer().start()
    yield client("cloudwatch")
    moto.stop()


def test_a_stream_reads_back_as_put_and_a_second_put_replaces_it(cloudwatch: Any) -> None:
    arn = cloudwatch.put_metric_stream(
        Name="to-dynatrace",
        FirehoseArn=FIREHOSE,
        RoleArn=ROLE,
        OutputFormat="opentelemetry1.0",
        IncludeFilters=[{"Namespace": "AWS/Lambda"}, {"Namespace": "AWS/SQS"}],
        StatisticsConfigurations=PERCENTILES,
        Tags=[{"Key": "system", "Value": "payments"}],
    )["Arn"]
    stream = cloudwatch.get_metric_stream(Name="to-dynatrace")
    assert (stream["Arn"], stream["State"], stream["FirehoseArn"]) == (arn, "running", FIREHOSE)
    assert [f["Namespace"] for f in stream["IncludeFilters"]] == ["AWS/Lambda", "AWS/SQS"]
    assert stream["StatisticsConfigurations"][0]["AdditionalStatistics"] == ["p99"]
    assert cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "system", "Value": "payments"}]

    cloudwatch.put_metric_stream(
        Name="to-dynatrace", FirehoseArn=FIREHOSE, RoleArn=ROLE, OutputFormat="json", IncludeFilters=[]
    )
    replaced = cloudwatch.get_metric_stream(Name="to-dynatrace")
    assert replaced["OutputFormat"] == "json" and not replaced.get("IncludeFilters")
    assert [e["Name"] for e in cloudwatch.list_metric_streams()["Entries"]] == ["to-dynatrace"]
    cloudwatch.delete_metric_stream(Name="to-dynatrace")
    with pytest.raises(ClientError) as gone:
        cloudwatch.get_metric_stream(Name="to-dynatrace")
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "asked",
    [
        {"OutputFormat": "csv"},
        {
            "OutputFormat": "opentelemetry1.0",
            "StatisticsConfigurations": [{**PERCENTILES[0], "AdditionalStatistics": ["TM(10%:90%)"]}],
        },
        {
            "OutputFormat": "json",
            "IncludeFilters": [{"Namespace": "AWS/Lambda"}],
            "ExcludeFilters": [{"Namespace": "AWS/SQS"}],
        },
    ],
)
def test_what_cloudwatch_refuses_is_refused(cloudwatch: Any, asked: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as refused:
        cloudwatch.put_metric_stream(Name="refused", FirehoseArn=FIREHOSE, RoleArn=ROLE, **asked)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
