"""`lean_awslambda`: a `python_awslambda` zip holding only what its function runs.

Pants 2.17's `python_awslambda` ships each third-party wheel whole. botocore alone brings the models of
every AWS service (about 16 MB compressed of a 24 MB zip), and wheels bring C sources and type stubs that
nothing executes. This target packages the zip of `source_lambda` and rewrites it in the build: botocore's
models only for `botocore_services` (no directory left for the others: botocore lists every one of them
whenever it loads a model), in those models only the `botocore_operations` (botocore_models.keep_operations: a
client parses its whole model and makes a method of every operation when it is built), its endpoints.json with
only those services' entries (every botocore session parses the whole file, 1.3 MB of ~300 services' regions,
when it builds its first client), plus the
partition and retry data at the top of botocore/data, no boto3 resource models (no resource layer is used),
no `.pyi`/`.c`/`.h`/`.pyx`/`.pxd` files, no wheel RECORDs (only installers read them), the assets in
UNUSED_ASSETS, and the distributions in `unused_packages` (boto3 and s3transfer, which Pants ships because our
botocore imports map to the boto3 requirement, while the kernel builds its clients from botocore). Entries keep
their order, timestamps and compression, so the output stays reproducible.

With `bytecode=True`, each `.py` gets an unchecked-hash `.pyc` beside it (`__pycache__/*.cpython-312.pyc`),
compiled by a CPython 3.12 (the runtime's version; Pants itself runs on 3.9, so a 3.12 process does it). Lambda's
code directory is read-only and nothing compiled at a cold start is kept: without them every cold start compiles
every module it imports from source. Unchecked: the sources in a zip never change, so Python need not hash them.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Iterable

from pants.backend.awslambda.python.rules import PythonAwsLambdaFieldSet
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex_environment import PythonExecutable
from pants.core.goals.package import BuiltPackage, BuiltPackageArtifact, OutputPathField, PackageFieldSet
from pants.engine.addresses import Address, AddressInput
from pants.engine.fs import CreateDigest, Digest, DigestContents, FileContent
from pants.engine.process import Process, ProcessResult
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import (
    COMMON_TARGET_FIELDS,
    BoolField,
    StringField,
    StringSequenceField,
    Target,
    WrappedTarget,
    WrappedTargetRequest,
)
from pants.engine.unions import UnionRule

from lean_lambda.botocore_models import prune_model_file

NEVER_RUN = (".pyi", ".c", ".h", ".pyx", ".pxd", ".cpp")
UNUSED_ASSETS = (
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui",  # no route serves the Swagger UI
    "dateutil/zoneinfo/dateutil-zoneinfo.tar.gz",  # botocore uses tzutc/tzlocal, never a named zone
    "stripe/params/",  # TypedDicts of request parameters, imported only under TYPE_CHECKING (1 MB compressed)
)


class SourceLambdaField(StringField):
    alias = "source_lambda"
    required = True
    help = "Address of the python_awslambda whose zip is pruned."


class BotocoreServicesField(StringSequenceField):
    alias = "botocore_services"
    required = True
    help = "The AWS services the function's code calls (botocore model names, e.g. dynamodb, kms)."


class BotocoreOperationsField(StringSequenceField):
    alias = "botocore_operations"
    default = ()
    help = (
        "The operations the function's code calls, as `service.Operation` (e.g. ssm.GetParameter): a kept service "
        "with operations named here keeps only those in its model (botocore_models.keep_operations); one with none "
        "keeps its whole model."
    )


class UnusedPackagesField(StringSequenceField):
    alias = "unused_packages"
    default = ()
    help = (
        "Top-level packages (with their .dist-info) no code of the function imports, e.g. boto3 and s3transfer "
        "where the clients come from botocore; the zip tests import every entry point without them."
    )


class BytecodeField(BoolField):
    alias = "bytecode"
    default = False
    help = "Ship an unchecked-hash .pyc (CPython 3.12) beside every .py: no cold start compiles what it imports."


# The Lambda runtime's Python (3rdparty/platforms' complete platform is python3.12).
BYTECODE_INTERPRETER = "CPython==3.12.*"


class BytecodeImportsField(StringSequenceField):
    alias = "bytecode_imports"
    default = ()
    help = (
        "With `bytecode`, Python statements that load what the functions' cold starts and first invocations load "
        "(run by python3.12 -S -E in the build, the unpacked zip first on the path, fake AWS credentials, no "
        "network): only the zip's modules they import get bytecode, for a zip near the size budget. Empty: all."
    )


# Run by that interpreter in the sandbox: argv[1] the zip, argv[2] the zip written with the bytecode, argv[3]
# (optional) a file of statements whose imports alone get bytecode. Each .pyc follows its .py, with its timestamp
# and mode: the output keeps the input's order (reproducible).
COMPILE_SCRIPT = """
import json, os, subprocess, sys, tempfile, zipfile
from importlib._bootstrap_external import _code_to_hash_pyc
from importlib.util import cache_from_source, source_hash

