"""Capture what a Powertools Logger writes, formatted by its own (redacting) formatter."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger


class LogCapture:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@contextmanager
def capture_logs(logger: Logger) -> Iterator[LogCapture]:
    """The logger's stream was fixed when it was built (module import); tap it with a second handler."""
    capture = LogCapture()
    tap = logging.StreamHandler(capture.stream)
    tap.setFormatter(logger.registered_formatter)
    std_logger = logging.getLogger(logger.name)
    std_logger.addHandler(tap)
    try:
        yield capture
    finally:
        std_logger.removeHandler(tap)
