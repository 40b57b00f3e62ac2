"""Stripe's key is read from SSM once per container and max age, not per charge: SSM's standard throughput is
40 GetParameter/s per account and region (docs.aws.amazon.com/general/latest/gr/ssm.html), far under a peak's
charges."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from moto import mock_aws

from finalizer.adapters.ssm_secret import ssm_secret
from payments_testing.aws import CountingClient, aws_client, fake_credentials


def test_the_key_is_fetched_once_for_many_reads_within_its_max_age() -> None:
    fake_credentials()
    with mock_aws():
        ssm = aws_client("ssm")
        ssm.put_parameter(Name="/k", Value="sk_test_1", Type="SecureString")
        counting = CountingClient(ssm)
        key = ssm_secret(counting, "/k", 300)
        assert [key() for _ in range(5)] == ["sk_test_1"] * 5
        assert dict(counting.calls) == {"get_parameter": 1}


def test_concurrent_first_reads_fetch_it_once() -> None:
    """A cold container charges a batch's records at once: they must not each fetch the key."""
    fake_credentials()
    with mock_aws():
        ssm = aws_client("ssm")
        ssm.put_parameter(Name="/k", Value="sk_test_1", Type="SecureString")
        counting = CountingClient(ssm)
        original = counting.get_parameter
        started = threading.Barrier(8)

        def slow_get_parameter(**kwargs: Any) -> Any:
            time.sleep(0.05)  # SSM's round trip: long enough for every thread to ask meanwhile
            return original(**kwargs)

        counting.get_parameter = slow_get_parameter  # type: ignore[attr-defined]
        key = ssm_secret(counting, "/k", 300)

        def read(_: int) -> str:
            started.wait()
            return key()

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(read, range(8))) == ["sk_test_1"] * 8
        assert dict(counting.calls) == {"get_parameter": 1}
