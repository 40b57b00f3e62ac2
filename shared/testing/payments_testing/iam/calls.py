"""What IAM authorizes for an AWS API call: the action, resource and condition keys of each request.

One API call may be several IAM requests: DynamoDB authorizes each item of a TransactWriteItems by that
item's own action (PutItem, UpdateItem, DeleteItem, ConditionCheckItem; `dynamodb:TransactWriteItems` is
not an IAM action), PutEvents each entry against its bus, the batch forms of SQS calls as their single
forms. Only the services our functions call are mapped; any other call raises, so a new kind of call is
never waved through unchecked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

Context = tuple[tuple[str, str | tuple[str, ...]], ...]  # sorted, hashable condition keys of a request

_TRANSACT_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
# SQS authorizes a batch call as the single call it batches.
_SQS_ACTIONS = {
    "DeleteMessageBatch": "DeleteMessage",
    "SendMessageBatch": "SendMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


@dataclass(frozen=True, order=True)
class Authorization:
    """One IAM request: `action` on `resource`, with the request's condition keys."""

    action: str
    resource: str
    context: Context = ()

    def context_dict(self) -> dict[str, str | tuple[str, ...]]:
        return dict(self.context)


def context(values: Mapping[str, str | tuple[str, ...]]) -> Context:
    return tuple(sorted(values.items()))


def authorizations(
    service: str, operation: str, params: Mapping[str, Any], response: Mapping[str, Any], *, region: str, account: str
) -> list[Authorization]:
    """The IAM requests an API call made (its `response` names the key KMS used, which IAM checks)."""
    arn = f"arn:aws:{{}}:{region}:{account}:{{}}"
    if service == "dynamodb":
        return _dynamodb(operation, params, lambda table: arn.format("dynamodb", f"table/{table}"))
    if service == "dynamodbstreams":
        if operation == "ListStreams":
            return [Authorization("dynamodb:ListStreams", "*")]
        # A shard iterator starts with its stream's ARN ("<stream arn>|1|<id>"), in DynamoDB as in moto.
        stream = params.get("StreamArn") or str(params["ShardIterator"]).split("|", 1)[0]
        return [Authorization(f"dynamodb:{operation}", stream)]
    if service == "sqs":
        url = urlparse(str(params["QueueUrl"]))
        owner, name = url.path.strip("/").split("/")
        return [Authorization(f"sqs:{_SQS_ACTIONS.get(operation, operation)}", f"arn:aws:sqs:{region}:{owner}:{name}")]
    if service == "events" and operation == "PutEvents":
        return sorted(
            {
                Authorization(
                    "events:PutEvents",
                    _bus_arn(entry.get("EventBusName", "default"), arn),
                    context({"events:source": entry["Source"], "events:detail-type": entry["DetailType"]}),
                )
                for entry in params["Entries"]
            }
        )
    if service == "kms":
        return [_kms(operation, params, response, arn.format("kms", "key/{}"))]
    if service == "ssm" and operation in ("GetParameter", "GetParameters"):
        names = [params["Name"]] if operation == "GetParameter" else list(params["Names"])
        return [Authorization(f"ssm:{operation}", arn.format("ssm", f"parameter/{name.lstrip('/')}")) for name in names]
    raise ValueError(f"no IAM mapping for {service}.{operation}: add it to payments_testing.iam.calls")


def _dynamodb(operation: str, params: Mapping[str, Any], table_arn: Any) -> list[Authorization]:
    def resource(table: str, index: str | None = None) -> str:
        base = table if table.startswith("arn:") else table_arn(table)
        return f"{base}/index/{index}" if index else base

    if operation in ("TransactWriteItems", "TransactGetItems"):
        requests = set()
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            requests.add(Authorization(f"dynamodb:{_TRANSACT_ITEM_ACTIONS[kind]}", resource(body["TableName"])))
        return sorted(requests)
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [Authorization(f"dynamodb:{operation}", resource(table)) for table in sorted(params["RequestItems"])]
    return [Authorization(f"dynamodb:{operation}", resource(params["TableName"], params.get("IndexName")))]


def _bus_arn(bus: str, arn: str) -> str:
    return bus if bus.startswith("arn:") else arn.format("events", f"event-bus/{bus}")


def _kms(operation: str, params: Mapping[str, Any], response: Mapping[str, Any], key_arn: str) -> Authorization:
    # IAM checks the key the call used, which the response names as an ARN (Decrypt finds it in the
    # ciphertext); an alias in the request adds kms:RequestAlias.
    keys: dict[str, str | tuple[str, ...]] = {}
    encryption_context = params.get("EncryptionContext") or {}
    for name, value in encryption_context.items():
        keys[f"kms:EncryptionContext:{name}"] = str(value)
    if encryption_context:
        keys["kms:EncryptionContextKeys"] = tuple(sorted(encryption_context))
    requested = str(params.get("KeyId", ""))
    if requested.startswith("alias/"):
        keys["kms:RequestAlias"] = requested
    key = str(response.get("KeyId") or requested)  # a refused call names no key: the request's id stands in
    return Authorization(f"kms:{operation}", key if key.startswith("arn:") else key_arn.format(key), context(keys))
