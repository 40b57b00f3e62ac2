"""The ledger's Lambda zip imports under python3.12 with nothing but the zip on the path."""

from __future__ import annotations

from pathlib import Path

from payments_testing.lambda_zip import assert_zip_imports


def test_zip_imports_every_entry_point_in_a_bare_python312(tmp_path: Path) -> None:
    assert_zip_imports(
        Path("services.ledger/lambda.zip"),
        "ledger",
        [
            "from ledger.entrypoints import post, totals; from ledger.runtime import container",
            "container.app()",
            "assert 'aws_lambda_powertools.event_handler.api_gateway' not in sys.modules, 'HTTP resolver loaded'",
            "assert 'payments_shared.callers' not in sys.modules, 'the API callers directory loaded by a consumer'",
            "from ledger.entrypoints.api import handler",
        ],
        tmp_path,
        bytecode=True,  # lean_awslambda(bytecode=True): no cold start compiles what it imports
    )
