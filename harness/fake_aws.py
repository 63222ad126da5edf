"""Mocks that answer like AWS would, for unit tests: every output the program wires is returned.

Physical names are `<logical name>-<7 hex>` when the program leaves naming to Pulumi, so every
name and ARN is distinctive and the graph checks can tell a wired reference from a re-typed one.
An unknown resource type or invoke is an error, never a silent empty answer.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

ACCOUNT_ID = "123456789012"


def digest(text: str, length: int = 7) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def stable_uuid(text: str) -> str:
    return str(uuid.UUID(hashlib.sha256(text.encode()).hexdigest()[:32]))


def autoname(logical_name: str) -> str:
    """The physical name pulumi-aws would generate for `logical_name`, without the randomness."""
    return f"{logical_name}-{digest(logical_name)}"


class FakeAws(Mocks):
    def __init__(self, region: str = "eu-west-1", account_id: str = ACCOUNT_ID) -> None:
        self.region = region
        self.account_id = account_id

    def _arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if regional else ''}:{self.account_id}:{resource}"

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        token = args.typ
        auto_name = autoname(args.name)
        name = inputs.get("name") or auto_name
        out: dict[str, Any] = {**inputs, "tagsAll": inputs.get("tags", {})}

        if not args.custom:  # a ComponentResource: nothing to create
            return "", {}
        if token == "pulumi:providers:aws":
            return stable_uuid(args.name), inputs
        if token == "aws:kms/key:Key":
            key_id = stable_uuid(args.name)
            return key_id, {**out, "keyId": key_id, "arn": self._arn("kms", f"key/{key_id}")}
        if token == "aws:kms/alias:Alias":
            return name, {**out, "name": name, "arn": self._arn("kms", name), "targetKeyArn": ""}
        if token == "aws:s3/bucket:Bucket":
            bucket = inputs.get("bucket") or auto_name.lower()
            return bucket, {
                **out,
                "bucket": bucket,
                "arn": f"arn:aws:s3:::{bucket}",
                "bucketDomainName": f"{bucket}.s3.amazonaws.com",
                "region": self.region,
            }
        if token.startswith("aws:s3/bucket") and "bucket" in inputs:
            return str(inputs["bucket"]), out
        if token == "aws:iam/role:Role":
            return name, {
                **out,
                "name": name,
                "arn": self._arn("iam", f"role/{name}", regional=False),
                "uniqueId": "AROA" + digest(name, 17).upper(),
            }
        if token == "aws:iam/policy:Policy":
            arn = self._arn("iam", f"policy{inputs.get('path') or '/'}{name}", regional=False)
            return arn, {**out, "name": name, "arn": arn, "policyId": "ANPA" + digest(name, 17).upper()}
        if token == "aws:iam/rolePolicy:RolePolicy":
            return f"{inputs['role']}:{name}", {**out, "name": name}
        if token == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
            # `<role>/<policy ARN>`, the form `pulumi import` takes; its outputs are its two inputs.
            return f"{inputs['role']}/{inputs['policyArn']}", {
                **out,
                "role": inputs["role"],
                "policyArn": inputs["policyArn"],
            }
        if token == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            host = str(inputs.get("url", "")).removeprefix("https://")
            arn = self._arn("iam", f"oidc-provider/{host}", regional=False)
            return arn, {**out, "arn": arn}
        if token == "aws:cloudwatch/logGroup:LogGroup":
            return name, {**out, "name": name, "arn": self._arn("logs", f"log-group:{name}")}
        if token == "aws:codebuild/project:Project":
            arn = self._arn("codebuild", f"project/{name}")
            return arn, {**out, "name": name, "arn": arn, "badgeUrl": ""}
        if token == "aws:codepipeline/pipeline:Pipeline":
            return name, {**out, "name": name, "arn": self._arn("codepipeline", name)}
        if token == "aws:codestarconnections/connection:Connection":
            arn = self._arn("codestar-connections", f"connection/{stable_uuid(args.name)}")
            return arn, {**out, "name": name, "arn": arn, "connectionStatus": "PENDING"}
        if token == "aws:sns/topic:Topic":
            arn = self._arn("sns", name)
            return arn, {**out, "name": name, "arn": arn, "owner": self.account_id}
        if token == "aws:sns/topicPolicy:TopicPolicy":
            return str(inputs["arn"]), {**out, "owner": self.account_id}
        if token == "aws:sns/topicSubscription:TopicSubscription":
            arn = f"{inputs['topic']}:{stable_uuid(args.name)}"
            return arn, {**out, "arn": arn}
        if token == "aws:cloudwatch/eventRule:EventRule":
            return name, {**out, "name": name, "arn": self._arn("events", f"rule/{name}")}
        if token == "aws:cloudwatch/eventTarget:EventTarget":
            target_id = inputs.get("targetId") or auto_name
            return f"{inputs['rule']}-{target_id}", {**out, "targetId": target_id}
        if token == "aws:secretsmanager/secret:Secret":
            arn = self._arn("secretsmanager", f"secret:{name}-{digest(name, 6)}")
            return arn, {**out, "name": name, "arn": arn}
        if token == "aws:secretsmanager/secretVersion:SecretVersion":
            return f"{inputs['secretId']}|{stable_uuid(args.name)}", {
                **out,
                "arn": inputs["secretId"],
                "versionId": stable_uuid(args.name),
            }
        raise NotImplementedError(f"FakeAws has no answer for resource type {token} ({args.name}); add one")

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account_id,
                "arn": f"arn:aws:iam::{self.account_id}:user/tester",
                "userId": "AIDATESTER",
                "id": self.account_id,
            }, []
        if args.token == "aws:index/getPartition:getPartition":
            return {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "id": "aws",
                "reverseDnsPrefix": "com.amazonaws",
            }, []
        if args.token == "aws:index/getRegion:getRegion":
            return {
                "name": self.region,
                "region": self.region,
                "id": self.region,
                "endpoint": f"ec2.{self.region}.amazonaws.com",
            }, []
        raise NotImplementedError(f"FakeAws has no answer for invoke {args.token}; add one")
