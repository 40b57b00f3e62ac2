"""parliament (duo-labs' IAM linter, independent of our own IAM checks) over every policy document the deployment
renders (infra/iam/policies.json): identity policies, and the trust, key and queue policies as resource policies.
Each finding must be allowlisted with its reason (infra/iam/parliament_allowlist.toml), and each allowlist entry
must still occur, so the list cannot go stale."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PARLIAMENT_PEX = Path("3rdparty.python/parliament_pex.pex")  # built by Pants (runtime_package_dependencies)
POLICIES = Path("infra/iam/policies.json")  # rendered from an apply on moto (test_apply_on_moto.py)
ALLOWLIST = Path("infra/iam/parliament_allowlist.toml")
REGENERATE = "IAM_POLICIES_WRITE=$PWD/infra/iam/policies.json ./pants test tests/infra/test_apply_on_moto.py"

# Proves each parliament run read our files and reported: an action IAM does not have.
CANARY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:NoSuchAction", "Resource": "*"}]}


@dataclass(frozen=True)
class Document:
    name: str  # roles/<role>/inline/<policy>, roles/<role>/trust, key_policies/<alias>, …
    kind: str  # identity, trust or resource
    policy: dict[str, Any]

    @property
    def statements(self) -> list[dict[str, Any]]:
        statements = self.policy["Statement"]
        return statements if isinstance(statements, list) else [statements]


@dataclass(frozen=True)
class Finding:
    document: str
    issue: str
    severity: str
    statement: str | None  # the Sid (or #n) of a statement-level finding
    detail: str

    def __str__(self) -> str:
        where = f"{self.document} {self.statement}" if self.statement else self.document
        return f"{self.severity} {self.issue} in {where}: {self.detail}"


def role_as_resource_policy(trust: dict[str, Any], role_arn: str) -> dict[str, Any]:
    """A trust policy is the role's resource policy, written without Resource; parliament requires one (else
    MALFORMED), so each statement gets the role it governs. Principals, actions and conditions are then checked."""
    statements = trust["Statement"] if isinstance(trust["Statement"], list) else [trust["Statement"]]
    return {**trust, "Statement": [{**s, "Resource": role_arn} for s in statements]}


def documents(rendered: dict[str, Any]) -> list[Document]:
    found = []
    for role, described in sorted(rendered["roles"].items()):
        for kind in ("inline", "attached"):
            found += [
                Document(f"roles/{role}/{kind}/{name}", "identity", policy)
                for name, policy in sorted(described[kind].items())
            ]
        role_arn = f"arn:aws:iam::{rendered['account']}:role/{role}"
        found.append(Document(f"roles/{role}/trust", "trust", role_as_resource_policy(described["trust"], role_arn)))
    # key_policies, queue_policies, and any other resource policies the generator comes to record.
    for section, policies in sorted(rendered.items()):
        if section.endswith("_policies"):
            found += [Document(f"{section}/{name}", "resource", policy) for name, policy in sorted(policies.items())]
    return found


def statement_per_line(document: Document) -> str:
    """The policy with statement i alone on line i + 2, so a finding's line names its statement."""
    head = json.dumps({k: v for k, v in document.policy.items() if k != "Statement"})[:-1]
    statements = ",\n".join(json.dumps(s) for s in document.statements)
    return head + (", " if head != "{" else "") + '"Statement": [\n' + statements + "\n]}\n"


