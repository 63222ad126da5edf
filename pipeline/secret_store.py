"""Secrets Manager: secret values kept where CodeBuild can read them by reference only.

A build variable of type SECRETS_MANAGER holds the secret's ARN; CodeBuild resolves it when
the build starts, so the value never appears in the project's definition or its console.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from pipeline.build import PULUMI_TOKEN_VARIABLE
from pipeline.shared import StackNames


@dataclass(frozen=True)
class StoredSecretArgs:
    """The value (kept secret whatever it is given as), the key it is encrypted with, and what it is."""

    value: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    description: str


class StoredSecret(pulumi.ComponentResource):
    """One secret value in Secrets Manager, encrypted with the pipeline's customer-managed key."""

    secret: aws.secretsmanager.Secret
    version: aws.secretsmanager.SecretVersion

    def __init__(self, name: str, args: StoredSecretArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("cicd:secretsmanager:StoredSecret", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.secret = aws.secretsmanager.Secret(name, description=args.description, kms_key_id=args.key_arn, opts=child)
        self.version = aws.secretsmanager.SecretVersion(
            f"{name}-value", secret_id=self.secret.id, secret_string=pulumi.Output.secret(args.value), opts=child
        )
        self.arn = self.secret.arn
        self.register_outputs({"arn": self.secret.arn})


def stored_build_secrets(
    name: str,
    *,
    names: StackNames,
    key_arn: pulumi.Input[str],
    pulumi_access_token: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions | None = None,
) -> dict[str, pulumi.Output[str]]:
    """The secrets this stack keeps for the builds, as build variable name -> secret ARN.

    Today that is the Pulumi access token, when there is one (it should arrive as a secret Output).
    """
    if pulumi_access_token is None:
        return {}
    token = StoredSecret(
        name,
        StoredSecretArgs(
            value=pulumi_access_token,
            key_arn=key_arn,
            description=f"Pulumi access token for the {names.label} builds",
        ),
        opts=opts,
    )
    return {PULUMI_TOKEN_VARIABLE: token.arn}
