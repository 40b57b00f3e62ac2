"""moto 5 adds a Lambda permission whose statement id the function's (or alias's) policy already holds as a second
statement; Lambda refuses it ("ResourceConflictException: The statement id (…) provided already exists", the
AddPermission API reference). The AWS provider relies on that refusal: creating a function URL of auth type NONE, it
adds FunctionURLAllowPublicAccess itself and ignores the conflict when the statement exists. Without it, destroy
removes one of two statements and waits forever for the Sid to go. This refuses a taken statement id per policy
(function or qualifier) as Lambda does.

moto also keeps a permission's FunctionUrlAuthType as a statement element of its own; Lambda writes it as the
condition it is ("Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}, Lambda's guide to function
URL access control), which is what a policy linter reads."""

from __future__ import annotations

from typing import Any

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.policy import Policy


class StatementIdTaken(LambdaClientError):
    code = 409

    def __init__(self, sid: str) -> None:
        super().__init__(
            "ResourceConflictException",
            f"The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the "
            "existing statement.",
        )


def install() -> None:
    if getattr(Policy, "_refuses_taken_sids", False):
        return
    original = Policy.add_statement

    def add_statement(self: Any, raw: str, qualifier: str | None = None) -> tuple[Any, str]:
        revision = self.revision
        statement, new_revision = original(self, raw, qualifier)
        auth_type = statement.pop("FunctionUrlAuthType", None)
        if auth_type is not None:
            condition = statement.setdefault("Condition", {}).setdefault("StringEquals", {})
            condition["lambda:FunctionUrlAuthType"] = auth_type
        taken = [
            s
            for s in self.statements[:-1]
            if (s.get("Sid"), s.get("Resource")) == (statement.get("Sid"), statement.get("Resource"))
        ]
        if taken:  # the same statement id on the same function or qualifier: Lambda adds nothing
            self.statements.pop()
            self.revision = revision
            raise StatementIdTaken(str(statement.get("Sid")))
        return statement, new_revision

    Policy.add_statement = add_statement  # type: ignore[method-assign]
    Policy._refuses_taken_sids = True  # type: ignore[attr-defined]
