"""ArtifactStore, evaluated alone."""

from __future__ import annotations

import pytest

from harness.capture import StackGraph
from pipeline.artifacts import ArtifactStore
from tests.support import KEY_ARN, evaluate_component, policy, program

# The bucket and the resources that configure it: what a prod destroy must leave in place.
BUCKET_AND_CONFIGURATION = sorted(
    [
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketPolicy:BucketPolicy",
    ]
)


def store_graph(stack: str) -> StackGraph:
    return evaluate_component(
        lambda settings, account: ArtifactStore(
            "store", program().artifact_store_args(settings, KEY_ARN), opts=account.component_options()
        ),
        stack=stack,
    )


@pytest.fixture(scope="module")
def store() -> StackGraph:
    return store_graph("dev")


@pytest.fixture(scope="module")
def prod_store() -> StackGraph:
    return store_graph("prod")


def test_public_access_is_blocked_all_four_ways(store: StackGraph) -> None:
    block = store.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert [
        block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    ] == [True] * 4


def test_objects_are_owned_by_the_bucket_owner(store: StackGraph) -> None:
    rule = store.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs["rule"]
    assert rule == {"objectOwnership": "BucketOwnerEnforced"}


def test_versioning_is_enabled(store: StackGraph) -> None:
    versioning = store.one("aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}


def test_default_encryption_is_sse_kms_with_the_given_key_and_a_bucket_key(store: StackGraph) -> None:
    (rule,) = store.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs["rules"]
    assert rule == {
        "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN},
        "bucketKeyEnabled": True,
    }


def test_lifecycle_expires_artifacts_and_old_versions(store: StackGraph) -> None:
    (rule,) = store.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    assert rule["status"] == "Enabled"
    assert rule["expiration"] == {"days": 14}  # Pulumi.dev.yaml: artifactExpiryDays
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 14}
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}


def test_lifecycle_waits_for_versioning(store: StackGraph) -> None:
    lifecycle = store.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert store.one("aws:s3/bucketVersioning:BucketVersioning").urn in lifecycle.dependencies


def test_bucket_policy_denies_every_request_without_tls(store: StackGraph) -> None:
    bucket = store.one("aws:s3/bucket:Bucket").outputs["arn"]
    (statement,) = policy(store.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])["Statement"]
    assert statement == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket, f"{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_every_sub_resource_configures_this_bucket(store: StackGraph) -> None:
    bucket = store.one("aws:s3/bucket:Bucket")
    subs = [r for r in store.custom() if r.type.startswith("aws:s3/bucket") and r is not bucket]
    assert len(subs) == 6
    assert all(sub.inputs["bucket"] == bucket.outputs["bucket"] and sub.depends_on("bucket", bucket) for sub in subs)


def test_prod_protects_the_bucket_and_every_resource_configuring_it(prod_store: StackGraph) -> None:
    """Protected, not retained: pipeline/artifacts.py says why; a destroy must leave no guard behind."""
    kept = list(prod_store.custom())
    assert sorted(resource.type for resource in kept) == BUCKET_AND_CONFIGURATION
    assert [resource.name for resource in kept if not resource.protect] == []
    assert [resource.name for resource in kept if resource.retain_on_delete] == []


def test_dev_destroys_clean(store: StackGraph) -> None:
    assert [r.name for r in store.custom() if r.protect or r.retain_on_delete] == []
