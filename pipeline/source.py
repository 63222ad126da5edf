"""Where the pipeline's code comes from: a CodeStar (CodeConnections) connection or an S3 object."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from pipeline.provider import AwsAccount
from pipeline.shared import StackNames


@dataclass(frozen=True)
class RepositorySource:
    """A GitHub repository, read through the stack's connection; pushes to `branch` start the pipeline.

    With `paths`, only a push that changes a file matching one of these globs (relative to the
    repository root) starts it: how two services of one monorepo each build on their own changes.
    """

    repository: str
    branch: str = "main"
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObjectSource:
    """A zip object in a versioned S3 bucket of the user's, which the pipeline polls."""

    bucket: str
    object_key: str = "source.zip"


PipelineSource = RepositorySource | ObjectSource


@dataclass(frozen=True)
class SourceConnectionArgs:
    """The connection's names, and an existing connection to use instead of creating one ("" creates one)."""

    names: StackNames
    existing_arn: str = ""


class SourceConnection(pulumi.ComponentResource):
    """The GitHub connection the Source stage uses: an existing one, or a new one.

    A connection created here starts PENDING: a person must finish the GitHub handshake
    once in the console (Developer Tools > Settings > Connections) before the first run.
    """

    arn: pulumi.Output[str]

    def __init__(self, name: str, args: SourceConnectionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("cicd:codestar:SourceConnection", name, None, opts)
        if args.existing_arn:
            self.arn = pulumi.Output.from_input(args.existing_arn)
        else:
            connection = aws.codestarconnections.Connection(
                name,
                # Connection names are limited to 32 characters and must be unique per account.
                name=args.names.slug[:32],
                provider_type="GitHub",
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.arn = connection.arn
        self.register_outputs({"arn": self.arn})


def connection_service(connection_arn: str) -> str:
    """The IAM service prefix of a connection ARN: `codestar-connections` or `codeconnections`.

    AWS renamed CodeStar Connections to CodeConnections; a connection keeps the namespace its ARN
    was created with, and an IAM action must use that ARN's own prefix, so `UseConnection` on an
    `arn:aws:codeconnections:...` connection needs `codeconnections:UseConnection`:
    https://docs.aws.amazon.com/dtconsole/latest/userguide/rename.html
    """
    return connection_arn.split(":")[2]


def use_connection_action(connection_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """`<prefix>:UseConnection` for this connection, derived from its ARN as it resolves."""
    return pulumi.Output.from_input(connection_arn).apply(lambda arn: f"{connection_service(arn)}:UseConnection")


def source_bucket_arn(source: ObjectSource, account: AwsAccount) -> pulumi.Output[str]:
    """The S3 source bucket's ARN (the bucket is the user's, named in its args)."""
    return pulumi.Output.concat("arn:", account.partition, ":s3:::", source.bucket)
