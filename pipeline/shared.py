"""What the components have in common: the names a stack gives, and the resources its pipelines share.

Components take these, never a program's configuration, so any Pulumi program can build them:
`__main__.py` maps the pipeline stack's settings to them, tests/test_reuse.py a program of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

import pulumi

from pipeline.provider import AwsAccount


@dataclass(frozen=True)
class StackNames:
    """How one stack names and describes what it creates, and whose pipeline a per-service resource is.

    `prefix` starts every auto-named resource's logical name (`cicd-dev-...`), and the IAM patterns
    that must reach those resources (the permissions boundary, the GitHub roles) are built from it;
    `project` and `environment` name the log groups, the key alias and the connection. `service` is
    "" for what the stack shares, and for the one pipeline of a stack without services, whose names
    are today's; `for_service` gives the names of one service's pipeline.
    """

    project: str
    environment: str
    prefix: str
    service: str = ""

    def for_service(self, service: str) -> StackNames:
        """The names of `service`'s pipeline, inside this stack's."""
        return replace(self, service=service)

    @property
    def label(self) -> str:
        """`cicd-pipeline dev` (`cicd-pipeline dev api` for a service): for descriptions people read."""
        return f"{self.project} {self.environment}" + (f" {self.service}" if self.service else "")

    @property
    def slug(self) -> str:
        """`cicd-pipeline-dev`: for the fixed physical names (key alias, connection) the stack has once."""
        return f"{self.project}-{self.environment}"

    @property
    def service_prefix(self) -> str:
        """`cicd-dev-api`, or `cicd-dev` without a service: the start of a service's logical names."""
        return f"{self.prefix}-{self.service}" if self.service else self.prefix

    @property
    def log_root(self) -> str:
        """`/cicd-pipeline/dev` (`/cicd-pipeline/dev/api` for a service): where its log groups are named."""
        return f"/{self.project}/{self.environment}" + (f"/{self.service}" if self.service else "")


@dataclass(frozen=True, kw_only=True)
class SharedResources:
    """What a stack creates once for all of its pipelines, and what their roles are granted on.

    The permissions boundary is derived from these (pipeline/boundary.py), so it comes after them:
    `bounded_by` adds it, and the components whose roles carry it take the result, a `Foundation`.
    """

    account: AwsAccount
    key_arn: pulumi.Input[str]
    artifact_bucket_name: pulumi.Input[str]
    artifact_bucket_arn: pulumi.Input[str]
    # Where failure alerts and approval requests go.
    topic_arn: pulumi.Input[str]
    # The source connection, for pipelines that read a repository; None where none reads one.
    connection_arn: pulumi.Input[str] | None = None
    # Secrets the stack keeps for the builds: build variable name -> Secrets Manager ARN.
    stored_secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)

    def bounded_by(self, permissions_boundary_arn: pulumi.Input[str]) -> Foundation:
        """These resources, plus the boundary every service role built on them carries."""
        # Field by field: dataclasses.asdict would deep-copy the outputs and the account.
        shared = {each.name: getattr(self, each.name) for each in fields(SharedResources)}
        return Foundation(**shared, permissions_boundary_arn=permissions_boundary_arn)


@dataclass(frozen=True, kw_only=True)
class Foundation(SharedResources):
    """The shared resources and the permissions boundary: what a pipeline's build projects and roles stand on."""

    permissions_boundary_arn: pulumi.Input[str]
