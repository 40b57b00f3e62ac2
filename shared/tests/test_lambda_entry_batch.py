"""The queue consumers' batch utility comes without Powertools' pydantic parser models, and pydantic untouched."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import payments_shared.lambda_entry.queue  # noqa: F401 - what the fresh interpreter imports (Pants ships it)


def test_the_queue_entry_loads_no_parser_model_and_keeps_the_one_pydantic() -> None:
    code = """
        import sys
        import pydantic  # loaded first, as our envelope and dependency-injector do
        before = sys.modules["pydantic"]
        from payments_shared.lambda_entry import queue
        from aws_lambda_powertools.utilities.batch import BatchProcessor
        assert queue.BatchProcessor is BatchProcessor
        assert sys.modules["pydantic"] is before, "pydantic replaced"
        assert queue.ValidationError is pydantic.ValidationError
        parser = sorted(m for m in sys.modules if m.startswith("aws_lambda_powertools.utilities.parser"))
        assert not parser, parser
        print("ok")
    """
    done = subprocess.run(  # - our own interpreter, fixed code
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "ok"
