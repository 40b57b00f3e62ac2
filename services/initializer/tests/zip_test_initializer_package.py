"""The initializer's Lambda zip imports under python3.12 with nothing but the zip on the path."""

from __future__ import annotations

from pathlib import Path

from payments_testing.lambda_zip import assert_zip_imports


def test_zip_imports_every_entry_point_in_a_bare_python312(tmp_path: Path) -> None:
    names = assert_zip_imports(
        Path("services.initializer/lambda.zip"),
        "initializer",
        [
            "from initializer.entrypoints import relay; from initializer.runtime import container",
            "container.relay()",  # builds its client too: no network needed
            # The relay publishes stored events: it never loads the order's decider, the app nor their adapters.
            "deciding = {'initializer.domain.order', 'initializer.domain.commands', 'initializer.app'}",
            "loaded = deciding & set(sys.modules)",
            "assert not loaded, f'the relay loaded {loaded}'",
            "assert 'payments_shared.callers' not in sys.modules, 'the API callers directory loaded by the relay'",
            "from initializer.entrypoints import outcome",
            "container.app(); container.relay()",
            "assert 'aws_lambda_powertools.event_handler.api_gateway' not in sys.modules, 'HTTP resolver loaded'",
            "from initializer.entrypoints.api import handler",
        ],
        tmp_path,
        bytecode=True,  # lean_awslambda(bytecode=True): no cold start compiles what it imports
    )
    assert not [n for n in names if n.startswith("cryptography/")], "KMS seals the card: no crypto library shipped"
