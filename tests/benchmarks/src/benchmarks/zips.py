"""Lambda zip sizes (compressed, uncompressed) and what dominates each; cold init of each handler.

Needs the zips: ./pants package ::  (dist/services.<name>/lambda.zip, the lean zip that is deployed, and
dist/services.<name>/full/lambda.zip, python_awslambda's unpruned one it is made from).
Cold init, per entry point: a fresh python3.12 (-S -E: only the unpacked zip on the path) imports the entry
point and builds what its first invocation uses (clients included, no network), as a ratio to the floor: a
process that imports boto3 from the full zip and creates DynamoDB and EventBridge clients (the floor issue 32
keeps, though our zips no longer carry boto3); and to the libraries' floor: the chosen libraries imported as
our entry points use them, none of our code (also with one pydantic model defined and validated, and as they were
used before issue 32). Runs are interleaved;
medians of --runs. With a baseline (--cold-init-baseline DIR: another build's dist, e.g. main's, holding
services.<name>/lambda.zip), each entry point is also timed from that build's zip, interleaved in the same rounds:
before and after against the same floor. --cold-init-services and --cold-init-entry-points narrow the run.
With --cold-init-compiling, no process keeps what it compiles (python -B): each compiles every module it
imports that its zip carries no .pyc for, as in Lambda, whose code directory is read-only (lean_awslambda's
`bytecode` ships them). Without it, the first (page-cache warming) run leaves __pycache__ beside the unpacked
sources and the timed runs load those: the figures then assume bytecode whether or not a zip ships it.

Two more estimators are reported beside that one (`ratio`: an entry point's median over its own service's floor
median), because on a shared machine each service's floor median swings by ±15 % for identical code: `paired_ratio`
(each round, a floor sample just before and just after each entry point; the median over rounds of the entry point
over those two) and `pooled_ratio` (its median over one floor pooled from every floor sample of the run).
`own_ms` times an entry point's statements inside a process that has already imported the libraries (LIBRARIES):
what our code adds, free of the interpreter start's variance, so a change of ~20 ms shows before → after.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

SERVICES = ("initializer", "finalizer", "ledger", "wallet")
# Entry point -> what its cold start loads: the module, its container's pieces, and what the first event
# imports (the finalizer's consumer: Stripe's SDK, on its first charge).
ENTRY_POINTS = {
    "initializer": {
        # The API's first POST fingerprints and seals the card: its KMS client is part of its cold start.
        "api": "import initializer.entrypoints.api; container.app(); container.kms()",
        "relay": "import initializer.entrypoints.relay; container.relay()",
        "outcome": "import initializer.entrypoints.outcome; container.app()",
    },
    "finalizer": {
        "consumer": "import finalizer.entrypoints.charge; container.app(); container.psp()",
        "relay": "import finalizer.entrypoints.relay; container.relay()",
    },
    "ledger": {
        "consumer": "import ledger.entrypoints.post; container.app()",
        "totals": "import ledger.entrypoints.totals; container.app()",
        "api": "import ledger.entrypoints.api; container.app()",
    },
    "wallet": {
        "consumer": "import wallet.entrypoints.credit; container.app()",
        "relay": "import wallet.entrypoints.relay; container.relay()",
        "api": "import wallet.entrypoints.api; container.app()",
    },
}


def as_lambda_loads(service: str, code: str) -> str:
    """An entry point's statements as Lambda runs them: the handler's module imported first (its package, then its
    service's runtime, the container every function shares, come with it), then what the first event builds."""
    entry, _, first_event = code.partition("; ")
    return f"{entry}; from {service}.runtime import container; {first_event}"


BASELINE = "import boto3; boto3.client('dynamodb'); boto3.client('events')"
# The same floor with the garbage collector paused through it, as our entry points pause it through their init
# (payments_shared.init_phase): how much of their gain any process would get, so not what our code saves.
BASELINE_COLLECTOR_PAUSED = f"import gc; gc.disable(); {BASELINE}; gc.freeze(); gc.enable()"
# The chosen libraries as our entry points use them, and none of our code: the floor of this dependency
# set (from the lean zip). entry / LIBRARIES is what our own modules add; LIBRARIES / BASELINE what the
# choice of pydantic, dependency-injector, Powertools (logger, metrics, batch, data classes) and the
# botocore instrumentation costs before any of our code runs. Since issue 32 they are used the cheapest way,
# as the kernel does: a client from botocore (no boto3), the instrumentation without its dependency check,
# Powertools' batch utility without its parser models (payments_shared.lambda_entry.batch). One client (every
# lean zip has DynamoDB's model, not all EventBridge's): a lower bound of that floor.
LIBRARIES = (
    "import sys, botocore.session, pydantic; from dependency_injector import containers, providers\n"
    "from aws_lambda_powertools import Logger, Metrics\n"
    "hidden = sys.modules.pop('pydantic')\n"
    "from aws_lambda_powertools.utilities.batch import BatchProcessor\n"
    "sys.modules['pydantic'] = hidden\n"
    "from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, SQSEvent\n"
    "from opentelemetry.instrumentation.botocore import BotocoreInstrumentor\n"
    "BotocoreInstrumentor().instrument(skip_dep_check=True); botocore.session.get_session().create_client('dynamodb')"
)
# The libraries' floor with pydantic used at all: one model defined and validated. A process's first model loads
# pydantic's model machinery (pydantic.main, _generate_schema, types, annotated_types), which importing the package
# (LIBRARIES) does not: a cost every entry point pays (the envelope, the contracts) whatever our code does.
LIBRARIES_WITH_A_MODEL = LIBRARIES + (
    "\nclass Amount(pydantic.BaseModel):\n"
    "    minor: int = pydantic.Field(ge=0)\n"
    "    currency: str = pydantic.Field(min_length=3, max_length=3)\n"
    "Amount.model_validate({'minor': 1, 'currency': 'EUR'})"
)
# The same libraries used as before issue 32 (boto3's client, the dependency check, the batch utility with
# its parser models), from the full zip (the lean ones no longer carry boto3): the floor docs/benchmarks.md
# compared against until then.
LIBRARIES_AS_BEFORE = (
    "import boto3, pydantic; from dependency_injector import containers, providers\n"
    "from aws_lambda_powertools import Logger, Metrics\n"
    "from aws_lambda_powertools.utilities.batch import BatchProcessor\n"
    "from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, SQSEvent\n"
    "from opentelemetry.instrumentation.botocore import BotocoreInstrumentor\n"
    "BotocoreInstrumentor().instrument(); boto3.client('dynamodb')"
)


# Issue 32's bar: consumers and relays <= 1.4x the floor (the API functions have SnapStart).
ISSUE_32_BAR = 1.4
ISSUE_32_ENTRY_POINTS = {
    "initializer": ("relay", "outcome"),
    "finalizer": ("consumer", "relay"),
    "ledger": ("consumer", "totals"),
    "wallet": ("consumer", "relay"),
}


# A bare process: fake credentials (clients are built, never called), no proxy or path from this machine; and
# what Terraform sets on every function that concerns a cold start (modules/lambda_service: pydantic looks for no
# plugin; nothing of the floor's builds a pydantic model).
ENV = {
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
    "PATH": "/usr/bin:/bin",
}


def zip_path(service: str, full: bool = False, dist: Path = Path("dist")) -> Path:
    return dist / f"services.{service}/{'full/' if full else ''}lambda.zip"


def selected(service: str, entry_points: tuple[str, ...] = ()) -> dict[str, str]:
    """The service's entry points (all, or those named in `entry_points`: `relay`, `consumer`, …)."""
    return {name: code for name, code in ENTRY_POINTS[service].items() if not entry_points or name in entry_points}


def sizes(service: str) -> dict[str, Any]:
    path = zip_path(service)
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    by_top: Counter[str] = Counter()
    for info in infos:
        by_top[info.filename.split("/")[0]] += info.file_size
    uncompressed = sum(i.file_size for i in infos)
    return {
        "compressed_mb": round(path.stat().st_size / 1e6, 2),
        "unpruned_compressed_mb": round(zip_path(service, full=True).stat().st_size / 1e6, 2),
        "uncompressed_mb": round(uncompressed / 1e6, 2),
        "largest": {name: round(size / 1e6, 2) for name, size in by_top.most_common(5)},
    }


def _time_process(code: str, directory: str, compiling: bool = False) -> float:
    script = f"import sys; sys.path[:0] = [{directory!r}]\n{code}"
    flags = ["-S", "-E", "-B"] if compiling else ["-S", "-E"]
    started = time.perf_counter()
    subprocess.run([sys.executable, *flags, "-c", script], env=ENV, check=True, capture_output=True)
    return (time.perf_counter() - started) * 1000


def paired_ratio(entry_ms: Sequence[float], floors_around: Sequence[tuple[float, float]]) -> float:
    """The median over rounds of each round's entry point time over the mean of the floor samples taken just
    before and just after it. The machine's load drifts over seconds to minutes; within one such pair it
    barely moves, so each round's ratio is nearly free of it, where a ratio of two medians taken over a whole
    service's rounds (the first estimator) carries whatever the load did between them."""
    return statistics.median(
        entry / ((before + after) / 2) for entry, (before, after) in zip(entry_ms, floors_around, strict=True)
    )


def pooled_floor(samples: Iterable[Sequence[float]]) -> float:
    """One floor for a whole run: the median of every floor sample of every service. The floor's code is the
    same for all services (boto3 and two clients), so each service's own floor median differs from the others
    by noise alone; pooling them divides every entry point by the same, better-estimated number."""
    return statistics.median(sample for service_samples in samples for sample in service_samples)


def goal_met(ratios: Iterable[float], bar: float = ISSUE_32_BAR) -> int:
    """How many of these ratios are at or under the bar."""
    return sum(ratio <= bar for ratio in ratios)


def _timed_in_process(prelude: str, timed: str, directory: str, compiling: bool = False) -> float:
    """Milliseconds `timed` takes in a process that first ran `prelude` (not timed), by the process's own clock."""
    measured = (
        f"{prelude}\nimport time\nstarted = time.perf_counter()\n{timed}\nprint((time.perf_counter() - started) * 1000)"
    )
    script = f"import sys; sys.path[:0] = [{directory!r}]\n{measured}"
    done = subprocess.run(
        [sys.executable, "-S", "-E", *(["-B"] if compiling else []), "-c", script],
        env=ENV,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def _post_restore_ms(code: str, directory: str, compiling: bool = False) -> float:
    """In a process that ran `code` (the snapshot's state), the work of a SnapStart restore: the hook, then
    what the first invocation builds again (the container part of `code`)."""
    rebuild = code.split("; ", 1)[1]
    prelude = f"{code}\nfrom payments_shared import snapstart"
    return _timed_in_process(prelude, f"snapstart.restore(); {rebuild}", directory, compiling)


def _own_ms(code: str, directory: str, compiling: bool = False) -> float:
    """What an entry point adds to the libraries' floor, timed inside a process that has already run LIBRARIES: our
    modules and containers (and, for the finalizer's consumer, Stripe's SDK), without an interpreter's start, whose
    variance between processes hides a change of a few tens of ms in a whole-process time."""
    return _timed_in_process(LIBRARIES, code, directory, compiling)


# What `-X importtime` reports per entry point (cumulative ms of each module's first import, nested
# included): the libraries and the parts of our code a cold start pays for.
WATCHED_IMPORTS = (
    "boto3",
    "s3transfer",
    "botocore.session",
    "opentelemetry.instrumentation.botocore",
    "opentelemetry.instrumentation.dependencies",
    "packaging.requirements",
    "importlib.metadata",
    "pydantic",
    "payments_shared.contracts",
    "dependency_injector.providers",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.parser.models",
    "aws_lambda_powertools.utilities.data_classes",
    "stripe",
)
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def _import_times(code: str, directory: str) -> dict[str, float]:
    script = f"import sys; sys.path[:0] = [{directory!r}]\n{code}"
    done = subprocess.run(
        [sys.executable, "-S", "-E", "-X", "importtime", "-c", script],
        env=ENV,
        check=True,
        capture_output=True,
        text=True,
    )
    found: dict[str, float] = {"all_imports": 0.0}
    for line in done.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if not match:
            continue
        cumulative, depth, name = int(match[2]) / 1000, len(match[3]), match[4]
        if name in WATCHED_IMPORTS:
            found.setdefault(name, cumulative)
        if depth == 1:  # top-level imports: their cumulative times add up to all the imports
            found["all_imports"] += cumulative
    return found


def import_times(service: str, runs: int, entry_points: tuple[str, ...] = ()) -> dict[str, Any]:
    """Per entry point (and the libraries' floor), the median over `runs` of what each watched module's import
    costs under -X importtime (which inflates every figure: compare them within one run)."""
    with tempfile.TemporaryDirectory() as directory:
        with zipfile.ZipFile(zip_path(service)) as archive:
            archive.extractall(directory)
        picked = selected(service, entry_points)
        entries = {name: as_lambda_loads(service, code) for name, code in picked.items()}
        entries["libraries"] = LIBRARIES
        result: dict[str, Any] = {}
        for name, code in entries.items():
            _import_times(code, directory)  # warm the page cache
            samples = [_import_times(code, directory) for _ in range(runs)]
            keys = dict.fromkeys(key for sample in samples for key in sample)
            result[name] = {key: round(statistics.median(s.get(key, 0.0) for s in samples), 1) for key in keys}
    return result


def cold_init(
    service: str,
    runs: int,
    entry_points: tuple[str, ...] = (),
    baseline: Path | None = None,
    compiling: bool = False,
) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as directory,
        tempfile.TemporaryDirectory() as full,
        tempfile.TemporaryDirectory() as before,
    ):
        with zipfile.ZipFile(zip_path(service)) as archive:
            archive.extractall(directory)
        with zipfile.ZipFile(zip_path(service, full=True)) as archive:
            archive.extractall(full)
        if baseline is not None:
            with zipfile.ZipFile(zip_path(service, dist=baseline)) as archive:
                archive.extractall(before)
        picked = selected(service, entry_points)
        entries = {name: as_lambda_loads(service, code) for name, code in picked.items()}
        for code in entries.values():  # warm the page cache
            _time_process(code, directory, compiling)
            if baseline is not None:
                _time_process(code, before, compiling)
        _time_process(BASELINE, full, compiling)
        _time_process(BASELINE_COLLECTOR_PAUSED, full, compiling)
        _time_process(LIBRARIES, directory, compiling)
        _time_process(LIBRARIES_WITH_A_MODEL, directory, compiling)
        _time_process(LIBRARIES_AS_BEFORE, full, compiling)
        floors = ["floor", "floor_collector_paused", "libraries", "libraries_with_a_model", "libraries_before"]
        timings: dict[str, list[float]] = {name: [] for name in [*entries, *floors]}
        restores: dict[str, list[float]] = {name: [] for name in entries}
        own: dict[str, list[float]] = {name: [] for name in entries}
        befores_own: dict[str, list[float]] = {name: [] for name in entries}
        befores: dict[str, list[float]] = {name: [] for name in entries}
        # The floor samples around each entry point (paired_ratio): floor, entry, floor, entry, …, floor.
        floors_around: dict[str, list[tuple[float, float]]] = {name: [] for name in entries}
        paired_floors: list[float] = []
        for _ in range(runs):
            previous = _time_process(BASELINE, full, compiling)
            paired_floors.append(previous)
            for name, code in entries.items():
                if baseline is not None:  # the baseline's zip just before this build's: the same moment's load
                    befores[name].append(_time_process(code, before, compiling))
                timings[name].append(_time_process(code, directory, compiling))
                following = _time_process(BASELINE, full, compiling)
                floors_around[name].append((previous, following))
                paired_floors.append(following)
                previous = following
            for name, code in entries.items():  # after the pairs, so that nothing stands between entry and floor
                restores[name].append(_post_restore_ms(code, directory, compiling))
                own[name].append(_own_ms(code, directory, compiling))
                if baseline is not None:
                    befores_own[name].append(_own_ms(code, before, compiling))
            timings["floor"].append(_time_process(BASELINE, full, compiling))
            timings["floor_collector_paused"].append(_time_process(BASELINE_COLLECTOR_PAUSED, full, compiling))
            timings["libraries"].append(_time_process(LIBRARIES, directory, compiling))
            timings["libraries_with_a_model"].append(_time_process(LIBRARIES_WITH_A_MODEL, directory, compiling))
            timings["libraries_before"].append(_time_process(LIBRARIES_AS_BEFORE, full, compiling))
    floor, libraries = statistics.median(timings["floor"]), statistics.median(timings["libraries"])
    libraries_before = statistics.median(timings["libraries_before"])
    with_a_model = statistics.median(timings["libraries_with_a_model"])
    floor_paused = statistics.median(timings["floor_collector_paused"])
    result: dict[str, Any] = {
        "floor_ms": round(floor, 1),
        "floor_collector_paused_ms": round(floor_paused, 1),
        "floor_collector_paused_ratio": round(floor_paused / floor, 3),
        "libraries_ms": round(libraries, 1),
        "libraries_ratio": round(libraries / floor, 3),
        "libraries_with_a_model_ms": round(with_a_model, 1),
        "libraries_with_a_model_ratio": round(with_a_model / floor, 3),
        "libraries_as_before_ms": round(libraries_before, 1),
        "libraries_as_before_ratio": round(libraries_before / floor, 3),
        # Every floor sample of this service's rounds (its own floor's and the paired ones): run() pools them.
        "floor_samples_ms": [round(sample, 1) for sample in [*timings["floor"], *paired_floors]],
    }
    for name in entries:
        median, restore = statistics.median(timings[name]), statistics.median(restores[name])
        # With SnapStart a new copy skips the cold init and does only the restore work (plus Lambda's own
        # restore of the snapshot, not measurable here).
        result[name] = {
            "ms": round(median, 1),
            "ratio": round(median / floor, 3),
            "paired_ratio": round(paired_ratio(timings[name], floors_around[name]), 3),
            "over_libraries": round(median / libraries, 3),
            "over_libraries_with_a_model": round(median / with_a_model, 3),
            "over_floor_collector_paused": round(median / floor_paused, 3),
            "over_libraries_as_before": round(median / libraries_before, 3),
            "own_ms": round(statistics.median(own[name]), 1),
            "post_restore_ms": round(restore, 1),
            "post_restore_share": round(restore / median, 3),
        }
        if baseline is not None:
            before_median = statistics.median(befores[name])
            result[name] |= {
                "before_ms": round(before_median, 1),
                "before_ratio": round(before_median / floor, 3),
                # The baseline's zip ran between the same two floor samples as this build's.
                "before_paired_ratio": round(paired_ratio(befores[name], floors_around[name]), 3),
                "before_own_ms": round(statistics.median(befores_own[name]), 1),
            }
    return result


def imports(runs: int = 7, services: tuple[str, ...] = SERVICES, entry_points: tuple[str, ...] = ()) -> dict[str, Any]:
    missing = [s for s in services if not zip_path(s).exists()]
    if missing:
        return {"skipped": f"no zip for {missing}: run ./pants package :: first"}
    return {service: import_times(service, runs, entry_points) for service in services}


def run(
    runs: int = 7,
    services: tuple[str, ...] = SERVICES,
    entry_points: tuple[str, ...] = (),
    baseline: Path | None = None,
    compiling: bool = False,
) -> dict[str, Any]:
    missing = [s for s in services if not (zip_path(s).exists() and zip_path(s, full=True).exists())]
    if baseline is not None:
        missing += [f"{baseline}: {s}" for s in services if not zip_path(s, dist=baseline).exists()]
    if missing:
        return {"skipped": f"no zip for {missing}: run ./pants package :: first"}
    result: dict[str, Any] = {
        service: {**sizes(service), "cold_init": cold_init(service, runs, entry_points, baseline, compiling)}
        for service in services
    }
    return result | with_pooled_floor(result)


def with_pooled_floor(measured: dict[str, Any]) -> dict[str, Any]:
    """Each measured entry point's median over the floor pooled from the whole run (`pooled_ratio`, set in place),
    and issue 32's consumers and relays counted at or under the bar by each estimator."""
    colds = {service: figures["cold_init"] for service, figures in measured.items()}
    floor = pooled_floor(cold["floor_samples_ms"] for cold in colds.values())
    for cold in colds.values():
        for entry in (value for value in cold.values() if isinstance(value, dict)):
            entry["pooled_ratio"] = round(entry["ms"] / floor, 3)
            if "before_ms" in entry:
                entry["before_pooled_ratio"] = round(entry["before_ms"] / floor, 3)
    goal = [
        colds[service][name]
        for service, names in ISSUE_32_ENTRY_POINTS.items()
        for name in names
        if service in colds and name in colds[service]
    ]
    return {
        "pooled_floor": {"ms": round(floor, 1), "samples": sum(len(c["floor_samples_ms"]) for c in colds.values())},
        "issue_32": {
            "bar": ISSUE_32_BAR,
            "measured": len(goal),
            **{
                f"met_{key}": goal_met(entry[key] for entry in goal)
                for key in ("ratio", "paired_ratio", "pooled_ratio")
            },
        },
    }
