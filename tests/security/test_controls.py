"""Resource controls over the whole graph, each test named after the checkov check or Security Hub control it mirrors.

Controls deliberately not applied, and why (also in the README's security model):
- CKV_AWS_18 / S3.9 (server access logging) and CKV_AWS_144 (cross-region replication): the
  artifact bucket holds short-lived, reproducible build artifacts; logging would need a second
  bucket and replication a second region, for data the next run recreates.
- CKV2_AWS_62 (S3 event notifications): nothing consumes them.
- CKV2_AWS_57 / SecretsManager.1 (automatic rotation): a Pulumi access token can only be
  rotated in Pulumi Cloud; re-run `pulumi config set --secret` and `pulumi up` to rotate it.
"""

from __future__ import annotations

from typing import Any

from harness.capture import RegisteredResource, StackGraph
from tests.security.conftest import every
from tests.security.policies import as_list, resource_policies

BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
PROJECT = "aws:codebuild/project:Project"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

# Words that mark a build variable as a credential; a PLAINTEXT variable must contain none.
CREDENTIAL_WORDS = (
    "TOKEN",
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "PASSPHRASE",
    "PRIVATE",
    "API_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
)

# CodeBuild's limits (botocore: BuildTimeOut 5-2160 minutes, QueuedTimeOut 5-480 minutes).
BUILD_TIMEOUT_MINUTES = (5, 2160)
QUEUED_TIMEOUT_MINUTES = (5, 480)


def pipeline_key_arn(graph: StackGraph) -> str:
    """The one customer-managed key everything at rest is encrypted with."""
    arn: str = graph.one(KEY).outputs["arn"]
    return arn


def configuration_of(graph: StackGraph, token: str, bucket: RegisteredResource) -> RegisteredResource:
    """The one `token` resource that configures `bucket`."""
    found = [r for r in graph.of_type(token) if r.inputs.get("bucket") == bucket.id]
    assert len(found) == 1, f"{bucket.name}: expected one {token}, found {[r.name for r in found]}"
    return found[0]


# --- S3: the artifact store -------------------------------------------------------------


def test_ckv2_aws_6_s3_8_public_access_fully_blocked(graph: StackGraph) -> None:
    """CKV2_AWS_6 with CKV_AWS_53/54/55/56, Security Hub S3.8: all four block settings on."""
    for bucket in every(graph, BUCKET):
        block = configuration_of(graph, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)
        settings = {
            key: block.inputs.get(key)
            for key in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        }
        assert settings == dict.fromkeys(settings, True), f"{bucket.name}: {settings}"


def test_ckv_aws_21_s3_14_versioning_enabled(graph: StackGraph) -> None:
    for bucket in every(graph, BUCKET):
        versioning = configuration_of(graph, "aws:s3/bucketVersioning:BucketVersioning", bucket)
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled", bucket.name


def test_ckv_aws_145_s3_17_encrypted_with_the_pipeline_key_and_bucket_key(graph: StackGraph) -> None:
    """SSE-KMS with our CMK (not the AWS-managed aws/s3 key), and an S3 Bucket Key to cut KMS calls."""
    for bucket in every(graph, BUCKET):
        encryption = configuration_of(
            graph, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", bucket
        )
        rules = encryption.inputs["rules"]
        assert len(rules) == 1, rules
        default = rules[0]["applyServerSideEncryptionByDefault"]
        assert (default["sseAlgorithm"], default.get("kmsMasterKeyId")) == ("aws:kms", pipeline_key_arn(graph))
        assert rules[0].get("bucketKeyEnabled") is True, bucket.name


