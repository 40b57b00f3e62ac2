"""The deployed policies (infra/iam/policies.json, rendered from a Terraform apply) against the calls made.

`check` evaluates every IAM request a function's role makes: the handler's own calls, recorded by the local
run, and what AWS does with that role because of how the function is deployed (Lambda polling its queue or
stream and sending a stream's failed batches to its on-failure queue, writing its logs, decrypting its
environment; DynamoDB, SQS and SSM using the KMS key of the table, queue or parameter on the caller's behalf).
Each is allowed, or it is reported with the function, action, resource and deciding statements. The reverse
report lists each granted (statement, action, resource) that no request used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from payments_testing.iam.calls import Authorization, context
from payments_testing.iam.policy import Decision, Request, evaluate, matching_statements

POLICIES_FILE = Path("infra/iam/policies.json")

_KEY_ARN = re.compile(r"(arn:aws:kms:[^:]+:\d{12}:key/)([0-9a-f-]{36}|[0-9a-f]{32})")
_STREAM_LABEL = re.compile(r"(:table/[^/\"]+/stream/)[^/\"|]+")


def normalized(text: str, key_aliases: Mapping[str, str]) -> str:
    """Names that differ between two applies replaced by stable ones: a key's id by its alias, a stream's
    label (its creation time) by `LABEL`."""
    text = _KEY_ARN.sub(lambda m: m.group(1) + key_aliases.get(m.group(2), m.group(2)), text)
    return _STREAM_LABEL.sub(r"\1LABEL", text)


@dataclass(frozen=True)
class Denial:
    function: str
    action: str
    resource: str
    outcome: str
    statements: tuple[str, ...]

    def __str__(self) -> str:
        decided = f" by {', '.join(self.statements)}" if self.statements else ""
        return f"{self.function}: {self.action} on {self.resource} — {self.outcome}{decided}"


@dataclass(frozen=True)
class Report:
    requests: int  # distinct (function, IAM request) pairs evaluated
    denied: list[Denial]
    unused: list[str]  # "<function>: <policy>/<sid> <action> <resource>" granted and never requested


class Deployment:
    """What infra/iam/policies.json holds: roles and their policies, key and queue policies, each function's
    role, environment key, log group and event sources, and the KMS key of each encrypted resource."""

    def __init__(self, rendered: Mapping[str, Any]) -> None:
        self.rendered = rendered
        self.account: str = rendered["account"]
        self.region: str = rendered["region"]

    @classmethod
    def load(cls, path: Path = POLICIES_FILE) -> Deployment:
        return cls(json.loads(path.read_text()))

    def role_of(self, function: str) -> str:
        return str(self.rendered["functions"][function]["role"])

    def identity_policies(self, function: str) -> list[dict[str, Any]]:
        role = self.rendered["roles"][self.role_of(function)]
        return [*role["inline"].values(), *role["attached"].values()]

    def key_of(self, resource: str) -> str | None:
        """The KMS key that encrypts a table (its stream included), queue or parameter."""
        keys: Mapping[str, str] = self.rendered["encryption"]
        table = resource.split("/stream/")[0].split("/index/")[0]
        return keys.get(resource) or keys.get(table)

    def check(self, recorded: Iterable[tuple[str, Authorization]]) -> Report:
        requests = set(recorded)
        for function in self.rendered["functions"]:
            requests |= {(function, r) for r in self._deployed_work(function)}
        requests |= {(f, r) for f, request in list(requests) for r in self._kms_on_behalf(request)}
        denied, allowed = [], []
        for function, request in sorted(requests):
            decision = self._decide(function, request)
            if decision.allowed:
                allowed.append((function, request))
            else:
                denied.append(
                    Denial(function, request.action, request.resource, decision.outcome.name, decision.statements)
                )
        return Report(len(requests), denied, self._unused(allowed))

    def _decide(self, function: str, request: Authorization) -> Decision:
        asked = Request(
            f"arn:aws:iam::{self.account}:role/{self.role_of(function)}",
            request.action,
            request.resource,
            request.context_dict(),
        )
        identity = self.identity_policies(function)
        if request.action.startswith("kms:"):
            alias = request.resource.rsplit("/", 1)[1]
            return evaluate(
                asked, identity, self.rendered["key_policies"].get(alias, {"Statement": []}), kms_key_policy=True
            )
        if request.action.startswith("sqs:"):
            return evaluate(asked, identity, self.rendered["queue_policies"].get(request.resource.rsplit(":", 1)[1]))
        return evaluate(asked, identity)

    def _deployed_work(self, function: str) -> list[Authorization]:
        """What AWS does with the function's role because of how it is deployed (not seen in a local run)."""
        deployed = self.rendered["functions"][function]
        arn = f"arn:aws:{{}}:{self.region}:{self.account}:{{}}"
        function_arn = arn.format("lambda", f"function:{function}")
        log_stream = arn.format("logs", f"log-group:{deployed['log_group']}:log-stream:2026/12/04/[1]0123456789abcdef")
        work = [
            Authorization("logs:CreateLogStream", log_stream),
            Authorization("logs:PutLogEvents", log_stream),
            # Lambda decrypts the environment at start-up, bound to the function by the encryption context.
            Authorization(
                "kms:Decrypt",
                deployed["kms_key"],
                context(
                    {
                        "kms:EncryptionContext:aws:lambda:FunctionArn": function_arn,
                        "kms:EncryptionContextKeys": ("aws:lambda:FunctionArn",),
                        "kms:ViaService": f"lambda.{self.region}.amazonaws.com",
                    }
                ),
            ),
        ]
        for source in deployed["event_sources"]:
            if ":sqs:" in source["source"]:
                # Lambda's documented needs for an SQS event source.
                work += [
                    Authorization(f"sqs:{a}", source["source"])
                    for a in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")
                ]
            else:
                work += [
                    Authorization(f"dynamodb:{a}", source["source"])
                    for a in ("DescribeStream", "GetShardIterator", "GetRecords")
                ]
                work.append(Authorization("dynamodb:ListStreams", "*"))  # in Lambda's documented list; no resource
            if source.get("on_failure"):  # a batch given up on is sent with the function's role
                work.append(Authorization("sqs:SendMessage", source["on_failure"]))
        return work

    def _kms_on_behalf(self, request: Authorization) -> list[Authorization]:
        """The KMS requests a service makes with the caller's credentials for a resource under a KMS key."""
        service = request.action.split(":")[0]
        key = self.key_of(request.resource) if service in ("dynamodb", "sqs", "ssm") else None
        if key is None:
            return []
        keys: dict[str, str | tuple[str, ...]] = {
            "kms:ViaService": f"{service}.{self.region}.amazonaws.com",
            "kms:CallerAccount": self.account,
        }
        if service == "sqs":
            # A producer makes the message's data key; a consumer only decrypts it (SQS developer guide).
            actions = {
                "sqs:SendMessage": ["kms:GenerateDataKey", "kms:Decrypt"],
                "sqs:ReceiveMessage": ["kms:Decrypt"],
            }.get(request.action, [])
            keys |= {
                "kms:EncryptionContext:aws:sqs:arn": request.resource,
                "kms:EncryptionContextKeys": ("aws:sqs:arn",),
            }
        elif service == "ssm":
            keys |= {
                "kms:EncryptionContext:PARAMETER_ARN": request.resource,
                "kms:EncryptionContextKeys": ("PARAMETER_ARN",),
            }
            actions = ["kms:Decrypt"]
        else:  # DynamoDB decrypts the table's key (streams included) with the caller's permission
            table = request.resource.split(":table/", 1)[1].split("/", 1)[0]
            keys |= {
                "kms:EncryptionContext:aws:dynamodb:tableName": table,
                "kms:EncryptionContext:aws:dynamodb:subscriberId": self.account,
                "kms:EncryptionContextKeys": ("aws:dynamodb:subscriberId", "aws:dynamodb:tableName"),
            }
            actions = ["kms:Decrypt"]
        return [Authorization(action, key, context(keys)) for action in actions]

    def _unused(self, allowed: list[tuple[str, Authorization]]) -> list[str]:
        unused = []
        for function in self.rendered["functions"]:
            role = self.rendered["roles"][self.role_of(function)]
            asked = [
                Request(
                    f"arn:aws:iam::{self.account}:role/{self.role_of(function)}", r.action, r.resource, r.context_dict()
                )
                for f, r in allowed
                if f == function
            ]
            for name, document in {**role["inline"], **role["attached"]}.items():
                for index, statement in enumerate(document["Statement"]):
                    if statement.get("Effect") != "Allow":
                        continue
                    for action in _listed(statement.get("Action")):
                        for resource in _listed(statement.get("Resource")):
                            grant = {**statement, "Action": action, "Resource": resource}
                            if not any(
                                matching_statements({"Statement": [grant]}, request, "Allow", resource_policy=False)
                                for request in asked
                            ):
                                unused.append(
                                    f"{function}: {name}/{statement.get('Sid', f'#{index}')} " f"{action} {resource}"
                                )
        return unused


def _listed(value: str | list[str] | None) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)
