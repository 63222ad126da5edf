"""Secrets Manager: config secrets kept where CodeBuild can read them by reference only.

A build variable of type SECRETS_MANAGER holds the secret's ARN; CodeBuild resolves it when
the build starts, so the value never appears in the project's definition or its console.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


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
