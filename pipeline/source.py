"""Where the pipeline's code comes from: a CodeStar (CodeConnections) connection or an S3 object."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from pipeline.provider import AwsAccount
from pipeline.settings import Settings


class SourceConnection(pulumi.ComponentResource):
    """The GitHub connection the Source stage uses: the configured one, or a new one.

    A connection created here starts PENDING: a person must finish the GitHub handshake
    once in the console (Developer Tools > Settings > Connections) before the first run.
    """

    arn: pulumi.Output[str]

    def __init__(
        self, name: str, settings: Settings, account: AwsAccount, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("cicd:codestar:SourceConnection", name, None, opts)
        if settings.source.connection_arn:
            self.arn = pulumi.Output.from_input(settings.source.connection_arn)
        else:
            connection = aws.codestarconnections.Connection(
                name,
                # Connection names are limited to 32 characters and must be unique per account.
                name=f"{settings.project}-{settings.environment}"[:32],
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


def source_bucket_arn(settings: Settings, account: AwsAccount) -> pulumi.Output[str]:
    """The S3 source bucket's ARN (the bucket is the user's, named in config)."""
    return pulumi.Output.concat("arn:", account.partition, ":s3:::", settings.source.bucket)
