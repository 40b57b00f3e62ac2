"""A small evaluator of one AWS request against IAM policies, after AWS's documented evaluation logic.

Pages followed (AWS IAM User Guide unless said otherwise): "Policy evaluation logic" and its section "Determining
whether a request is allowed or denied within an account"; "The difference between explicit and implicit denies";
"IAM JSON policy elements: Condition operators"; "Conditions with multiple context keys or values" (formerly
"Creating a condition with multiple context keys or values"); "Multivalued context key examples"; "IAM JSON policy
elements: Resource" and "NotPrincipal"; AWS KMS Developer Guide "Key policies in AWS KMS" and "Default key policy".

The decision, for a request inside ONE account:
- an explicit Deny that applies, in any identity policy or in the resource policy, decides: EXPLICIT_DENY;
- for a KMS key the key policy must open the door: ALLOWED iff the key policy allows the principal itself, or allows
  the account (``arn:aws:iam::<account>:root`` or the bare id: "enables IAM policies") and an identity policy allows;
- otherwise (an SQS queue policy, a bucket policy, no resource policy): ALLOWED iff an identity policy allows or the
  resource policy allows the principal by its ARN (or ``*``); a resource-policy Allow naming only the account
  delegates to identity policies and allows nothing by itself;
- anything else: IMPLICIT_DENY.

Limits (each raises ValueError rather than guess, unless said):
- Same-account requests only: a resource ARN naming another account raises. Cross-account rules (both sides must
  allow) are not modelled, and all our principals and resources live in one account.
- Not modelled: SCPs/RCPs, permissions boundaries, session policies, KMS grants, VPC endpoint policies, role trust
  policies. The principal is the role's ARN; role-session ARNs (``arn:aws:sts::…:assumed-role/…``) in a Principal
  element are not recognised (they never match).
- NotPrincipal: a Deny spares the principal only when it names both the role's ARN and its account (the guidance of
  "NotPrincipal"); an Allow applies only when it names neither. Both are the cautious reading.
- Condition operators: String*, Arn*, Bool, Null, Numeric*, with ``IfExists`` and ``ForAnyValue:``/``ForAllValues:``.
  Date*, IpAddress, NotIpAddress and BinaryEquals raise, as does any unknown operator; policy variables (``${…}``)
  raise; a non-set operator tested against a multivalued request value raises (AWS documents no meaning for it).
- Condition key names are case-insensitive (as in AWS); ``aws:PrincipalArn`` and ``aws:PrincipalAccount`` come from
  ``Request.principal``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

ContextValue = str | tuple[str, ...]
_Context = Mapping[str, tuple[str, ...]]  # lower-cased key -> one or more values, never empty


@dataclass(frozen=True)
class Request:
    principal: str  # ARN of the calling role, e.g. "arn:aws:iam::123456789012:role/finalizer-role"
    action: str  # e.g. "dynamodb:PutItem"
    resource: str  # an ARN (or "*" for actions without resource-level permissions)
    # Condition keys of the request; a tuple for a multivalued key (kms:EncryptionContextKeys).
    context: Mapping[str, ContextValue] = field(default_factory=dict, hash=False)


class Outcome(enum.Enum):
    ALLOWED = "allowed"
    IMPLICIT_DENY = "implicit deny"
    EXPLICIT_DENY = "explicit deny"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    # Sids ("#<index>" for a statement without one) that decided: the denies, or the allows; () for an implicit deny.
    statements: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOWED


def evaluate(
    request: Request,
    identity_policies: Sequence[Mapping[str, Any]],
    resource_policy: Mapping[str, Any] | None = None,
    *,
    kms_key_policy: bool = False,
) -> Decision:
    """The decision AWS would make for `request` (same account) under these policies; see the module docstring."""
    _check_same_account(request)
    if kms_key_policy and resource_policy is None:
        raise ValueError("a KMS key always has a key policy: pass it as resource_policy")
    denies = _identity_matches(identity_policies, request, "Deny")
    if resource_policy is not None:
        denies += matching_statements(resource_policy, request, "Deny", resource_policy=True)
    if denies:
        return Decision(Outcome.EXPLICIT_DENY, _unique(denies))
    identity = _identity_matches(identity_policies, request, "Allow")
    if resource_policy is None:
        allows = identity
    elif kms_key_policy:
        # Identity allows count only through a key-policy statement that enables IAM policies for the account.
        direct = matching_statements(resource_policy, request, "Allow", resource_policy=True)
        delegated = _matching(resource_policy, request, "Allow", reaches=frozenset({_Reach.ACCOUNT}))
        allows = direct + (delegated + identity if delegated and identity else [])
    else:
        allows = identity + matching_statements(resource_policy, request, "Allow", resource_policy=True)
    return Decision(Outcome.ALLOWED, _unique(allows)) if allows else Decision(Outcome.IMPLICIT_DENY)


def matching_statements(
    policy: Mapping[str, Any], request: Request, effect: str, *, resource_policy: bool
) -> list[str]:
    """Sids of the statements of `policy` with `effect` that apply to `request`.

    A resource-policy statement must also name the principal: a Deny by its ARN, ``*`` or its account (a Deny on the
    account covers every principal in it); an Allow by its ARN or ``*`` only, since an Allow naming the account merely
    delegates to identity policies (`evaluate` accounts for that).
    """
    if effect not in ("Allow", "Deny"):
        raise ValueError(f"effect must be 'Allow' or 'Deny', not {effect!r}")
    if not resource_policy:
        return _matching(policy, request, effect, reaches=None)
    reaches = {_Reach.DIRECT, _Reach.ACCOUNT} if effect == "Deny" else {_Reach.DIRECT}
    return _matching(policy, request, effect, reaches=frozenset(reaches))


def _identity_matches(policies: Sequence[Mapping[str, Any]], request: Request, effect: str) -> list[str]:
    return [sid for policy in policies for sid in matching_statements(policy, request, effect, resource_policy=False)]


# --- statements ------------------------------------------------------------------------------------------------


def _matching(
    policy: Mapping[str, Any], request: Request, effect: str, *, reaches: frozenset[_Reach] | None
) -> list[str]:
    """`reaches`: for a resource policy, the ways a statement may name the principal; None for an identity policy."""
    context = _context(request)
    return [
        sid
        for sid, statement in _statements(policy)
        if _effect(statement) == effect
        and _principal_applies(statement, request, reaches)
        and _action_matches(statement, request.action)
        and _resource_matches(statement, request.resource, resource_policy=reaches is not None)
        and _conditions_hold(statement.get("Condition", {}), context)
    ]


def _statements(policy: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    raw = policy.get("Statement")
    statements = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(statements, list):
        raise ValueError(f"a policy needs a Statement object or list, got {raw!r}")
    for index, statement in enumerate(statements):
        if not isinstance(statement, Mapping):
            raise ValueError(f"statement #{index} is not an object: {statement!r}")
        yield str(statement.get("Sid") or f"#{index}"), statement


def _effect(statement: Mapping[str, Any]) -> str:
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise ValueError(f"Effect must be 'Allow' or 'Deny', not {effect!r}")
    return str(effect)


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    # Action names are case-insensitive ("SQS:SendMessage" in AWS's own examples).
    positive, patterns = _either(statement, "Action", "NotAction")
    if patterns is None:
        raise ValueError("a statement needs Action or NotAction")
    return positive == any(_like(p, action, ignore_case=True) for p in patterns)


def _resource_matches(statement: Mapping[str, Any], resource: str, *, resource_policy: bool) -> bool:
    positive, patterns = _either(statement, "Resource", "NotResource")
    if patterns is None:
        if resource_policy:  # a resource policy without Resource covers the resource it is attached to
            return True
        raise ValueError("an identity-policy statement needs Resource or NotResource")
    patterns = tuple(_no_variables(p) for p in patterns)  # all of them, not only those before a match
    return positive == any(_arn_like(p, resource) for p in patterns)


def _either(statement: Mapping[str, Any], name: str, negated: str) -> tuple[bool, tuple[str, ...] | None]:
    if name in statement and negated in statement:
        raise ValueError(f"a statement has either {name} or {negated}, not both")
    if name in statement:
        return True, _strings(statement[name], name)
    if negated in statement:
        return False, _strings(statement[negated], negated)
    return True, None


def _strings(value: Any, element: str) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        raise ValueError(f"{element} must be a string or a list of strings, got {value!r}")
    return tuple(values)


def _unique(sids: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(sids))


# --- principals ------------------------------------------------------------------------------------------------


class _Reach(enum.Enum):
    """How a resource-policy statement names the requester."""

    NONE = enum.auto()
    DIRECT = enum.auto()  # by its ARN, or "*"
    ACCOUNT = enum.auto()  # by its account: arn:aws:iam::<id>:root or the bare id


_PRINCIPAL_TYPES = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})


def _principal_applies(statement: Mapping[str, Any], request: Request, reaches: frozenset[_Reach] | None) -> bool:
    if reaches is not None:
        return _reach(statement, request) in reaches
    if "Principal" in statement or "NotPrincipal" in statement:
        raise ValueError("an identity-policy statement cannot have Principal or NotPrincipal")
    return True


def _reach(statement: Mapping[str, Any], request: Request) -> _Reach:
    if ("Principal" in statement) == ("NotPrincipal" in statement):
        raise ValueError("a resource-policy statement needs exactly one of Principal and NotPrincipal")
    if "Principal" in statement:
        names = _principal_names(statement["Principal"])
        if "*" in names or request.principal in names:
            return _Reach.DIRECT
        return _Reach.ACCOUNT if names & _account_names(request) else _Reach.NONE
    names = _principal_names(statement["NotPrincipal"])
    role, account = request.principal in names, bool(names & _account_names(request))
    spared = "*" in names or (role and account if _effect(statement) == "Deny" else role or account)
    return _Reach.NONE if spared else _Reach.DIRECT


def _principal_names(value: Any) -> frozenset[str]:
    """The AWS principals a Principal element names ("*" for everyone); service and other principals never match
    a role's request, so they are dropped."""
    if value == "*":
        return frozenset({"*"})
    if not isinstance(value, Mapping) or not set(value) <= _PRINCIPAL_TYPES:
        raise ValueError(f"Principal must be '*' or an object keyed by {sorted(_PRINCIPAL_TYPES)}, got {value!r}")
    return frozenset(_strings(value["AWS"], "Principal AWS")) if "AWS" in value else frozenset()


