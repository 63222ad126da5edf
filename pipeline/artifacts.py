"""The artifact store: a private, versioned, KMS-encrypted, TLS-only S3 bucket.

Kept on destroy (`keep_on_destroy`, which the pipeline stack sets in prod): the bucket and every one
of its configuration resources are protected (`protect=True`), not retained (`retain_on_delete`).

- Protect, because the data must stay readable and guarded. With `retain_on_delete` a `pulumi destroy`
  would succeed: the bucket would stay in AWS but leave the stack, unmanaged, while the key that
  encrypts its objects is scheduled for deletion with the rest. A protected resource instead makes the
  engine refuse any deployment that would delete it ("it will be an error to do a Pulumi deployment
  which tries to delete a protected resource for any reason",
  https://www.pulumi.com/docs/iac/concepts/resources/options/protect/), so `pulumi destroy` of prod
  stops before deleting anything, and so does a `pulumi up` that would replace the bucket. Tearing the
  rest down on purpose is `pulumi destroy --exclude-protected`
  (https://www.pulumi.com/docs/iac/cli/commands/pulumi_destroy/); the kept resources stay in the
  stack's state, so the next `pulumi up` of the stack takes them over again, name clashes impossible.
- Every child, not just the bucket. The public access block, ownership controls, versioning, default
  encryption, lifecycle and TLS-only policy are separate AWS resources: an unprotected one would be
  deleted by `--exclude-protected` (or by a later `up` that drops it), leaving prod artifacts in a
  bucket without its guards. The Python SDK would copy `protect` from this component to its children
  (pulumi/resource.py: `opts.protect = opts.parent._protect`), but `retain_on_delete` it would not;
  each child sets `protect` itself anyway, so the decision is visible where the resource is declared.
- Outside prod nothing is protected and the stack destroys clean (with `force_destroy` emptying the
  bucket first, where the stack allows it).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# Parts left behind by interrupted uploads are billed like objects; a week is plenty.
ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS = 7


def tls_only_bucket_policy(bucket_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """Deny every request that does not use TLS (AWS Security Hub control S3.5)."""
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


@dataclass(frozen=True)
class BucketGuards:
    """The guard resources a later configuration of the same bucket may have to wait for."""

    public_access: aws.s3.BucketPublicAccessBlock
    versioning: aws.s3.BucketVersioning


def guard_bucket(
    name: str, bucket: aws.s3.Bucket, key_arn: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> BucketGuards:
    """Make `bucket` private, owner-enforced, versioned, SSE-KMS encrypted under `key_arn` and TLS-only.

    Shared by the artifact store and the bootstrap's state bucket (pipeline/state_backend.py). The
    children are named `<name>-public-access`, `-ownership`, `-versioning`, `-encryption` and
    `-tls-only`, and take `opts` (their parent, and whether they are protected): their URNs are those
    of deployed stacks (tests/test_urns.py), so neither may change.
    """
    bucket_id = bucket.id
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket_id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket_id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=opts,
    )
    versioning = aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket_id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=opts,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket_id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms",
                    kms_master_key_id=key_arn,
                ),
                # An S3 Bucket Key cuts the KMS requests (and their cost) S3 makes per object:
                # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html
                bucket_key_enabled=True,
            )
        ],
        opts=opts,
    )
    aws.s3.BucketPolicy(
        f"{name}-tls-only",
        bucket=bucket_id,
        policy=tls_only_bucket_policy(bucket.arn),
        # With the public access block applied first, a policy can never open the bucket.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[public_access])),
    )
    return BucketGuards(public_access=public_access, versioning=versioning)


@dataclass(frozen=True)
class ArtifactStoreArgs:
    """The key the bucket encrypts with, how long artifacts live, and what a destroy may do to it."""

    key_arn: pulumi.Input[str]
    expiry_days: int
    # True lets `pulumi destroy` delete a bucket that still holds artifacts (and their versions).
    force_destroy: bool = False
    # True protects the bucket and all its configuration from any deletion (the module docstring).
    keep_on_destroy: bool = False


class ArtifactStore(pulumi.ComponentResource):
    """Where CodePipeline keeps the artifacts passed between stages."""

    bucket: aws.s3.Bucket

    def __init__(self, name: str, args: ArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("cicd:s3:ArtifactStore", name, None, opts)
        # None (not False) when not kept: a caller that protects this component still protects its children.
        child = pulumi.ResourceOptions(parent=self, protect=True if args.keep_on_destroy else None)
        self.bucket = aws.s3.Bucket(name, force_destroy=args.force_destroy, opts=child)
        guards = guard_bucket(name, self.bucket, args.key_arn, child)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-old-artifacts",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.expiry_days),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=args.expiry_days
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS
                    ),
                )
            ],
            # S3 rejects a lifecycle rule on noncurrent versions until versioning is on.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[guards.versioning])),
        )
        self.arn = self.bucket.arn
        self.bucket_name = self.bucket.bucket
        self.register_outputs({"arn": self.bucket.arn, "bucket": self.bucket.bucket})
