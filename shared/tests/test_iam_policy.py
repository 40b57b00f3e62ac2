"""The IAM policy evaluator against AWS's documented evaluation logic and examples.

Each test names the page it encodes: AWS IAM User Guide pages unless marked "KMS" (AWS KMS Developer Guide).
Examples are AWS's own where the page gives one, with our account, roles and resources substituted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments_testing.iam.policy import (
    ContextValue,
    Decision,
    Outcome,
    Request,
    evaluate,
    matching_statements,
)

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
FINALIZER = f"arn:aws:iam::{ACCOUNT}:role/finalizer-role"
INITIALIZER = f"arn:aws:iam::{ACCOUNT}:role/initializer-api-role"
TABLE = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/ShowMeTheMoney"
QUEUE = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:ledger-events"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

ALLOWED, IMPLICIT, EXPLICIT = Outcome.ALLOWED, Outcome.IMPLICIT_DENY, Outcome.EXPLICIT_DENY


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str | list[str] = "*", resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str] = "*", resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def grant(principal: str | list[str], action: str, sid: str, **extra: Any) -> dict[str, Any]:
    """A resource-policy Allow for an AWS principal (no Resource: the resource the policy is attached to)."""
    return {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, **extra}


def request(
    action: str, resource: str = TABLE, principal: str = FINALIZER, context: Mapping[str, ContextValue] | None = None
) -> Request:
    return Request(principal, action, resource, context or {})


def outcome(
    req: Request, *identity: dict[str, Any], resource_policy: dict[str, Any] | None = None, kms: bool = False
) -> Outcome:
    return evaluate(req, list(identity), resource_policy, kms_key_policy=kms).outcome


# --- Policy evaluation logic ------------------------------------------------------------------------------------


def test_no_applicable_allow_is_an_implicit_deny() -> None:
    """ "The difference between explicit and implicit denies": with no applicable Allow (and no Deny) a principal is
    denied by default, an implicit deny that names no statement."""
    assert evaluate(request("dynamodb:PutItem"), []) == Decision(IMPLICIT, ())
    assert not evaluate(request("dynamodb:PutItem"), [policy(allow("dynamodb:GetItem", TABLE))]).allowed


# AWS's example policy on that page, as written.
GET_LIST_NO_REPORTS = policy(
    {"Sid": "AllowGetList", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
    {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report", "Resource": "*"},
)


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("iam:GetRole", Decision(ALLOWED, ("AllowGetList",))),
        ("iam:ListRoles", Decision(ALLOWED, ("AllowGetList",))),
        ("iam:CreatePolicy", Decision(IMPLICIT, ())),
        ("iam:GetOrganizationsAccessReport", Decision(EXPLICIT, ("DenyReports",))),
    ],
)
def test_allowed_implicitly_and_explicitly_denied_actions(action: str, expected: Decision) -> None:
    """ "The difference between explicit and implicit denies", its AllowGetList/DenyReports example: Get*/List* are
    allowed, iam:CreatePolicy is implicitly denied, iam:GetOrganizationsAccessReport explicitly denied."""
    assert evaluate(request(action, f"arn:aws:iam::{ACCOUNT}:role/x"), [GET_LIST_NO_REPORTS]) == expected


def test_an_explicit_deny_overrides_an_allow_in_another_policy() -> None:
    """Same page: "If someone adds another policy to this principal to grant them access to IAM reports, such as
    iam:GenerateCredentialReport, report-related requests are still denied because of this explicit deny"."""
    reports = policy({"Sid": "GrantReports", **allow("iam:GenerateCredentialReport")})
    generate = request("iam:GenerateCredentialReport", "*")
    assert evaluate(generate, [reports]) == Decision(ALLOWED, ("GrantReports",))
    assert evaluate(generate, [reports, GET_LIST_NO_REPORTS]) == Decision(EXPLICIT, ("DenyReports",))


CARLOS = f"arn:aws:iam::{ACCOUNT}:user/carlossalazar"
CARLOS_POLICY = policy(  # AWS's identity policy for the user carlossalazar, as written
    {
        "Sid": "AllowS3ListRead",
        "Effect": "Allow",
        "Action": [
            "s3:GetBucketLocation",
            "s3:GetAccountPublicAccessBlock",
            "s3:ListAccessPoints",
            "s3:ListAllMyBuckets",
        ],
        "Resource": "arn:aws:s3:::*",
    },
    {
        "Sid": "AllowS3Self",
        "Effect": "Allow",
        "Action": "s3:*",
        "Resource": [
            "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/*",
            "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar",
        ],
    },
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"},
)


