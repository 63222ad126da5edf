"""One customer-managed KMS key for the pipeline's data at rest.

A single key serves the artifact bucket, the build logs, the builds' artifacts and the
alert topic: each customer-managed key costs a monthly fee, and these all share one
owner and one lifetime. Services that act on their own behalf (EventBridge publishing to
the encrypted topic, CloudWatch Logs writing the build logs) are named in the key policy;
the pipeline's own roles get key access through their IAM policies.

Kept on destroy (`keep_on_destroy`, set in prod): the key and its alias are protected (`protect=True`)
for the reason pipeline/artifacts.py gives. Everything the stack encrypted (artifacts, build logs,
alerts) is readable only through this key, and a destroy that reached it would schedule it for
deletion; a protected key makes the engine refuse that destroy before it deletes anything
(https://www.pulumi.com/docs/iac/concepts/resources/options/protect/), and `pulumi destroy
--exclude-protected` leaves key and alias in AWS and in the stack's state.

The alias has a fixed name, `alias/<project>-<environment>`, and "the alias must be unique in the
account and Region" (CreateAlias, which fails with AlreadyExistsException otherwise:
https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html). With protect that is no
problem: after `destroy --exclude-protected` the alias is still in the stack, so the next `pulumi up`
takes it over rather than creating it. Had the key been retained instead (`retain_on_delete`), key
and alias would have left the stack while staying in AWS, and that next `up` would fail on the
alias. The same failure happens if the state itself is lost or the stack removed with
`pulumi stack rm --force`: a new stack must then adopt the kept key and alias first
(`pulumi import aws:kms/key:Key <prefix>-key <key id>` and
`pulumi import aws:kms/alias:Alias <prefix>-key-alias alias/<project>-<environment>`), or an
administrator deletes the alias (`aws kms delete-alias`) to let a new key take the name, the old key
staying reachable by its ARN.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from pipeline.provider import AwsAccount
from pipeline.shared import StackNames

# How long a deleted key waits before it is gone for good (KMS allows 7 to 30 days).
PRODUCTION_DELETION_WINDOW_DAYS = 30
DEFAULT_DELETION_WINDOW_DAYS = 7


def key_policy(account: AwsAccount) -> pulumi.Output[str]:
    """The key policy: account administration, plus the two services that use the key themselves."""
    logs_principal = f"logs.{account.region}.amazonaws.com"
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    # AWS's default key policy statement: IAM policies in this account
                    # decide who may use the key. Without it the key becomes unmanageable.
                    # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
                    "Sid": "EnableIamPolicies",
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": pulumi.Output.concat("arn:", account.partition, ":iam::", account.account_id, ":root")
                    },
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    # EventBridge must be able to encrypt what it publishes to the topic,
                    # otherwise deliveries are dropped silently; the AWS-managed alias/aws/sns
                    # key cannot grant this.
                    # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
                    "Sid": "AllowEventBridgeToPublishToEncryptedTopic",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                },
                {
                    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
                    "Sid": "AllowCloudWatchLogsForThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": logs_principal},
                    "Action": [
                        "kms:Decrypt*",
                        "kms:Describe*",
                        "kms:Encrypt*",
                        "kms:GenerateDataKey*",
                        "kms:ReEncrypt*",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": account.arn("logs", "log-group:*")}
                    },
                },
            ],
        }
    )


@dataclass(frozen=True)
class PipelineKeyArgs:
    """The account whose IAM policies decide who uses the key, its names, and what a destroy may do to it."""

    account: AwsAccount
    names: StackNames
    # A production key waits the longest KMS allows before a deletion is final.
    production: bool = False
    # True protects the key and its alias from any deletion (the module docstring).
    keep_on_destroy: bool = False


class PipelineKey(pulumi.ComponentResource):
    """A rotating customer-managed KMS key with a readable alias."""

    key: aws.kms.Key
    alias: aws.kms.Alias

    def __init__(self, name: str, args: PipelineKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("cicd:kms:PipelineKey", name, None, opts)
        # None (not False) when not kept: a caller that protects this component still protects its children.
        child = pulumi.ResourceOptions(parent=self, protect=True if args.keep_on_destroy else None)
        self.key = aws.kms.Key(
            name,
            description=f"Encrypts the {args.names.label} pipeline's artifacts, logs and alerts",
            enable_key_rotation=True,
            deletion_window_in_days=(
                PRODUCTION_DELETION_WINDOW_DAYS if args.production else DEFAULT_DELETION_WINDOW_DAYS
            ),
            policy=key_policy(args.account),
            opts=child,
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{args.names.slug}",
            target_key_id=self.key.key_id,
            opts=child,
        )
        self.arn = self.key.arn
        self.register_outputs({"arn": self.key.arn, "alias": self.alias.name})
