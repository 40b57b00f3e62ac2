"""Read back from an applied deployment every policy and fact the IAM check needs (infra/iam/policies.json).

Roles with their trust, inline and attached policies; key, queue, bucket and function (invoke) policies;
each function's role, environment key, log group and event sources (with on-failure destinations); the
KMS key of every table, queue and parameter. What differs between applies (key ids, stream labels,
generated bucket names, API ids) is normalized.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from devstack.moto_local import client as aws

from payments_testing.iam.deployed import normalized


def iam_document(document: dict[str, Any] | str) -> dict[str, Any]:
    """IAM hands policy documents back parsed or URL-encoded, depending on the call."""
    return document if isinstance(document, dict) else json.loads(urllib.parse.unquote(document))


def _roles(functions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    iam = aws("iam")
    function_of = {f["Role"].rsplit("/", 1)[1]: name for name, f in functions.items()}
    roles = {}
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        inline = {
            p: iam_document(iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"])
            for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
        }
        attached = {}
        for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            version = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
            attached[policy["PolicyName"]] = iam_document(
                iam.get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=version)["PolicyVersion"]["Document"]
            )
        roles[name] = {
            "function": function_of.get(name),
            "trust": iam_document(role["AssumeRolePolicyDocument"]),
            "inline": inline,
            "attached": attached,
        }
    return roles


def _queues() -> tuple[dict[str, Any], dict[str, str]]:
    sqs = aws("sqs")
    policies, keys = {}, {}
    for url in sqs.list_queues().get("QueueUrls", []):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        if "Policy" in attributes:
            policies[attributes["QueueArn"].rsplit(":", 1)[1]] = json.loads(attributes["Policy"])
        if "KmsMasterKeyId" in attributes:
            keys[attributes["QueueArn"]] = attributes["KmsMasterKeyId"]
    return policies, keys


def _tables_and_parameters() -> dict[str, str]:
    dynamodb, ssm, keys = aws("dynamodb"), aws("ssm"), {}
    for name in dynamodb.list_tables()["TableNames"]:
        table = dynamodb.describe_table(TableName=name)["Table"]
        if "SSEDescription" in table:
            keys[table["TableArn"]] = table["SSEDescription"]["KMSMasterKeyArn"]
    for parameter in ssm.describe_parameters()["Parameters"]:
        if parameter["Type"] == "SecureString":
            arn = ssm.get_parameter(Name=parameter["Name"])["Parameter"]["ARN"]
            keys[arn] = parameter.get("KeyId", "alias/aws/ssm")
    return keys


def _bucket_policies() -> dict[str, Any]:
    s3, policies = aws("s3"), {}
    for bucket in s3.list_buckets()["Buckets"]:
        try:
            policy = s3.get_bucket_policy(Bucket=bucket["Name"])["Policy"]
        except s3.exceptions.ClientError:  # a bucket without a policy
            continue
        policies[bucket["Name"]] = json.loads(policy)
    return policies


def _function_policies(functions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Who may invoke each function's live alias (API Gateway, per route)."""
    lambdas, policies = aws("lambda"), {}
    for name in functions:
        try:
            policy = json.loads(lambdas.get_policy(FunctionName=name, Qualifier="live")["Policy"])
            # Statements come in the order the permissions were added, which parallel applies do not fix.
            policies[name] = {**policy, "Statement": sorted(policy["Statement"], key=lambda s: s["Sid"])}
        except lambdas.exceptions.ResourceNotFoundException:  # queue and stream consumers: no resource policy
            continue
    return policies


def render() -> dict[str, Any]:
    lambdas, kms = aws("lambda"), aws("kms")
    functions = {f["FunctionName"]: f for f in lambdas.list_functions()["Functions"]}
    # Our keys by alias (AWS-managed ones, alias/aws/*, have no policy of ours).
    aliases = {
        a["TargetKeyId"]: a["AliasName"].removeprefix("alias/")
        for a in kms.list_aliases()["Aliases"]
        if "TargetKeyId" in a and not a["AliasName"].startswith("alias/aws/")
    }
    key_policies = {
        alias: json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
        for key, alias in aliases.items()
    }
    mappings = lambdas.list_event_source_mappings()["EventSourceMappings"]
    queue_policies, queue_keys = _queues()
    described = {
        name: {
            "role": f["Role"].rsplit("/", 1)[1],
            "kms_key": f.get("KMSKeyArn"),
            "log_group": f"/aws/lambda/{name}",
            "event_sources": sorted(
                (
                    {
                        "source": m["EventSourceArn"],
                        "on_failure": m.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
                    }
                    for m in mappings
                    if m["FunctionArn"].split(":")[6] == name
                ),
                key=lambda s: s["source"],
            ),
        }
        for name, f in sorted(functions.items())
    }
    region, account = next(iter(functions.values()))["FunctionArn"].split(":")[3:5]
    rendered = {
        "account": account,
        "region": region,
        "roles": _roles(functions),
        "key_policies": key_policies,
        "queue_policies": queue_policies,
        "bucket_policies": _bucket_policies(),
        "function_policies": _function_policies(functions),
        "functions": described,
        "encryption": {**queue_keys, **_tables_and_parameters()},
    }
    # Key ids (and aliases where a resource names one) become the alias, generated bucket names (bucket_prefix)
    # their prefix, API ids the API's name: they differ between applies.
    text = normalized(json.dumps(rendered, sort_keys=True), aliases)
    for bucket in aws("s3").list_buckets()["Buckets"]:
        text = text.replace(bucket["Name"], bucket["Name"].rsplit("-", 1)[0])
    for api in aws("apigateway").get_rest_apis()["items"]:
        text = text.replace(f":{api['id']}/", f":{api['name']}/").replace(f"Logs_{api['id']}/", f"Logs_{api['name']}/")
    for key, alias in aliases.items():
        text = text.replace(f'"alias/{alias}"', f'"arn:aws:kms:{region}:{account}:key/{alias}"')
        text = text.replace(f'"{key}"', f'"arn:aws:kms:{region}:{account}:key/{alias}"')
    result: dict[str, Any] = json.loads(text)
    return result