def test_a_deny_in_the_identity_policy_beats_a_bucket_policy_allow() -> None:
    """ "Policy evaluation for requests within a single account", the carlossalazar example: his identity policy denies
    buckets with "log" in the name, so a bucket policy allowing him the logs bucket does not help; his own bucket is
    allowed by AllowS3Self. (The bucket policy here is a one-statement stand-in for the page's.)"""
    logs = "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs"
    bucket_policy = policy(grant(CARLOS, "s3:*", "AllowCarlos", Resource=f"{logs}/*"))
    put_log = request("s3:PutObject", f"{logs}/file.txt", CARLOS)
    assert evaluate(put_log, [CARLOS_POLICY], bucket_policy) == Decision(EXPLICIT, ("DenyS3Logs",))
    own = request("s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/file.txt", CARLOS)
    assert evaluate(own, [CARLOS_POLICY]) == Decision(ALLOWED, ("AllowS3Self",))


def test_within_one_account_an_identity_or_a_resource_policy_allow_suffices() -> None:
    """ "Policy evaluation logic" (evaluating identity-based policies with resource-based policies): "If an action is
    allowed by an identity-based policy, a resource-based policy, or both, then AWS allows the action"."""
    send = request("sqs:SendMessage", QUEUE)
    queue_policy = policy(grant(FINALIZER, "sqs:*", "Queue"))
    identity = policy({"Sid": "Identity", **allow("sqs:SendMessage", QUEUE)})
    assert evaluate(send, [identity]) == Decision(ALLOWED, ("Identity",))
    assert evaluate(send, [], queue_policy) == Decision(ALLOWED, ("Queue",))
    assert evaluate(send, [identity], queue_policy) == Decision(ALLOWED, ("Identity", "Queue"))


# --- SQS queue policies -----------------------------------------------------------------------------------------


def test_a_queue_policy_allows_a_role_by_its_arn_without_any_identity_policy() -> None:
    """ "Determining whether a request is allowed or denied within an account": "For most resources, you only need an
    explicit allow for the principal in either an identity-based policy or a resource-based policy". The action is
    case-insensitive: AWS's own SQS queue policy example (condition operators page) writes "SQS:SendMessage"."""
    queue_policy = policy(grant([INITIALIZER, FINALIZER], "SQS:SendMessage", "RelaySends"))
    assert evaluate(request("sqs:SendMessage", QUEUE), [], queue_policy) == Decision(ALLOWED, ("RelaySends",))
    assert outcome(request("sqs:DeleteMessage", QUEUE), resource_policy=queue_policy) is IMPLICIT


@pytest.mark.parametrize("account", [ROOT, ACCOUNT])
def test_a_queue_policy_naming_the_account_delegates_to_identity_policies(account: str) -> None:
    """Same page: the principal in a resource policy decides whether it grants by itself; naming the account
    (its root ARN, or the bare id as in AWS's SQS example) lets the account's identity policies decide."""
    queue_policy = policy(grant(account, "sqs:*", "Account"))
    send = request("sqs:SendMessage", QUEUE)
    assert outcome(send, resource_policy=queue_policy) is IMPLICIT
    iam = policy({"Sid": "Iam", **allow("sqs:*", QUEUE)})
    assert evaluate(send, [iam], queue_policy) == Decision(ALLOWED, ("Iam",))


def test_a_service_principal_never_matches_a_roles_request() -> None:
    """ "IAM JSON policy elements: Condition operators", its SNS-to-SQS example: a statement for a service principal
    grants that service, not a role calling the same action."""
    queue_policy = policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": QUEUE,
            "Condition": {"ArnEquals": {"aws:SourceArn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:topic"}},
        }
    )
    assert outcome(request("sqs:SendMessage", QUEUE), resource_policy=queue_policy) is IMPLICIT


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": [ROOT]}, {"AWS": FINALIZER}])
def test_a_queue_policy_deny_overrides_an_identity_allow(principal: Any) -> None:
    """ "Policy evaluation logic": "An explicit deny in either of these policies overrides the allow" -- a Deny for
    everyone, for the account or for the role itself."""
    queue_policy = policy({"Sid": "NoPurge", "Effect": "Deny", "Principal": principal, "Action": "sqs:PurgeQueue"})
    purge = request("sqs:PurgeQueue", QUEUE)
    assert evaluate(purge, [policy(allow("sqs:*"))], queue_policy) == Decision(EXPLICIT, ("NoPurge",))


def test_not_principal_deny_spares_only_a_role_named_with_its_account() -> None:
    """ "AWS JSON policy elements: NotPrincipal": a Deny applies to every principal except those named, and the role's
    account must be named with the role, or the account (and so the role) may be denied."""

    def deny_all_but(*names: str) -> dict[str, Any]:
        return policy({"Effect": "Deny", "NotPrincipal": {"AWS": list(names)}, "Action": "sqs:*"})

    send = request("sqs:SendMessage", QUEUE)
    identity = policy(allow("sqs:*", QUEUE))
    assert outcome(send, identity, resource_policy=deny_all_but(FINALIZER, ROOT)) is ALLOWED
    assert outcome(send, identity, resource_policy=deny_all_but(FINALIZER)) is EXPLICIT
    assert outcome(send, identity, resource_policy=deny_all_but(INITIALIZER, ROOT)) is EXPLICIT


