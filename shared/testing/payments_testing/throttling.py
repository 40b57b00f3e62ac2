"""DynamoDB answering a call as it does once botocore's retries of a throttled request have run out: HTTP 400
with ProvisionedThroughputExceededException (or ThrottlingException), nothing read or written.

Hooked on the client's own `before-call` event, so the error is the ClientError botocore raises (its parser,
its exception class); moto's backend never sees the call.
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse

THROUGHPUT_EXCEEDED = "ProvisionedThroughputExceededException"


class _Refusals:
    def __init__(self, times: int, code: str) -> None:
        self.left, self.code = times, code

    def __call__(self, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if self.left <= 0:
            return None  # the call goes through
        self.left -= 1
        error = {"Code": self.code, "Message": "The level of configured provisioned throughput was exceeded"}
        http = AWSResponse("https://dynamodb.eu-west-1.amazonaws.com/", 400, {}, None)
        return http, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}


def throttle(client: Any, operation: str, times: int = 1, code: str = THROUGHPUT_EXCEEDED) -> None:
    """The client's next `times` calls of `operation` (GetItem, Query, Scan, …) are refused; later ones go through."""
    client.meta.events.register(f"before-call.dynamodb.{operation}", _Refusals(times, code))
