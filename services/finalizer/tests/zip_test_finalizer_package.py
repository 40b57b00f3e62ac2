"""The finalizer's Lambda zip imports under python3.12 with nothing but the zip on the path."""

from __future__ import annotations

from pathlib import Path

from payments_testing.lambda_zip import assert_zip_imports


def test_zip_imports_every_entry_point_in_a_bare_python312(tmp_path: Path) -> None:
    names = assert_zip_imports(
        Path("services.finalizer/lambda.zip"),
        "finalizer",
        [
            "from finalizer.entrypoints import relay; from finalizer.runtime import container",
            "container.relay()",
            # The relay's cold start never loads the PSP's SDK; the consumer's first charge does.
            "assert not {'stripe', 'requests'} & set(sys.modules), 'the PSP SDK loaded by the relay'",
            "assert 'boto3' not in sys.modules, 'boto3 loaded by the relay (clients come from botocore)'",
            # The relay publishes stored events: it never loads the app nor the deciders.
            "deciders = {f'finalizer.domain.{d}' for d in ('payment', 'refund', 'dispute', 'psp_payout')}",
            "loaded = ({'finalizer.app'} | deciders) & set(sys.modules)",
            "assert not loaded, f'the relay loaded {loaded}'",
            "from finalizer.entrypoints import charge",
            "container.app(); container.psp(); container.cards()",
            # A charge's cold start leaves refunds, disputes and payouts to the functions that record them.
            "loaded = {'finalizer.money_out', *deciders - {'finalizer.domain.payment'}} & set(sys.modules)",
            "assert not loaded, f'the charge consumer loaded {loaded}'",
            "from finalizer.entrypoints import refund; import finalizer.money_out",
            # The charge consumer's cold start reads its key with the container's botocore client: no boto3,
            # nor Powertools' parameters utility, which imports it for clients of its own.
            "loaded = {'boto3', 'aws_lambda_powertools.utilities.parameters'} & set(sys.modules)",
            "assert not loaded, f'the charge consumer loaded {loaded}'",
            "import finalizer.adapters.stripe_psp, requests, certifi",
            # botocore_operations: the models keep the operations the code calls, and only those.
            "from botocore.session import get_session",
            "ssm = get_session().get_service_model('ssm').operation_names",
            "assert ssm == ['GetParameter'], f'SSM model not pruned to the one call: {len(ssm)} operations'",
            "calls = get_session().get_service_model('dynamodb').operation_names",
            "assert calls == ['GetItem', 'Query', 'TransactWriteItems'], calls",
            "assert 'aws_lambda_powertools.event_handler.api_gateway' not in sys.modules, 'HTTP resolver loaded'",
        ],
        tmp_path,
        bytecode=True,  # lean_awslambda(bytecode_imports=…): what a cold start and a first charge load
    )
    assert not [n for n in names if n.startswith("cryptography/")], "KMS opens the card: no crypto library shipped"
