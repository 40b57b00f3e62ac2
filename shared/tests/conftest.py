from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from payments_testing.aws import fake_credentials
from payments_testing.fixtures import spans  # noqa: F401 - fixture


@pytest.fixture
def aws() -> Iterator[None]:
    fake_credentials()
    with mock_aws():
        yield