def _account_names(request: Request) -> frozenset[str]:
    account = _account(request.principal)
    return frozenset({account, f"arn:aws:iam::{account}:root"})


def _account(principal: str) -> str:
    parts = principal.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[4].isdigit():
        raise ValueError(f"the principal must be an IAM ARN with an account id, got {principal!r}")
    return parts[4]


def _check_same_account(request: Request) -> None:
    parts = request.resource.split(":", 5)
    if len(parts) == 6 and parts[4] and parts[4] != _account(request.principal):
        raise ValueError(f"cross-account request ({request.principal} -> {request.resource}) is not modelled")


# --- wildcards -------------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # Not fnmatch: IAM has only * and ?, and "[" is a literal character in an ARN.
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _like(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def _arn_like(pattern: str, value: str) -> bool:
    """ARN matching: each of the six colon-delimited parts separately, so a wildcard never spans a colon except in
    the last part (the resource id, which may itself hold colons)."""
    pattern_parts, value_parts = pattern.split(":", 5), value.split(":", 5)
    if len(pattern_parts) == len(value_parts) == 6:
        return all(_like(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))
    return _like(pattern, value)


def _no_variables(text: str) -> str:
    if "${" in text:
        raise ValueError(f"policy variables are not supported: {text!r}")
    return text


# --- conditions ------------------------------------------------------------------------------------------------

_ValueTest = Callable[[str, str], bool]  # (request value, policy value) -> match


def _numeric(compare: Callable[[Decimal, Decimal], bool]) -> _ValueTest:
    def test(request_value: str, policy_value: str) -> bool:
        try:
            wanted = Decimal(policy_value)
        except InvalidOperation:
            raise ValueError(f"not a number in a Numeric condition: {policy_value!r}") from None
        try:
            return compare(Decimal(request_value), wanted)
        except InvalidOperation:  # a request value that is no number matches nothing
            return False

    return test


def _equals(a: str, b: str) -> bool:
    return a == b


def _equals_ignore_case(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _string_like(value: str, pattern: str) -> bool:
    return _like(pattern, value)


def _arn_condition(value: str, pattern: str) -> bool:
    return _arn_like(pattern, value)


def _bool(value: str, wanted: str) -> bool:
    return value.lower() == wanted.lower()


# Base operator -> (test, negated). Negated operators match when the request value matches none of the values.
_OPERATORS: dict[str, tuple[_ValueTest, bool]] = {
    "StringEquals": (_equals, False),
    "StringNotEquals": (_equals, True),
    "StringEqualsIgnoreCase": (_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_arn_condition, False),  # ArnEquals and ArnLike behave identically (documented)
    "ArnLike": (_arn_condition, False),
    "ArnNotEquals": (_arn_condition, True),
    "ArnNotLike": (_arn_condition, True),
    "Bool": (_bool, False),
    "NumericEquals": (_numeric(lambda a, b: a == b), False),
    "NumericNotEquals": (_numeric(lambda a, b: a == b), True),
    "NumericLessThan": (_numeric(lambda a, b: a < b), False),
    "NumericLessThanEquals": (_numeric(lambda a, b: a <= b), False),
    "NumericGreaterThan": (_numeric(lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, b: a >= b), False),
}
_SET_PREFIXES = ("ForAnyValue:", "ForAllValues:")


@dataclass(frozen=True)
class _Operator:
    name: str  # as written in the policy
    test: _ValueTest | None  # None: the Null check
    negated: bool = False
    quantifier: str | None = None  # "ForAnyValue" or "ForAllValues"
    if_exists: bool = False

    def holds_for(self, value: str, policy_values: tuple[str, ...]) -> bool:
        assert self.test is not None
        matched = any(self.test(value, p) for p in policy_values)
        return matched != self.negated  # OR of the values; NOR for a negated operator


@lru_cache(maxsize=256)
def _operator(name: str) -> _Operator:
    quantifier, base = None, name
    for prefix in _SET_PREFIXES:
        if name.startswith(prefix):
            quantifier, base = prefix[:-1], name[len(prefix) :]
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base == "Null":
        if quantifier or if_exists:
            raise ValueError(f"condition operator {name!r}: Null takes no IfExists and no set prefix")
        return _Operator(name, None)
    if base not in _OPERATORS:
        raise ValueError(f"unsupported condition operator {name!r}")
    test, negated = _OPERATORS[base]
    return _Operator(name, test, negated, quantifier, if_exists)


def _conditions_hold(condition: Any, context: _Context) -> bool:
    """Operators AND together, keys within an operator AND together."""
    return all(_key_holds(operator, key, values, context) for operator, key, values in _parse_condition(condition))


def _parse_condition(condition: Any) -> list[tuple[_Operator, str, tuple[str, ...]]]:
    # The whole block first: an unknown operator after a false one must still raise, not quietly void a Deny.
    if not isinstance(condition, Mapping):
        raise ValueError(f"Condition must be an object, got {condition!r}")
    tests: list[tuple[_Operator, str, tuple[str, ...]]] = []
    for name, block in condition.items():
        operator = _operator(name)
        if not isinstance(block, Mapping):
            raise ValueError(f"condition operator {name!r} needs an object of keys, got {block!r}")
        for key, raw in block.items():
            values = _policy_values(raw)
            if operator.test is None and not {v.lower() for v in values} <= {"true", "false"}:
                raise ValueError(f"condition operator {name!r} takes 'true' or 'false', got {raw!r}")
            tests.append((operator, str(key), values))
    return tests


def _key_holds(operator: _Operator, key: str, policy_values: tuple[str, ...], context: _Context) -> bool:
    values = context.get(key.lower())  # condition key names are case-insensitive
    if operator.test is None:  # Null: "true" matches an absent key, "false" a present one
        return ("false" if values is not None else "true") in {v.lower() for v in policy_values}
    if values is None:
        # Documented: ...IfExists matches a missing key; ForAllValues is true and ForAnyValue false on no values;
        # otherwise a missing key makes the condition false, or true for a negated operator.
        if operator.if_exists or operator.quantifier == "ForAllValues":
            return True
        return operator.negated if operator.quantifier is None else False
    if operator.quantifier is None:
        if len(values) > 1:
            raise ValueError(f"{key} has several values in the request: {operator.name} needs ForAnyValue/ForAllValues")
        return operator.holds_for(values[0], policy_values)
    quantifier = all if operator.quantifier == "ForAllValues" else any
    return quantifier(operator.holds_for(v, policy_values) for v in values)


def _policy_values(raw: Any) -> tuple[str, ...]:
    return tuple(_policy_value(v) for v in (raw if isinstance(raw, list) else [raw]))


def _policy_value(value: Any) -> str:
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return _no_variables(value)
    raise ValueError(f"a condition value must be a string, boolean or number, got {value!r}")


def _context(request: Request) -> _Context:
    """The request's condition keys, lower-cased, plus the principal keys derived from the principal's ARN."""
    derived = {"aws:principalarn": (request.principal,), "aws:principalaccount": (_account(request.principal),)}
    context: dict[str, tuple[str, ...]] = {}
    for key, value in request.context.items():
        values = (value,) if isinstance(value, str) else tuple(value)
        if not all(isinstance(v, str) for v in values):
            raise ValueError(f"context key {key} must hold a string or a tuple of strings, got {value!r}")
        lowered = key.lower()
        if lowered in context or derived.get(lowered, values) != values:
            raise ValueError(f"context key {key} is given twice or contradicts the principal")
        if values:  # an empty multivalued key is a missing key (documented for ForAllValues/ForAnyValue)
            context[lowered] = values
    return {**context, **derived}
