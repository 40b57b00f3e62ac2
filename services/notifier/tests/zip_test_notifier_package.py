"""The notifier's Lambda zip imports under python3.12 with nothing but the zip on the path."""

from __future__ import annotations

from pathlib import Path

from payments_testing.lambda_zip import assert_zip_imports


def test_zip_imports_the_api_and_record_entry_points_in_a_bare_python312(tmp_path: Path) -> None:
    assert_zip_imports(
        Path("services.notifier/lambda.zip"),
        "notifier",
        [
            "from notifier.entrypoints import record; from notifier.runtime import container",
            "container.app()",
            "assert 'aws_lambda_powertools.event_handler.api_gateway' not in sys.modules, 'HTTP resolver loaded'",
            "from notifier.entrypoints.api import handler",
        ],
        tmp_path,
        bytecode=True,  # lean_awslambda(bytecode=True): no cold start compiles what it imports
        unused_service="events",  # the notifier reads the bus through its queue and never calls EventBridge
    )
