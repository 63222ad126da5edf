"""Secrets Manager: config secrets kept where CodeBuild can read them by reference only.

A build variable of type SECRETS_MANAGER holds the secret's ARN; CodeBuild resolves it when
the build starts, so the value never appears in the project's definition or its console.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from pipeline.settings import PULUMI_TOKEN_VARIABLE, Settings


class StoredSecret(pulumi.ComponentResource):
    """One secret value in Secrets Manager, encrypted with the pipeline's customer-managed key."""

    secret: aws.secretsmanager.Secret
    version: aws.secretsmanager.SecretVersion

    def __init__(
        self,
        name: str,
        *,
        value: pulumi.Input[str],
        key_arn: pulumi.Input[str],
        description: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cicd:secretsmanager:StoredSecret", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.secret = aws.secretsmanager.Secret(name, description=description, kms_key_id=key_arn, opts=child)
        self.version = aws.secretsmanager.SecretVersion(
            f"{name}-value", secret_id=self.secret.id, secret_string=pulumi.Output.secret(value), opts=child
        )
        self.arn = self.secret.arn
        self.register_outputs({"arn": self.secret.arn})


def stored_build_secrets(
    name: str, settings: Settings, key_arn: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
) -> dict[str, pulumi.Output[str]]:
    """The secrets this stack keeps for the builds, as build variable name -> secret ARN.

    Today that is the Pulumi access token, when one is configured (as a secret).
    """
    if settings.pulumi_access_token is None:
        return {}
    token = StoredSecret(
        name,
        value=settings.pulumi_access_token,
        key_arn=key_arn,
        description=f"Pulumi access token for the {settings.project} {settings.environment} builds",
        opts=opts,
    )
    return {PULUMI_TOKEN_VARIABLE: token.arn}