def test_s3_12_ckv2_aws_65_acls_disabled(graph: StackGraph) -> None:
    for bucket in every(graph, BUCKET):
        ownership = configuration_of(graph, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", bucket)
        assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced", bucket.name


def test_ckv2_aws_61_s3_13_ckv_aws_300_lifecycle_expires_and_aborts_uploads(graph: StackGraph) -> None:
    for bucket in every(graph, BUCKET):
        lifecycle = configuration_of(graph, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", bucket)
        enabled = [rule for rule in lifecycle.inputs["rules"] if rule["status"] == "Enabled"]
        assert any(rule.get("expiration", {}).get("days") for rule in enabled), bucket.name
        assert any(rule.get("noncurrentVersionExpiration", {}).get("noncurrentDays") for rule in enabled), bucket.name
        assert any(rule.get("abortIncompleteMultipartUpload", {}).get("daysAfterInitiation") for rule in enabled), (
            bucket.name
        )


# --- KMS ---------------------------------------------------------------------------------


def test_ckv_aws_7_kms_4_keys_rotate(graph: StackGraph) -> None:
    for key in every(graph, KEY):
        assert key.inputs.get("enableKeyRotation") is True, key.name


def test_ckv_aws_227_keys_are_enabled_and_recoverable(graph: StackGraph) -> None:
    """Enabled (CKV_AWS_227), and deletable only after KMS's waiting period of 7 to 30 days."""
    for key in every(graph, KEY):
        assert key.inputs.get("isEnabled", True) is True, key.name
        assert 7 <= key.inputs.get("deletionWindowInDays", 30) <= 30, key.name


def test_ckv2_aws_64_keys_have_a_policy(graph: StackGraph) -> None:
    """Every key carries its own policy (checked statement by statement in test_resource_policies.py)."""
    keys = every(graph, KEY)
    assert {key.urn for key in keys} == {document.resource.urn for document in resource_policies(graph, KEY)}


# --- Encryption with the customer-managed key everywhere data rests ----------------------


def test_ckv_aws_26_sns_topics_encrypted_with_the_pipeline_key(graph: StackGraph) -> None:
    """CKV_AWS_26 asks for any key; ours must be the CMK: alias/aws/sns cannot let EventBridge publish."""
    for topic in every(graph, "aws:sns/topic:Topic"):
        assert topic.inputs.get("kmsMasterKeyId") == pipeline_key_arn(graph), topic.name


def test_ckv_aws_219_pipeline_artifact_store_uses_the_pipeline_key(graph: StackGraph) -> None:
    for pipeline in every(graph, "aws:codepipeline/pipeline:Pipeline"):
        stores = pipeline.inputs["artifactStores"]
        assert stores, pipeline.name
        for store in stores:
            assert store["encryptionKey"] == {"id": pipeline_key_arn(graph), "type": "KMS"}, pipeline.name


def test_ckv_aws_158_log_groups_encrypted_with_the_pipeline_key(graph: StackGraph) -> None:
    for group in every(graph, LOG_GROUP):
        assert group.inputs.get("kmsKeyId") == pipeline_key_arn(graph), group.name


def test_ckv_aws_149_secrets_encrypted_with_the_pipeline_key(graph: StackGraph) -> None:
    for secret in graph.of_type("aws:secretsmanager/secret:Secret"):
        assert secret.inputs.get("kmsKeyId") == pipeline_key_arn(graph), secret.name


def test_ckv_aws_147_codebuild_encrypted_with_the_pipeline_key(graph: StackGraph) -> None:
    """CKV_AWS_147 (CMK) and CKV_AWS_78 (artifact encryption not disabled)."""
    for project in every(graph, PROJECT):
        assert project.inputs.get("encryptionKey") == pipeline_key_arn(graph), project.name
        for artifacts in [project.inputs["artifacts"], *project.inputs.get("secondaryArtifacts", [])]:
            assert artifacts.get("encryptionDisabled") in (None, False), project.name


# --- CloudWatch Logs ----------------------------------------------------------------------


def test_ckv_aws_66_log_groups_have_retention(graph: StackGraph) -> None:
    for group in every(graph, LOG_GROUP):
        assert group.inputs.get("retentionInDays", 0) > 0, group.name


def test_ckv_aws_338_cloudwatch_16_production_keeps_logs_a_year(prod_graph: StackGraph) -> None:
    """Applied to the production stack only: dev keeps two weeks on purpose (README, security model)."""
    for group in every(prod_graph, LOG_GROUP):
        assert group.inputs["retentionInDays"] >= 365, group.name


# --- CodeBuild -----------------------------------------------------------------------------


def test_ckv_aws_316_codebuild_5_not_privileged(graph: StackGraph) -> None:
    for project in every(graph, PROJECT):
        assert project.inputs["environment"].get("privilegedMode") is False, project.name


def test_ckv_aws_314_codebuild_4_logs_to_an_encrypted_retained_group(graph: StackGraph) -> None:
    """CloudWatch logging on, into a group of this stack (so CKV_AWS_66/158 cover it); S3 logs
    either off or encrypted (CKV_AWS_311, CodeBuild.3)."""
    groups = {group.inputs["name"] for group in graph.of_type(LOG_GROUP)}
    for project in every(graph, PROJECT):
        logs = project.inputs["logsConfig"]
        assert logs["cloudwatchLogs"]["status"] == "ENABLED", project.name
        assert logs["cloudwatchLogs"]["groupName"] in groups, project.name
        s3_logs = logs.get("s3Logs", {})
        assert s3_logs.get("status", "DISABLED") == "DISABLED" or not s3_logs.get("encryptionDisabled"), project.name


def test_codebuild_2_no_credentials_in_plaintext_variables(graph: StackGraph) -> None:
    """CodeBuild.2: credentials come only as SECRETS_MANAGER / PARAMETER_STORE references."""
    for project in every(graph, PROJECT):
        for variable in project.inputs["environment"].get("environmentVariables", []):
            name = variable["name"].upper()
            if variable.get("type", "PLAINTEXT") == "PLAINTEXT":
                assert not any(word in name for word in CREDENTIAL_WORDS), f"{project.name}: {name} in plain text"
            else:
                assert variable["type"] in ("SECRETS_MANAGER", "PARAMETER_STORE"), variable
                assert variable["value"].startswith(("arn:", "/")), f"{project.name}: {name} is not a reference"


def test_codebuild_1_source_carries_no_repository_credentials(graph: StackGraph) -> None:
    """CodeBuild.1: the source arrives from the pipeline, never from a URL with a token in it."""
    for project in every(graph, PROJECT):
        sources = [project.inputs["source"], *project.inputs.get("secondarySources", [])]
        assert all(source["type"] == "CODEPIPELINE" and "location" not in source for source in sources), project.name


def test_codebuild_timeouts_are_set_within_codebuilds_limits(graph: StackGraph) -> None:
    """No checkov or Security Hub control: a build that cannot end holds its role's credentials
    for up to CodeBuild's maximum, so both timeouts are set explicitly."""
    for project in every(graph, PROJECT):
        build, queued = project.inputs.get("buildTimeout", 0), project.inputs.get("queuedTimeout", 0)
        assert BUILD_TIMEOUT_MINUTES[0] <= build <= BUILD_TIMEOUT_MINUTES[1], project.name
        assert QUEUED_TIMEOUT_MINUTES[0] <= queued <= QUEUED_TIMEOUT_MINUTES[1], project.name


def test_codebuild_projects_run_as_their_own_role(graph: StackGraph) -> None:
    """Least privilege per step: no two projects (or the pipeline) share a role."""
    roles: list[Any] = [project.inputs["serviceRole"] for project in every(graph, PROJECT)]
    roles += [pipeline.inputs["roleArn"] for pipeline in graph.of_type("aws:codepipeline/pipeline:Pipeline")]
    assert len(roles) == len(set(roles)), roles
    role_arns = {role.outputs["arn"] for role in graph.of_type("aws:iam/role:Role")}
    assert set(as_list(roles)) <= role_arns, "a step runs as a role this stack does not manage"