LOADED = (
    "import json, os; files = (getattr(m, '__file__', None) or '' for m in list(sys.modules.values()))\\n"
    "print(json.dumps(sorted(os.path.relpath(f, sys.path[0]) for f in files if f.startswith(sys.path[0]))))"
)


def loaded(archive, statements):
    with tempfile.TemporaryDirectory() as root:
        archive.extractall(root)
        script = "import sys; sys.path[:0] = [" + repr(root) + "]\\n" + statements + "\\n" + LOADED
        env = {"AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
        done = subprocess.run([sys.executable, "-S", "-E", "-B", "-c", script], env=env, check=True,
                              capture_output=True, text=True)
        return set(json.loads(done.stdout.strip().splitlines()[-1]))


with zipfile.ZipFile(sys.argv[1]) as source, zipfile.ZipFile(sys.argv[2], "w") as target:
    wanted = loaded(source, open(sys.argv[3]).read()) if len(sys.argv) > 3 else None
    for info in source.infolist():
        data = source.read(info)
        target.writestr(info, data)
        if not info.filename.endswith(".py") or (wanted is not None and info.filename not in wanted):
            continue
        try:
            code = compile(data, info.filename, "exec", dont_inherit=True, optimize=0)
        except SyntaxError:  # e.g. a Python 2 file some wheels carry: never imported
            continue
        pyc = zipfile.ZipInfo(cache_from_source(info.filename), date_time=info.date_time)
        pyc.compress_type, pyc.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
        target.writestr(pyc, _code_to_hash_pyc(code, source_hash(data), checked=False))
"""


class LeanAwsLambda(Target):
    alias = "lean_awslambda"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        SourceLambdaField,
        BotocoreServicesField,
        BotocoreOperationsField,
        UnusedPackagesField,
        BytecodeField,
        BytecodeImportsField,
        OutputPathField,
    )
    help = "A python_awslambda's zip with botocore models for the services it calls only, and no C sources or stubs."


@dataclass(frozen=True)
class LeanAwsLambdaFieldSet(PackageFieldSet):
    required_fields = (SourceLambdaField, BotocoreServicesField)

    source_lambda: SourceLambdaField
    botocore_services: BotocoreServicesField
    botocore_operations: BotocoreOperationsField
    unused_packages: UnusedPackagesField
    bytecode: BytecodeField
    bytecode_imports: BytecodeImportsField
    output_path: OutputPathField


def _distribution(name: str) -> str:
    """The package a zip entry belongs to: `boto3/x.py` and `boto3-1.2.3.dist-info/METADATA` are boto3's."""
    top = name.split("/", 1)[0]
    return top.split("-", 1)[0].lower() if top.endswith(".dist-info") else top


BOTOCORE_DATA = "botocore/data/"
ENDPOINTS = BOTOCORE_DATA + "endpoints.json"


def keeps(name: str, services: frozenset, unused: frozenset = frozenset()) -> bool:
    if _distribution(name) in unused:
        return False
    if name.startswith(BOTOCORE_DATA):
        service, slash, _ = name[len(BOTOCORE_DATA) :].partition("/")
        # Top-level files (endpoints, partitions, retry, defaults), and a kept service's directory and models.
        return not slash or service in services
    if name.startswith(("boto3/data/", *UNUSED_ASSETS)):
        return False
    return not name.endswith(NEVER_RUN) and not (name.endswith("/RECORD") and ".dist-info/" in name)


def endpoint_prefixes(source: zipfile.ZipFile, services: frozenset) -> frozenset:
    """The endpoints.json keys of the kept services: each model's `metadata.endpointPrefix` (dynamodbstreams is
    `streams.dynamodb`), from its service-2.json (gzipped in recent botocore)."""
    prefixes = set()
    for name in source.namelist():
        parts = name[len(BOTOCORE_DATA) :].split("/")
        if name.startswith(BOTOCORE_DATA) and len(parts) == 3 and parts[0] in services:
            if parts[2] in ("service-2.json", "service-2.json.gz"):
                raw = source.read(name)
                model = json.loads(gzip.decompress(raw) if name.endswith(".gz") else raw)
                prefixes.add(model["metadata"].get("endpointPrefix", parts[0]))
    return frozenset(prefixes)


def prune_endpoints(content: bytes, prefixes: frozenset) -> bytes:
    """endpoints.json with every partition (its regions, defaults and variants) kept, and only the kept services'
    entries in each: what botocore's endpoint resolver reads for those services is unchanged. Compact JSON, in
    the source's key order (reproducible)."""
    endpoints = json.loads(content)
    for partition in endpoints["partitions"]:
        partition["services"] = {k: v for k, v in partition["services"].items() if k in prefixes}
    return json.dumps(endpoints, separators=(",", ":")).encode()


def operations_by_service(operations: Iterable[str], services: frozenset) -> dict[str, list[str]]:
    """`service.Operation` strings grouped by service; each service must be a kept one."""
    grouped: dict[str, list[str]] = {}
    for entry in operations:
        service, dot, operation = entry.partition(".")
        if not dot or service not in services:
            raise ValueError(f"botocore_operations: {entry!r} is not `service.Operation` of a kept service")
        grouped.setdefault(service, []).append(operation)
    return grouped


def _service_model(name: str) -> tuple[str, str] | None:
    """(service, API version) of a service-2.json entry (botocore/data/<service>/<version>/service-2.json[.gz])."""
    parts = name[len(BOTOCORE_DATA) :].split("/")
    if name.startswith(BOTOCORE_DATA) and len(parts) == 3 and parts[2] in ("service-2.json", "service-2.json.gz"):
        return parts[0], parts[1]
    return None


def latest_models(names: Iterable[str]) -> dict[str, str]:
    """Each service's newest API version with a model: the one botocore loads (the others, e.g. events' 2014-02-03,
    are never read and stay as shipped)."""
    latest: dict[str, str] = {}
    for found in filter(None, map(_service_model, names)):
        latest[found[0]] = max(latest.get(found[0], ""), found[1])
    return latest


def prune(
    content: bytes, services: Iterable[str], unused_packages: Iterable[str] = (), operations: Iterable[str] = ()
) -> tuple[bytes, int]:
    """The zip without what the function never runs, and how many entries were dropped."""
    wanted, unused = frozenset(services), frozenset(unused_packages)
    calls = operations_by_service(operations, wanted)
    out = io.BytesIO()
    dropped = 0
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        prefixes = endpoint_prefixes(source, wanted)
        latest = latest_models(source.namelist())
        for info in source.infolist():
            service, version = _service_model(info.filename) or ("", "")
            if not keeps(info.filename, wanted, unused):
                dropped += 1
            elif info.filename == ENDPOINTS:
                target.writestr(info, prune_endpoints(source.read(info), prefixes))
            elif service in calls and version == latest[service]:
                gzipped = info.filename.endswith(".gz")
                target.writestr(info, prune_model_file(source.read(info), gzipped, calls[service]))
            else:
                target.writestr(info, source.read(info))
    return out.getvalue(), dropped


async def _with_bytecode(content: bytes, imports: tuple[str, ...]) -> bytes:
    python = await Get(PythonExecutable, InterpreterConstraints, InterpreterConstraints([BYTECODE_INTERPRETER]))
    files = [FileContent("lean.zip", content), FileContent("compile.py", COMPILE_SCRIPT.encode())]
    if imports:
        files.append(FileContent("imports.py", "\n".join(imports).encode()))
    sources = await Get(Digest, CreateDigest(files))
    result = await Get(
        ProcessResult,
        Process(
            argv=(python.path, "compile.py", "lean.zip", "compiled.zip", *(["imports.py"] if imports else [])),
            description="Compile a Lambda zip's modules to bytecode",
            input_digest=sources,
            output_files=("compiled.zip",),
            append_only_caches=python.append_only_caches,
            immutable_input_digests=python.immutable_input_digests,
        ),
    )
    (compiled,) = await Get(DigestContents, Digest, result.output_digest)
    return compiled.content


@rule(desc="Prune an AWS Lambda zip")
async def package_lean_awslambda(field_set: LeanAwsLambdaFieldSet) -> BuiltPackage:
    source = await Get(
        Address,
        AddressInput,
        AddressInput.parse(
            field_set.source_lambda.value,
            relative_to=field_set.address.spec_path,
            description_of_origin=f"the `source_lambda` of {field_set.address}",
        ),
    )
    wrapped = await Get(
        WrappedTarget, WrappedTargetRequest(source, description_of_origin=f"the `source_lambda` of {field_set.address}")
    )
    full = await Get(BuiltPackage, PythonAwsLambdaFieldSet, PythonAwsLambdaFieldSet.create(wrapped.target))
    contents = await Get(DigestContents, Digest, full.digest)
    (archive,) = [c for c in contents if c.path.endswith(".zip")]
    lean, dropped = prune(
        archive.content,
        field_set.botocore_services.value or (),
        field_set.unused_packages.value or (),
        field_set.botocore_operations.value or (),
    )
    if field_set.bytecode.value:
        lean = await _with_bytecode(lean, tuple(field_set.bytecode_imports.value or ()))
    path = field_set.output_path.value_or_default(file_ending="zip")
    digest = await Get(Digest, CreateDigest([FileContent(path, lean)]))
    summary = f"{len(archive.content) / 1e6:.1f} MB → {len(lean) / 1e6:.1f} MB ({dropped} entries dropped)"
    if field_set.bytecode.value:
        summary += ", with bytecode"
    return BuiltPackage(digest, (BuiltPackageArtifact(path, extra_log_lines=(f"    {summary}",)),))


def target_types():
    return [LeanAwsLambda]


def rules():
    return [*collect_rules(), UnionRule(PackageFieldSet, LeanAwsLambdaFieldSet)]
