"""Terraform: formatted, every root valid, every module's and the platform's `terraform test` (mock
provider) passing, and IAM policies granting no wildcard actions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.terraform_cli import run_terraform

TERRAFORM_DIR = Path("infra/terraform")
ROOTS = [TERRAFORM_DIR / "platform", *sorted((TERRAFORM_DIR / "services").glob("*/"))]
MODULES = sorted(p for p in (TERRAFORM_DIR / "modules").iterdir() if p.is_dir())
# The platform root's own tests check what it refuses as input (principals, merchant ids).
TESTED = [*MODULES, TERRAFORM_DIR / "platform"]


def init(directory: Path) -> None:
    result = run_terraform(["init", "-backend=false", "-input=false", "-no-color"], directory)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_terraform_is_formatted() -> None:
    result = run_terraform(["fmt", "-check", "-recursive", "-no-color"], TERRAFORM_DIR)
    assert result.returncode == 0, f"run terraform fmt -recursive infra/terraform:\n{result.stdout}"


@pytest.mark.parametrize("root", ROOTS, ids=[str(r) for r in ROOTS])
def test_every_root_validates(root: Path) -> None:
    init(root)
    result = run_terraform(["validate", "-no-color"], root)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("module", TESTED, ids=[m.name for m in TESTED])
def test_every_module_and_the_platform_pass_their_terraform_tests(module: Path) -> None:
    assert list(module.glob("tests/*.tftest.hcl")), f"{module} has no terraform test"
    init(module)
    result = run_terraform(["test", "-no-color"], module)
    assert result.returncode == 0 and "0 failed" in result.stdout, result.stdout[-3000:] + result.stderr[-2000:]


def allowed_wildcard(block: str, action: str, deny: bool = False) -> bool:
    # KMS "family" actions (GenerateDataKey*, ReEncrypt*, Describe*) are how AWS documents key grants for
    # services; "kms:*" is allowed only in a key policy (documents named *key_policy), where the account
    # administers that one key and use is granted by IAM. A Deny statement grants nothing: its wildcard
    # (e.g. "s3:*" refused without TLS) only widens the refusal.
    if deny:
        return True
    if action.startswith(("kms:GenerateDataKey", "kms:ReEncrypt", "kms:Describe")):
        return True
    return action == "kms:*" and block.endswith("key_policy")


def enclosing_block(text: str, position: int) -> str:
    blocks = re.findall(r'^(?:data|resource) "[^"]+" "([^"]+)"', text[:position], flags=re.MULTILINE)
    return blocks[-1] if blocks else ""


def in_deny_statement(text: str, position: int) -> bool:
    """Whether the statement around position says effect = "Deny" before its actions."""
    start = max(text.rfind("statement {", 0, position), text.rfind("content {", 0, position))
    return start != -1 and re.search(r'effect\s*=\s*"Deny"', text[start:position]) is not None


def test_no_iam_statement_grants_a_wildcard_action() -> None:
    offenders = []
    for path in TERRAFORM_DIR.rglob("*.tf"):
        text = path.read_text()
        for match in re.finditer(r"actions\s*=\s*\[([^\]]*)\]", text):
            block = enclosing_block(text, match.start())
            actions = re.findall(r'"([^"]+)"', match.group(1))
            deny = in_deny_statement(text, match.start())
            offenders += [f"{path} {block}: {a}" for a in actions if "*" in a and not allowed_wildcard(block, a, deny)]
    assert offenders == []


def test_the_wildcard_check_catches_a_function_policy_with_kms_star() -> None:
    text = 'data "aws_iam_policy_document" "this" {\n  statement {\n    actions = ["kms:*"]\n'
    block = enclosing_block(text, text.index("actions"))
    assert block == "this" and not allowed_wildcard(block, "kms:*")


def test_the_wildcard_check_lets_a_deny_through_but_not_an_allow() -> None:
    deny = 'data "aws_iam_policy_document" "tls_only" {\n  statement {\n    effect = "Deny"\n    actions = ["s3:*"]\n'
    allow = 'data "aws_iam_policy_document" "bucket" {\n  statement {\n    actions = ["s3:*"]\n'
    assert in_deny_statement(deny, deny.index("actions")) and allowed_wildcard("tls_only", "s3:*", deny=True)
    assert not in_deny_statement(allow, allow.index("actions")) and not allowed_wildcard("bucket", "s3:*")


def test_no_deployed_function_allows_loopback_webhook_targets() -> None:
    """WEBHOOK_TARGETS_ALLOW_LOOPBACK=1 lets a webhook target be 127.0.0.1 (the local run's receivers): a deployed
    function with it could be pointed at its own host's services (SSRF). No Terraform file sets it."""
    setting = re.compile(r"WEBHOOK_TARGETS_ALLOW_LOOPBACK\s*=")
    assert [str(tf) for tf in TERRAFORM_DIR.rglob("*.tf") if setting.search(tf.read_text())] == []
    assert setting.search('environment = { WEBHOOK_TARGETS_ALLOW_LOOPBACK = "1" }')  # the check bites