def run_parliament(docs: list[Document], directory: Path, community: bool) -> list[Finding]:
    """One parliament run over a directory holding each document as <index>.json, plus the canary."""
    directory.mkdir()
    canary = Document("canary", "identity", CANARY)
    for index, document in enumerate([*docs, canary]):
        (directory / f"{index}.json").write_text(statement_per_line(document))
    result = subprocess.run(
        [
            sys.executable,
            str(PARLIAMENT_PEX),
            "--directory",
            str(directory),
            "--include_policy_extension",
            ".json",
            "--json",
            "--minimum_severity",
            "INFO",
            *(["--include-community-auditors"] if community else []),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # Exit status 1 means findings, but an uncaught exception exits 1 too. (parliament 1.6.4's CLI also writes
    # /tmp/parliament.log, a debugging leftover: harmless.)
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    findings = []
    for line in result.stdout.splitlines():
        reported = json.loads(line)
        location = dict(reported["location"])
        document = [*docs, canary][int(Path(location.pop("filepath")).stem)]
        line_number = location.pop("line", None)
        location.pop("column", None)
        statement = None
        if line_number is not None and 0 <= line_number - 2 < len(document.statements):
            statement = document.statements[line_number - 2].get("Sid", f"#{line_number - 1}")
        detail = json.dumps({k: v for k, v in {"detail": reported["detail"], **location}.items() if v})
        findings.append(Finding(document.name, reported["issue"], reported["severity"], statement, detail))
    assert any(
        f.document == "canary" and f.issue == "UNKNOWN_ACTION" for f in findings
    ), f"parliament reported nothing for the canary: did it read {directory}?\n{result.stdout}{result.stderr}"
    return sorted((f for f in findings if f.document != "canary"), key=str)


@dataclass(frozen=True)
class Allowed:
    issue: str
    document: str  # a regex over the whole document name
    statement: str | None  # a regex over the whole Sid, when given
    match: str | None  # a regex searched in the finding's detail, when given
    reason: str

    def allows(self, finding: Finding) -> bool:
        return (
            finding.issue == self.issue
            and re.fullmatch(self.document, finding.document) is not None
            and (self.statement is None or re.fullmatch(self.statement, finding.statement or "") is not None)
            and (self.match is None or re.search(self.match, finding.detail) is not None)
        )


def allowlist() -> list[Allowed]:
    entries = tomllib.loads(ALLOWLIST.read_text()).get("allow", [])
    allowed = [Allowed(e["issue"], e["document"], e.get("statement"), e.get("match"), e["reason"]) for e in entries]
    unexplained = [a for a in allowed if len(a.reason.split()) < 6]
    assert unexplained == [], f"each allowlist entry says why, in a sentence: {unexplained}"
    return allowed


def test_parliament_finds_nothing_beyond_the_explained_allowlist(tmp_path: Path) -> None:
    if not POLICIES.exists():
        pytest.fail(
            f"{POLICIES} is missing: the IAM lint reads the policies a Terraform apply renders. "
            f"Generate it with `{REGENERATE}` and commit it."
        )
    rendered = json.loads(POLICIES.read_text())
    docs = documents(rendered)
    counts = {kind: sum(d.kind == kind for d in docs) for kind in ("identity", "trust", "resource")}
    assert all(counts.values()), f"{POLICIES} lacks a kind of policy: {counts}"
    # Community auditors (privilege escalation, credentials exposure, permissions management…) read a policy as
    # a grant to its principal; a trust policy grants sts:AssumeRole by design, so it gets the core checks only.
    findings = run_parliament([d for d in docs if d.kind != "trust"], tmp_path / "community", community=True)
    findings += run_parliament([d for d in docs if d.kind == "trust"], tmp_path / "core", community=False)
    allowed = allowlist()
    unexpected = [f for f in findings if not any(a.allows(f) for a in allowed)]
    explained = {a: [f for f in findings if a.allows(f)] for a in allowed}
    print(
        f"parliament: {len(docs)} documents linted ({counts['identity']} identity, {counts['trust']} trust, "
        f"{counts['resource']} resource), {len(findings)} findings, "
        f"{len(findings) - len(unexpected)} allowlisted"
    )
    for entry, matched in explained.items():
        print(f"  {len(matched)} x {entry.issue} in {entry.document}: {entry.reason}")
    assert unexpected == [], "parliament findings not in the allowlist (fix the policy in Terraform):\n" + "\n".join(
        map(str, unexpected)
    )
    stale = [a for a, matched in explained.items() if not matched]
    assert stale == [], "allowlist entries that no longer occur (remove them):\n" + "\n".join(map(str, stale))