# --- KMS key policies -------------------------------------------------------------------------------------------

ENABLE_IAM = {  # KMS "Default key policy": "Allows access to the AWS account and enables IAM policies"
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": ROOT},
    "Action": "kms:*",
    "Resource": "*",
}
FINALIZER_KMS = policy({"Sid": "OpenCardData", **allow("kms:Decrypt", KEY)})


def card_data_key_policy() -> dict[str, Any]:
    """The shape Terraform renders for infra/terraform/platform/card_data_key.tf: the account administers the key,
    and explicit denies say who may seal and open card data, and for which context."""

    def deny_unless(sid: str, actions: list[str], condition: dict[str, Any]) -> dict[str, Any]:
        return {"Sid": sid, "Principal": {"AWS": "*"}, **deny(actions), "Condition": condition}

    return policy(
        {**ENABLE_IAM, "Sid": "AccountAdministers"},
        deny_unless(
            "OnlyTheFinalizerOpensCardData",
            ["kms:Decrypt", "kms:ReEncryptFrom", "kms:CreateGrant"],
            {"ArnNotEquals": {"aws:PrincipalArn": FINALIZER}},
        ),
        deny_unless(
            "OnlyTheInitializerSealsCardData",
            ["kms:GenerateDataKey*", "kms:Encrypt", "kms:ReEncryptTo"],
            {"ArnNotEquals": {"aws:PrincipalArn": INITIALIZER}},
        ),
        deny_unless(
            "CardDataContextOnly",
            ["kms:Decrypt", "kms:Encrypt"],
            {"StringNotEquals": {"kms:EncryptionContext:purpose": "payments-card-data"}},
        ),
        deny_unless(
            "CardDataPerOrderOnly",
            ["kms:Decrypt", "kms:Encrypt"],
            {"Null": {"kms:EncryptionContext:payment_order_id": "true"}},
        ),
    )


CARD_CONTEXT: dict[str, ContextValue] = {
    "kms:EncryptionContext:purpose": "payments-card-data",
    "kms:EncryptionContext:payment_order_id": "po_123",
    "kms:EncryptionContextKeys": ("payment_order_id", "purpose"),
}


def test_the_key_policy_enables_iam_policies_for_the_account() -> None:
    """KMS "Default key policy": the statement naming the account root "gives the AWS account that owns the KMS key
    permission to use IAM policies to allow access"; with it, the role's IAM policy allows Decrypt."""
    decrypt = request("kms:Decrypt", KEY, FINALIZER, CARD_CONTEXT)
    assert evaluate(decrypt, [FINALIZER_KMS], card_data_key_policy(), kms_key_policy=True) == Decision(
        ALLOWED, ("AccountAdministers", "OpenCardData")
    )
    # The account statement delegates; it allows nothing by itself.
    assert outcome(decrypt, resource_policy=card_data_key_policy(), kms=True) is IMPLICIT


def test_a_key_policy_deny_on_principal_arn_overrides_an_identity_allow() -> None:
    """KMS "Key policies in AWS KMS": no principal has access unless "explicitly allowed, and never denied"; with
    "IAM JSON policy elements: Condition operators" (ArnNotEquals is true for every other role). The initializer's
    kms:* IAM grant cannot open card data."""
    decrypt = request("kms:Decrypt", KEY, INITIALIZER, CARD_CONTEXT)
    everything = policy(allow("kms:*", KEY))
    assert evaluate(decrypt, [everything], card_data_key_policy(), kms_key_policy=True) == Decision(
        EXPLICIT, ("OnlyTheFinalizerOpensCardData",)
    )


@pytest.mark.parametrize(
    ("missing", "sid"),
    [
        ("kms:EncryptionContext:purpose", "CardDataContextOnly"),
        ("kms:EncryptionContext:payment_order_id", "CardDataPerOrderOnly"),
    ],
)
def test_card_data_needs_its_encryption_context(missing: str, sid: str) -> None:
    """ "IAM JSON policy elements: Condition operators": a missing key makes StringNotEquals true ("If the policy
    condition requires that the key is not matched ... and the right key is not present, the condition is true"), and
    Null "true" matches an absent key; so either deny applies to a call without that context entry."""
    context = {k: v for k, v in CARD_CONTEXT.items() if k != missing}
    decrypt = request("kms:Decrypt", KEY, FINALIZER, context)
    assert evaluate(decrypt, [FINALIZER_KMS], card_data_key_policy(), kms_key_policy=True) == Decision(EXPLICIT, (sid,))


def test_without_the_account_statement_iam_policies_do_not_allow_a_key() -> None:
    """KMS "Key policies in AWS KMS": "Unless the key policy explicitly allows it, you cannot use IAM policies to allow
    access to a KMS key. Without permission from the key policy, IAM policies that allow permissions have no effect."
    The same policies on an ordinary resource (an SQS queue) would allow."""
    key_policy = policy(grant(INITIALIZER, "kms:*", "Admins"))
    decrypt = request("kms:Decrypt", KEY, FINALIZER)
    assert evaluate(decrypt, [FINALIZER_KMS], key_policy, kms_key_policy=True) == Decision(IMPLICIT, ())
    assert outcome(decrypt, FINALIZER_KMS, resource_policy=key_policy) is ALLOWED


