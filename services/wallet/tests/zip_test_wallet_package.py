"""The wallet's Lambda zip imports under python3.12 with nothing but the zip on the path."""

from __future__ import annotations

from pathlib import Path

from payments_testing.lambda_zip import assert_zip_imports


def test_zip_imports_every_entry_point_in_a_bare_python312(tmp_path: Path) -> None:
    assert_zip_imports(
        Path("services.wallet/lambda.zip"),
        "wallet",
        [
            "from wallet.entrypoints.relay import handler; from wallet.runtime import container",
            "container.relay()",
            # The relay publishes stored events: it never loads the app, the wallet's decider nor the API's callers.
            "loaded = {'wallet.app', 'wallet.domain.wallet', 'payments_shared.callers'} & set(sys.modules)",
            "assert not loaded, f'the relay loaded {loaded}'",
            "from wallet.entrypoints import credit",
            "container.app()",
            "assert 'aws_lambda_powertools.event_handler.api_gateway' not in sys.modules, 'HTTP resolver loaded'",
            "from wallet.entrypoints.api import handler",
        ],
        tmp_path,
        bytecode=True,  # lean_awslambda(bytecode=True): no cold start compiles what it imports
    )
