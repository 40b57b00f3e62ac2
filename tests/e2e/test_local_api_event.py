"""The local API hands the handlers API Gateway's REST proxy event (its documented input format)."""

from __future__ import annotations

from devstack.api_server import proxy_parameters


def test_repeated_headers_and_query_parameters_come_in_both_forms() -> None:
    headers = [("Host", "h"), ("X-Tag", "a"), ("X-Tag", "b")]
    fields = proxy_parameters(headers, "limit=5&tag=x&tag=y&empty=")
    assert fields["headers"] == {"Host": "h", "X-Tag": "b"}  # the last value, as API Gateway passes it
    assert fields["multiValueHeaders"] == {"Host": ["h"], "X-Tag": ["a", "b"]}
    assert fields["queryStringParameters"] == {"limit": "5", "tag": "y", "empty": ""}
    assert fields["multiValueQueryStringParameters"] == {"limit": ["5"], "tag": ["x", "y"], "empty": [""]}


def test_a_request_without_a_query_string_has_null_query_parameters() -> None:
    fields = proxy_parameters([("Host", "h")], "")
    assert fields["queryStringParameters"] is None and fields["multiValueQueryStringParameters"] is None
    assert fields["multiValueHeaders"] == {"Host": ["h"]}