def test_a_key_policy_can_allow_a_role_directly() -> None:
    """KMS "Key policies in AWS KMS": the key policy's statements "determine who has permission to use the KMS key";
    one naming the role allows it with no IAM policy at all."""
    key_policy = policy(grant(FINALIZER, "kms:Decrypt", "Finalizer"))
    decision = evaluate(request("kms:Decrypt", KEY), [], key_policy, kms_key_policy=True)
    assert decision == Decision(ALLOWED, ("Finalizer",))


def test_an_iam_deny_needs_no_key_policy_permission() -> None:
    """KMS "Key policies in AWS KMS": "You can use an IAM policy to deny a permission to a KMS key without permission
    from a key policy"."""
    key_policy = policy(grant(FINALIZER, "kms:*", "Finalizer"))
    no_decrypt = policy({"Sid": "NoDecrypt", **deny("kms:Decrypt")})
    assert evaluate(request("kms:Decrypt", KEY), [no_decrypt], key_policy, kms_key_policy=True) == Decision(
        EXPLICIT, ("NoDecrypt",)
    )


# --- Action, Resource, NotAction, NotResource -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        ("dynamodb:*", True),
        ("dynamodb:Put*", True),
        ("dynamodb:?utItem", True),
        ("DynamoDB:putitem", True),  # action names are case-insensitive
        ("dynamodb:Get*", False),
        ("dynamodb:PutItem?", False),
        ("s3:*", False),
    ],
)
def test_action_wildcards(pattern: str, matches: bool) -> None:
    """ "IAM JSON policy elements: Action": * matches any run of characters, ? one, and names are case-insensitive
    (the "iam:Get*" examples on "The difference between explicit and implicit denies")."""
    assert outcome(request("dynamodb:PutItem"), policy(allow(pattern, TABLE))) is (ALLOWED if matches else IMPLICIT)


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        (TABLE, True),
        (f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/ShowMe*", True),
        (f"arn:aws:dynamodb:*:{ACCOUNT}:table/*", True),
        (f"arn:aws:dynamodb:eu-west-?:{ACCOUNT}:table/ShowMeTheMoney", True),
        (f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/showmethemoney", False),  # resources are case-sensitive
        (f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/ShowMeTheMoney/*", False),
        ("*", True),
    ],
)
def test_resource_wildcards(pattern: str, matches: bool) -> None:
    """ "IAM JSON policy elements: Resource": wildcards (* and ?) "within any ARN segment"; ARNs are compared
    case-sensitively."""
    expected = ALLOWED if matches else IMPLICIT
    assert outcome(request("dynamodb:PutItem"), policy(allow("dynamodb:*", pattern))) is expected


def test_a_resource_wildcard_covers_the_colons_of_a_resource_id_but_no_other_segment() -> None:
    """ "IAM JSON policy elements: Resource" and the ARN operators' rule that each of the six colon-delimited parts
    is matched separately: the last part (the resource id) may itself hold colons."""
    stream = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/finalizer:log-stream:2024/01/01"
    put = request("logs:PutLogEvents", stream)
    assert outcome(put, policy(allow("logs:*", f"arn:aws:logs:*:{ACCOUNT}:log-group:*"))) is ALLOWED
    assert outcome(put, policy(allow("logs:*", "arn:aws:logs:*:log-group:*"))) is IMPLICIT


def test_brackets_are_literal_in_iam_wildcards() -> None:
    """IAM wildcards are only * and ? ("IAM JSON policy elements: Resource"); "[" is literal, unlike fnmatch."""
    bracketed = policy(allow("s3:*", "arn:aws:s3:::bucket/[a]"))
    assert outcome(request("s3:GetObject", "arn:aws:s3:::bucket/[a]"), bracketed) is ALLOWED
    assert outcome(request("s3:GetObject", "arn:aws:s3:::bucket/a"), bracketed) is IMPLICIT


def test_not_action_allows_everything_but_the_listed_actions() -> None:
    """ "IAM JSON policy elements: NotAction": an Allow with NotAction grants every action except those listed (AWS's
    example allows everything but IAM)."""
    everything_but_iam = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert outcome(request("dynamodb:PutItem"), everything_but_iam) is ALLOWED
    assert outcome(request("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x"), everything_but_iam) is IMPLICIT


def test_not_action_deny_with_bool_if_exists() -> None:
    """Same page, "NotAction with Deny", AWS's DenyAllUsersNotUsingMFA: non-IAM actions are denied unless signed in
    with MFA; BoolIfExists also denies when aws:MultiFactorAuthPresent is absent (long-term access keys); IAM actions
    are not denied by it."""
    deny_without_mfa = policy(
        {
            "Sid": "DenyAllUsersNotUsingMFA",
            "Effect": "Deny",
            "NotAction": "iam:*",
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        }
    )
    everything = policy(allow())
    with_mfa: dict[str, ContextValue] = {"aws:MultiFactorAuthPresent": "true"}
    assert outcome(request("dynamodb:PutItem"), everything, deny_without_mfa) is EXPLICIT
    without_mfa: dict[str, ContextValue] = {"aws:MultiFactorAuthPresent": "false"}
    assert outcome(request("dynamodb:PutItem", context=without_mfa), everything, deny_without_mfa) is EXPLICIT
    assert outcome(request("dynamodb:PutItem", context=with_mfa), everything, deny_without_mfa) is ALLOWED
    assert outcome(request("iam:ListRoles", "*"), everything, deny_without_mfa) is ALLOWED


def test_not_resource_deny_covers_every_other_resource() -> None:
    """ "IAM JSON policy elements: NotResource", AWS's HRPayroll example: a Deny of s3:* with NotResource denies every
    S3 resource but the Payroll folder; an Allow is still needed for the folder itself."""
    payroll = ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]
    payroll_only = policy(allow("s3:*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": payroll})
    assert outcome(request("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/2024.csv"), payroll_only) is ALLOWED
    assert outcome(request("s3:GetObject", "arn:aws:s3:::HRBucket/Other/x"), payroll_only) is EXPLICIT
    assert outcome(request("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/2024.csv")) is IMPLICIT


def test_statement_ids_default_to_their_index() -> None:
    """Our report format: a statement without a Sid is named by its position, "#<index>"."""
    two = policy(allow("sqs:*"), allow("dynamodb:*"))
    assert evaluate(request("dynamodb:PutItem"), [two]) == Decision(ALLOWED, ("#1",))
    assert matching_statements(two, request("dynamodb:PutItem"), "Allow", resource_policy=False) == ["#1"]


# --- Conditions -------------------------------------------------------------------------------------------------


def conditioned(condition: dict[str, Any], effect: str = "Allow") -> dict[str, Any]:
    return policy({"Sid": "C", "Effect": effect, "Action": "*", "Resource": "*", "Condition": condition})


def holds(condition: dict[str, Any], context: Mapping[str, ContextValue]) -> bool:
    return outcome(request("dynamodb:PutItem", context=context), conditioned(condition)) is ALLOWED


@pytest.mark.parametrize(
    ("operator", "missing_key_holds"),
    [
        ("StringEquals", False),
        ("StringLike", False),
        ("ArnLike", False),
        ("Bool", False),
        ("NumericLessThan", False),
        ("StringNotEquals", True),
        ("StringNotEqualsIgnoreCase", True),
        ("StringNotLike", True),
        ("ArnNotEquals", True),
        ("ArnNotLike", True),
        ("NumericNotEquals", True),
    ],
)
def test_a_missing_key_fails_a_condition_unless_the_operator_is_negated(operator: str, missing_key_holds: bool) -> None:
    """ "IAM JSON policy elements: Condition operators": "If the key that you specify in a policy condition is not
    present in the request context, the values do not match and the condition is false. If the policy condition
    requires that the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the
    condition is true.\" """
    assert holds({operator: {"test:absent": "1"}}, {}) is missing_key_holds


def test_values_of_one_key_or_together_and_negated_values_nor() -> None:
    """ "Conditions with multiple context keys or values": several values for a key are ORed; for a negated operator
    they are NORed (the request value must match none)."""
    assert holds({"StringEquals": {"test:stage": ["live", "test"]}}, {"test:stage": "test"})
    assert not holds({"StringEquals": {"test:stage": ["live", "test"]}}, {"test:stage": "dev"})
    assert not holds({"StringNotEquals": {"test:stage": ["live", "test"]}}, {"test:stage": "test"})
    assert holds({"StringNotEquals": {"test:stage": ["live", "test"]}}, {"test:stage": "dev"})


def test_operators_and_keys_and_together() -> None:
    """ "Conditions with multiple context keys or values": several operators are ANDed, and so are several keys under
    one operator (AWS's example pairs StringEquals on principal tags with ArnLike on aws:PrincipalArn)."""
    condition = {
        "StringEquals": {"aws:PrincipalTag/department": "payments", "aws:PrincipalTag/role": ["audit", "ops"]},
        "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"},
    }
    tags: dict[str, ContextValue] = {"aws:PrincipalTag/department": "payments", "aws:PrincipalTag/role": "ops"}
    assert holds(condition, tags)
    assert not holds(condition, {**tags, "aws:PrincipalTag/role": "dev"})
    assert not holds(condition, {"aws:PrincipalTag/department": "payments"})
    other_account = {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::999999999999:role/*"}}
    assert not holds({**condition, **other_account}, tags)


def test_condition_key_names_are_case_insensitive_values_are_not() -> None:
    """ "IAM JSON policy elements: Condition": condition key names are not case-sensitive; StringEquals compares
    values case-sensitively, StringEqualsIgnoreCase not ("IAM JSON policy elements: Condition operators")."""
    assert holds({"StringEquals": {"AWS:PRINCIPALARN": FINALIZER}}, {})
    assert holds({"StringEquals": {"Test:Stage": "live"}}, {"test:stage": "live"})
    assert not holds({"StringEquals": {"test:stage": "LIVE"}}, {"test:stage": "live"})
    assert holds({"StringEqualsIgnoreCase": {"test:stage": "LIVE"}}, {"test:stage": "live"})


INSTANCE_TYPES = ["t1.*", "t2.*", "m3.*"]


@pytest.mark.parametrize(
    ("context", "with_if_exists", "without"),
    [
        ({"ec2:InstanceType": "t2.micro"}, True, True),
        ({"ec2:InstanceType": "m5.large"}, False, False),
        ({}, True, False),  # an image, key pair or security group: the key is absent
    ],
)
def test_if_exists_lets_a_missing_key_pass(
    context: dict[str, ContextValue], with_if_exists: bool, without: bool
) -> None:
    """ "IAM JSON policy elements: Condition operators", ...IfExists, AWS's ec2:RunInstances example: StringLike on
    ec2:InstanceType fails for the resources without that key ("THISPOLICYDOESNOTWORK"); StringLikeIfExists passes
    them and still checks the instance type where the key is present."""
    assert holds({"StringLikeIfExists": {"ec2:InstanceType": INSTANCE_TYPES}}, context) is with_if_exists
    assert holds({"StringLike": {"ec2:InstanceType": INSTANCE_TYPES}}, context) is without


def test_negated_if_exists_deny_still_denies_a_missing_key() -> None:
    """Same section: "If you are using an "Effect": "Deny" element with a negated condition operator like
    StringNotEqualsIfExists, the request is still denied even if the tag is missing"."""
    deny_other_teams = conditioned({"StringNotEqualsIfExists": {"aws:ResourceTag/team": "payments"}}, "Deny")
    assert outcome(request("dynamodb:PutItem"), policy(allow()), deny_other_teams) is EXPLICIT


def test_null_checks_whether_a_key_is_present() -> None:
    """ "IAM JSON policy elements: Condition operators", Null: "true" means the key does not exist, "false" that it
    exists; AWS's example allows EC2 only without temporary credentials (no aws:TokenIssueTime)."""
    temporary: dict[str, ContextValue] = {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}
    assert holds({"Null": {"aws:TokenIssueTime": "true"}}, {})
    assert not holds({"Null": {"aws:TokenIssueTime": "true"}}, temporary)
    assert holds({"Null": {"aws:TokenIssueTime": False}}, temporary)
    assert not holds({"Null": {"aws:TokenIssueTime": "false"}}, {})


def test_arn_like_matches_each_arn_part_separately() -> None:
    """ "IAM JSON policy elements: Condition operators", ARN operators, AWS's example: the pattern
    arn:aws:someservice:*:111122223333:finance/* matches the value below with StringLike (the * spans colons) but not
    with ArnLike, which matches the six colon-delimited parts one by one."""
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
    assert holds({"StringLike": {"test:arn": pattern}}, {"test:arn": value})
    assert not holds({"ArnLike": {"test:arn": pattern}}, {"test:arn": value})
    assert holds({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*-role"}}, {})
    assert not holds({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/*"}}, {})


def test_bool_and_numeric_operators() -> None:
    """ "IAM JSON policy elements: Condition operators": the Boolean example denies S3 when aws:SecureTransport is
    "false"; the Numeric example allows ListBucket with s3:max-keys up to 10."""
    insecure = conditioned({"Bool": {"aws:SecureTransport": "false"}}, "Deny")
    for transport, expected in (("false", EXPLICIT), ("true", ALLOWED)):
        get = request("s3:GetObject", "arn:aws:s3:::b/k", context={"aws:SecureTransport": transport})
        assert outcome(get, policy(allow()), insecure) is expected
    assert holds({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": "TRUE"})
    up_to_ten = {"NumericLessThanEquals": {"s3:max-keys": "10"}}
    assert holds(up_to_ten, {"s3:max-keys": "10"})
    assert not holds(up_to_ten, {"s3:max-keys": "11"})
    assert not holds(up_to_ten, {})
    assert holds({"NumericGreaterThan": {"test:n": 2.5}}, {"test:n": "3"})
    assert not holds({"NumericEquals": {"test:n": 3}}, {"test:n": "three"})


# --- Set operators: ForAllValues and ForAnyValue ----------------------------------------------------------------

THREAD = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/Thread"


def attributes(action: str, *names: str) -> Request:
    return request(action, THREAD, context={"dynamodb:requestedAttributes": names})


def test_for_all_values_requires_every_request_value_in_the_policy() -> None:
    """ "Creating a condition with multiple context keys or values" (set operators), AWS's Thread table example:
    ForAllValues:StringLike allows GetItem of PostDateTime and Message, but not when ID is also requested."""
    only_some = policy(
        allow(
            "dynamodb:GetItem",
            THREAD,
            Condition={
                "ForAllValues:StringLike": {"dynamodb:requestedAttributes": ["PostDateTime", "Message", "Tags"]}
            },
        )
    )
    assert outcome(attributes("dynamodb:GetItem", "PostDateTime", "Message"), only_some) is ALLOWED
    assert outcome(attributes("dynamodb:GetItem", "PostDateTime", "UserName"), only_some) is IMPLICIT
    assert outcome(attributes("dynamodb:GetItem", "ID", "Message"), only_some) is IMPLICIT


def test_for_any_value_matches_when_one_request_value_is_in_the_policy() -> None:
    """Same page, the Deny example: ForAnyValue:StringLike on ID/PostDateTime denies a PutItem of UserName, Message
    and PostDateTime, and does not deny a PutItem of UserName alone."""
    no_ids = policy(
        deny(
            "dynamodb:PutItem",
            THREAD,
            Condition={"ForAnyValue:StringLike": {"dynamodb:requestedAttributes": ["ID", "PostDateTime"]}},
        )
    )
    put = policy(allow("dynamodb:PutItem", THREAD))
    assert outcome(attributes("dynamodb:PutItem", "UserName", "Message", "PostDateTime"), put, no_ids) is EXPLICIT
    assert outcome(attributes("dynamodb:PutItem", "UserName"), put, no_ids) is ALLOWED


@pytest.mark.parametrize(
    ("tag_keys", "denied"),
    [(("key1:legal",), False), (("key1:hr", "key1:personnel"), False), (("key2:audit",), True), (None, True)],
)
def test_for_all_values_with_a_negated_operator(tag_keys: tuple[str, ...] | None, denied: bool) -> None:
    """ "Multivalued context key examples", "Deny a single policy condition value for a multivalued context key": the
    DenyRestrictedTags statement (ForAllValues:StringNotLike aws:TagKeys "key1*") and its table of results: no match
    for key1:legal or key1:hr + key1:personnel, a match for key2:audit and for a request without aws:TagKeys
    ("The ForAllValues set operator also returns true if there are no context keys in the request")."""
    deny_restricted = policy(
        {
            "Sid": "DenyRestrictedTags",
            **deny(
                ["iam:Tag*", "iam:UnTag*"], ["*"], Condition={"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}
            ),
        }
    )
    context: dict[str, ContextValue] = {} if tag_keys is None else {"aws:TagKeys": tag_keys}
    tag = request("iam:TagRole", f"arn:aws:iam::{ACCOUNT}:role/x", context=context)
    assert (outcome(tag, policy(allow()), deny_restricted) is EXPLICIT) is denied


def test_set_operators_on_a_missing_or_empty_key() -> None:
    """ "Single-valued vs. multivalued context keys": ForAllValues is true when the request has no such key (or an
    empty set of values), ForAnyValue false; ...IfExists makes a missing key pass either way."""
    for context in ({}, {"test:keys": ()}):
        assert holds({"ForAllValues:StringEquals": {"test:keys": "a"}}, context)
        assert not holds({"ForAnyValue:StringEquals": {"test:keys": "a"}}, context)
        assert not holds({"ForAnyValue:StringNotEquals": {"test:keys": "a"}}, context)
        assert holds({"ForAnyValue:StringEqualsIfExists": {"test:keys": "a"}}, context)


def test_kms_encryption_context_keys_with_set_operators() -> None:
    """KMS condition key kms:EncryptionContextKeys is multivalued: ForAllValues bounds the keys a caller may send,
    ForAnyValue requires one of them (set-operator semantics as on "Conditions with multiple context keys or
    values")."""
    keys = {"kms:EncryptionContextKeys": ("payment_order_id", "purpose")}
    assert holds({"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["purpose", "payment_order_id"]}}, keys)
    assert not holds({"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["purpose"]}}, keys)
    assert holds({"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["purpose"]}}, keys)


# --- What the evaluator refuses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "operator",
    ["StringEqualsTypo", "DateGreaterThan", "IpAddress", "NullIfExists", "ForSomeValues:StringEquals", "stringequals"],
)
def test_an_unknown_or_unsupported_operator_raises_naming_it(operator: str) -> None:
    """An operator we cannot evaluate must never pass or fail silently."""
    with pytest.raises(ValueError, match=operator):
        holds({operator: {"test:k": "v"}}, {"test:k": "v"})
    with pytest.raises(ValueError, match=operator):  # even after a block that is already false
        holds({"StringEquals": {"test:k": "other"}, operator: {"test:k": "v"}}, {"test:k": "v"})


def test_refused_inputs() -> None:
    """Requests and policies outside what the module models raise rather than guess."""
    with pytest.raises(ValueError, match="several values"):  # a multivalued key needs a set operator
        holds({"StringEquals": {"test:keys": "a"}}, {"test:keys": ("a", "b")})
    with pytest.raises(ValueError, match="cross-account"):
        evaluate(request("dynamodb:PutItem", "arn:aws:dynamodb:eu-west-1:999999999999:table/T"), [policy(allow())])
    with pytest.raises(ValueError, match="Resource or NotResource"):
        evaluate(request("dynamodb:PutItem"), [policy({"Effect": "Allow", "Action": "*"})])
    with pytest.raises(ValueError, match="Principal"):
        evaluate(request("dynamodb:PutItem"), [policy({**allow(), "Principal": "*"})])
    with pytest.raises(ValueError, match="policy variables"):
        evaluate(request("dynamodb:PutItem"), [policy(allow("*", "arn:aws:dynamodb:*:*:table/${aws:username}"))])
    with pytest.raises(ValueError, match="key policy"):
        evaluate(request("kms:Decrypt", KEY), [], None, kms_key_policy=True)


def test_a_resource_policy_statement_may_omit_resource() -> None:
    """ "IAM JSON policy elements: Resource" requires Resource or NotResource of identity statements; a resource policy
    statement without one covers the resource the policy is attached to (SQS queue policies often omit it)."""
    queue_policy = policy({"Effect": "Allow", "Principal": {"AWS": FINALIZER}, "Action": "sqs:SendMessage"})
    assert evaluate(request("sqs:SendMessage", QUEUE), [], queue_policy) == Decision(ALLOWED, ("#0",))


# --- Properties -------------------------------------------------------------------------------------------------


def joined(parts: list[str], max_size: int = 4) -> st.SearchStrategy[str]:
    # Fragments, not characters: hypothesis's drawing is the cost here, and fragments are dense in the regex and glob
    # metacharacters that a wrong matcher would trip on. (No st.text(): its unicode table takes seconds to build in a
    # fresh Pants sandbox.) No fragment ends in "$", so no "${" policy variable appears.
    return st.lists(st.sampled_from(parts), min_size=1, max_size=max_size).map("".join)


FRAGMENTS = ["table/", "ShowMeTheMoney", "[a-z]", "(x)", ".+", "^", "$x", "\\d", "|", "{2}", ":", "/", "-", " ", "é"]
services = st.sampled_from(["dynamodb", "sqs", "kms", "s3", "logs", "xray"])
actions = st.builds("{}:{}".format, services, joined(["Put", "Get", "Item", "Send", "Message", "Decrypt", "X"]))
resource_ids = joined([*FRAGMENTS, "*", "?"])
regions, accounts = st.sampled_from(["", "eu-west-1"]), st.sampled_from(["", ACCOUNT])  # S3 ARNs have neither
resources = st.builds("arn:aws:{}:{}:{}:{}".format, services, regions, accounts, resource_ids)
contexts = st.dictionaries(
    st.sampled_from(["test:a", "test:b", "kms:ViaService", "kms:EncryptionContextKeys"]),
    st.sampled_from(["", "x", "payments-card-data"]) | st.lists(st.sampled_from(["a", "b"]), max_size=3).map(tuple),
    max_size=3,
)
requests = st.builds(Request, st.just(FINALIZER), actions, resources, contexts)
# No deadline: the first example pays hypothesis's one-time start-up (it scans the loaded modules for constants), and
# a loaded CI machine must not turn that into a failure. Evaluating a request takes microseconds.
quick = settings(max_examples=50, deadline=None)


@quick
@given(requests)
def test_star_on_star_allows_any_request(req: Request) -> None:
    """ "IAM JSON policy elements: Action"/"Resource": "*" matches every action and every resource, so an Allow of
    * on * without conditions allows any (same-account) request."""
    assert evaluate(req, [policy(allow())]) == Decision(ALLOWED, ("#0",))


@quick
@given(requests, st.lists(st.sampled_from([allow(), allow("iam:*"), deny("sqs:*", QUEUE)]), max_size=3))
def test_a_matching_deny_always_wins(req: Request, statements: list[dict[str, Any]]) -> None:
    """ "Policy evaluation logic": "An explicit deny in any policy overrides any allows" -- whatever else the policies
    say, a Deny naming exactly this action and resource makes the decision an explicit deny."""
    policies = [policy(*statements), policy({"Sid": "Exact", **deny(req.action, req.resource)})]
    decision = evaluate(req, policies)
    assert decision.outcome is EXPLICIT
    assert "Exact" in decision.statements


@quick
@given(resource_ids)
def test_a_literal_resource_matches_only_itself(resource_id: str) -> None:
    """Without * or ?, a Resource is compared exactly ("IAM JSON policy elements: Resource"), whatever regex or glob
    metacharacters it holds."""
    literal = resource_id.replace("*", "x").replace("?", "x")
    arn = f"arn:aws:s3:::{literal}"
    assert outcome(request("s3:GetObject", arn), policy(allow("s3:*", arn))) is ALLOWED
    assert outcome(request("s3:GetObject", arn + "x"), policy(allow("s3:*", arn))) is IMPLICIT
