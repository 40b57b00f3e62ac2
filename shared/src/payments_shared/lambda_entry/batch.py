"""Powertools' batch utility, imported without its pydantic parser models.

`aws_lambda_powertools.utilities.batch.types` imports Powertools' parser models (pydantic models of SQS,
DynamoDB stream, Kinesis and Kafka records) whenever pydantic is already in `sys.modules`, only to name the
type of the processors' optional `model=` argument. Our consumers take records as Powertools' data classes and
never pass a model, yet building those models was one of the largest parts of a consumer's cold start (pydantic
is always loaded first: our envelope and dependency-injector import it). So the batch utility is imported once
with pydantic out of `sys.modules` for the duration of that import; pydantic itself is neither reloaded nor
replaced (test_lambda_entry_batch.py checks it), and a later `model=` user would import the models itself.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def _pydantic_hidden() -> Iterator[None]:
    pydantic = sys.modules.pop("pydantic", None)
    try:
        yield
    finally:
        if pydantic is not None:
            sys.modules["pydantic"] = pydantic


with _pydantic_hidden():
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

__all__ = ["BatchProcessor", "EventType", "process_partial_response"]
