"""Pulumi state for one target account and region: a self-managed S3 backend and its awskms:// key.

With these two, a service's stack needs no Pulumi Cloud account: `pulumi login s3://<bucket>` and
`pulumi stack init --secrets-provider awskms://alias/cicd-state?region=<region>` (the bootstrap's
`backendUrl` and `secretsProvider` outputs).

The key serves both: it is the awskms:// secrets provider, and the bucket's default encryption.
The secrets provider calls KMS itself: `Encrypt` once, when a stack is created with it, to wrap
the stack's random data key, and `Decrypt` on every later run to unwrap it (pulumi/pulumi
pkg/secrets/cloud/manager.go, `NewSecretsManager` and `SecretsManagerFromState`;
https://www.pulumi.com/docs/iac/cli/commands/pulumi_stack_init/). Reading an SSE-KMS object takes
`kms:Decrypt` and writing one `kms:GenerateDataKey`, as the caller
(https://repost.aws/knowledge-center/s3-bucket-access-default-encryption). So a preview needs
Decrypt alone, and a deploy Decrypt, Encrypt and GenerateDataKey (pipeline/deploy_identity.py).

The bucket and the key are protected, not retained (`protect=True` rather than `retain_on_delete`):
the bucket holds the state of every stack deployed into this account, and the key is the only way
to read that state (each object is encrypted under it) and the secrets in it. A protected resource
makes `pulumi destroy` of the bootstrap (or a `pulumi up` that would replace either) fail before
anything is deleted, until an administrator runs `pulumi state unprotect` on purpose. Retaining
instead would let that destroy succeed: the roles would go, the key would be scheduled for
deletion, and the bucket would stay behind in AWS, full of state that can no longer be decrypted
once the key's waiting period ends, under a fixed name the next bootstrap could not create again.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from pipeline.artifacts import guard_bucket

SECRETS_KEY_ALIAS = "alias/cicd-state"

# The longest waiting period KMS allows before a key scheduled for deletion is gone for good
# (7 to 30 days): a mistaken deletion of the key that decrypts every stack's state can be cancelled.
# https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html
KEY_DELETION_WINDOW_DAYS = 30


def state_bucket_name(account_id: pulumi.Input[str], region: str) -> pulumi.Output[str]:
    """`cicd-state-<account id>-<region>`: fixed, so a pipeline stack file can name it before it exists."""
    return pulumi.Output.concat("cicd-state-", account_id, "-", region)


def backend_url(bucket: pulumi.Input[str]) -> pulumi.Output[str]:
    """What `pulumi login` (or PULUMI_BACKEND_URL) takes for this bucket."""
    return pulumi.Output.concat("s3://", bucket)


def secrets_provider_url(region: str) -> str:
    """What `pulumi stack init --secrets-provider` takes for the state key, by its alias."""
    return f"awskms://{SECRETS_KEY_ALIAS}?region={region}"


def key_policy(partition: pulumi.Input[str], account_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """AWS's default key policy: IAM policies in this account decide who may use the key.

    The bootstrap's roles get their key access through their own policies
    (pipeline/deploy_identity.py), all in this account. Without this statement the key would
    become unmanageable: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
    """
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "EnableIamPolicies",
                    "Effect": "Allow",
                    "Principal": {"AWS": pulumi.Output.concat("arn:", partition, ":iam::", account_id, ":root")},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    )


@dataclass(frozen=True)
class StateBackendArgs:
    """The account and region the backend is created in."""

    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    region: str


class StateBackend(pulumi.ComponentResource):
    """The state bucket (versioned, KMS-encrypted, private, TLS-only, never expiring) and its key."""

    key: aws.kms.Key
    alias: aws.kms.Alias
    bucket: aws.s3.Bucket
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]
    key_alias_arn: pulumi.Output[str]
    backend_url: pulumi.Output[str]
    secrets_provider: str

    def __init__(self, name: str, args: StateBackendArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("cicd:bootstrap:StateBackend", name, None, opts)
        kept = pulumi.ResourceOptions(parent=self, protect=True)  # why: the module docstring

        self.key = aws.kms.Key(
            f"{name}-key",
            description="Encrypts Pulumi state and secrets (awskms:// secrets provider) for pipeline deploys",
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            policy=key_policy(args.partition, args.account_id),
            opts=kept,
        )
        # The alias and the bucket's guards are protected with them: `pulumi destroy --exclude-protected`
        # would otherwise delete `alias/cicd-state`, which every stack's secrets provider names, and strip
        # the bucket of its TLS-only policy, encryption and public-access block, and suspend versioning.
        self.alias = aws.kms.Alias(
            f"{name}-key-alias", name=SECRETS_KEY_ALIAS, target_key_id=self.key.key_id, opts=kept
        )

        # No force_destroy: S3 refuses to delete a bucket that still holds state.
        self.bucket = aws.s3.Bucket(f"{name}-bucket", bucket=state_bucket_name(args.account_id, args.region), opts=kept)
        # Every write of a stack's state keeps the one before it. There is deliberately no lifecycle
        # configuration: state, and its history, never expires.
        guard_bucket(name, self.bucket, self.key.arn, kept)

        self.bucket_name = self.bucket.bucket
        self.bucket_arn = self.bucket.arn
        self.key_arn = self.key.arn
        self.key_alias_arn = self.alias.arn
        self.backend_url = backend_url(self.bucket.bucket)
        self.secrets_provider = secrets_provider_url(args.region)
        self.register_outputs(
            {
                "bucket": self.bucket_name,
                "bucketArn": self.bucket_arn,
                "keyArn": self.key_arn,
                "backendUrl": self.backend_url,
                "secretsProvider": self.secrets_provider,
            }
        )
