"""moto 5 has no CloudWatch metric streams. This keeps them as CloudWatch does (PutMetricStream creates or
replaces, GetMetricStream reads back what was put, running; DeleteMetricStream), refusing what CloudWatch refuses
(an output format it does not know, percentile statistics on an output format that cannot carry them), so the
apply test reads back the stream Terraform asked for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.exceptions import InvalidParameterValue, ResourceNotFoundException
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult, EmptyResult

OUTPUT_FORMATS = {"json", "opentelemetry0.7", "opentelemetry1.0"}


def _streams(response: Any) -> dict[str, dict[str, Any]]:
    backend = response.cloudwatch_backend
    if not hasattr(backend, "metric_streams"):
        backend.metric_streams = {}
    streams: dict[str, dict[str, Any]] = backend.metric_streams
    return streams


def _check_statistics(output_format: str, configurations: list[dict[str, Any]]) -> None:
    # "OpenTelemetry formats ... can stream only percentile statistics" (PutMetricStream, StatisticsConfigurations).
    for configuration in configurations:
        for statistic in configuration.get("AdditionalStatistics", []):
            if output_format != "json" and not statistic.startswith("p"):
                raise InvalidParameterValue(f"{statistic} cannot be streamed in {output_format}")
        if not configuration.get("IncludeMetrics"):
            raise InvalidParameterValue("StatisticsConfigurations need IncludeMetrics")


def put_metric_stream(self: Any) -> ActionResult:
    name, output_format = self._get_param("Name"), self._get_param("OutputFormat")
    if output_format not in OUTPUT_FORMATS:
        raise InvalidParameterValue(f"OutputFormat {output_format!r} is not one of {sorted(OUTPUT_FORMATS)}")
    include, exclude = self._get_param("IncludeFilters", []), self._get_param("ExcludeFilters", [])
    if include and exclude:
        raise InvalidParameterValue("IncludeFilters and ExcludeFilters are mutually exclusive")
    statistics = self._get_param("StatisticsConfigurations", [])
    _check_statistics(output_format, statistics)
    arn = f"arn:aws:cloudwatch:{self.region}:{self.current_account}:metric-stream/{name}"
    now = datetime.now(UTC)
    streams = _streams(self)
    streams[name] = {
        "Arn": arn,
        "Name": name,
        "IncludeFilters": include,
        "ExcludeFilters": exclude,
        "FirehoseArn": self._get_param("FirehoseArn"),
        "RoleArn": self._get_param("RoleArn"),
        "State": "running",
        "CreationDate": streams.get(name, {}).get("CreationDate", now),
        "LastUpdateDate": now,
        "OutputFormat": output_format,
        "StatisticsConfigurations": statistics,
        "IncludeLinkedAccountsMetrics": bool(self._get_param("IncludeLinkedAccountsMetrics", False)),
    }
    tags = self._get_param("Tags", [])
    if tags:
        self.cloudwatch_backend.tagger.tag_resource(arn, tags)
    return ActionResult({"Arn": arn})


def get_metric_stream(self: Any) -> ActionResult:
    stream = _streams(self).get(self._get_param("Name"))
    if stream is None:
        raise ResourceNotFoundException()
    return ActionResult(stream)


def delete_metric_stream(self: Any) -> EmptyResult:
    _streams(self).pop(self._get_param("Name"), None)
    return EmptyResult()


def list_metric_streams(self: Any) -> ActionResult:
    keys = ("Arn", "Name", "FirehoseArn", "State", "CreationDate", "LastUpdateDate", "OutputFormat")
    return ActionResult({"Entries": [{k: s[k] for k in keys} for s in _streams(self).values()]})


def install() -> None:
    for handler in (put_metric_stream, get_metric_stream, delete_metric_stream, list_metric_streams):
        setattr(CloudWatchResponse, handler.__name__, handler)
