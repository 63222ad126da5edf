"""Mocks that answer like AWS would, for unit tests: every output the program wires is returned.

Each resource type's answer is one fact of its entry in harness/resource_types.py; this class
adds what every answer shares (the inputs, `tagsAll`) and the three invokes the program makes.
Physical names are `<logical name>-<7 hex>` when the program leaves naming to Pulumi, so every
name and ARN is distinctive and the graph checks can tell a wired reference from a re-typed one.
An unknown resource type or invoke is an error, never a silent empty answer.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

from harness.resource_types import RESOURCE_TYPES, MockRequest, autoname, stable_uuid

__all__ = ["ACCOUNT_ID", "FakeAws", "autoname", "stable_uuid"]

ACCOUNT_ID = "123456789012"


class FakeAws(Mocks):
    def __init__(self, region: str = "eu-west-1", account_id: str = ACCOUNT_ID) -> None:
        self.region = region
        self.account_id = account_id

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        if not args.custom:  # a ComponentResource: nothing to create
            return "", {}
        if args.typ == "pulumi:providers:aws":
            return stable_uuid(args.name), inputs
        registered = RESOURCE_TYPES.get(args.typ)
        if registered is None:
            raise NotImplementedError(
                f"FakeAws has no answer for resource type {args.typ} ({args.name}): register it in "
                "harness/resource_types.py"
            )
        resource_id, computed = registered.mock(MockRequest(args.name, inputs, self.region, self.account_id))
        return resource_id, {**inputs, "tagsAll": inputs.get("tags", {}), **computed}

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
