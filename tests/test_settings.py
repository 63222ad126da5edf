"""Settings: every config key, good and bad values, and the defaults each stack gets."""

from __future__ import annotations

from typing import Any, ClassVar

import botocore.session
import pulumi
import pytest
import yaml

from harness.stack_config import PROJECT_DIR
from pipeline.settings import COMPUTE_TYPES, EXECUTION_MODES, BuildSecret, Settings, load_settings
from tests.support import settings_for

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:pulumi-token-AbCdEf"
ROLE_ARN = "arn:aws:iam::123456789012:role/pulumi-deploy"
CONNECTION_ARN = "arn:aws:codestar-connections:eu-west-1:123456789012:connection/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"


def test_dev_settings() -> None:
    settings = settings_for(stack="dev")
    assert settings == Settings(
        project="cicd-pipeline",
        stack="dev",
        environment="dev",
        region="eu-west-1",
        source=settings.source,
        build_image="aws/codebuild/amazonlinux-x86_64-standard:5.0",
        compute_type="BUILD_GENERAL1_SMALL",
        build_timeout_minutes=30,
        log_retention_days=14,
        artifact_expiry_days=14,
        notification_emails=("platform-team@example.com",),
        alert_states=("FAILED",),
        require_approval=False,
        force_destroy_artifacts=True,
        execution_mode="QUEUED",
        deploy_stack="dev",
        deploy_role_arn="arn:aws:iam::123456789012:role/cicd-bootstrap-deploy-eu-west-1",
        preview_role_arn="arn:aws:iam::123456789012:role/cicd-bootstrap-preview-eu-west-1",
        backend_url="s3://cicd-state-123456789012-eu-west-1",
        build_environment=(),
        build_secrets=(),
        extra_tags=(("Team", "platform"), ("CostCenter", "engineering")),
    )
    assert (settings.source.type, settings.source.repository, settings.source.branch) == (
        "codestar",
        "my-org/my-service",
        "main",
    )


def test_prod_settings_turn_on_the_safe_defaults() -> None:
    settings = settings_for(stack="prod")
    assert (settings.require_approval, settings.force_destroy_artifacts, settings.is_production) == (True, False, True)
    assert settings.alert_states == ("FAILED", "STOPPED")


def test_settings_are_frozen() -> None:
    settings = settings_for()
    with pytest.raises(AttributeError):
        settings.environment = "prod"  # type: ignore[misc]


# (overrides, the resulting setting, its expected value)
GOOD_VALUES: list[tuple[dict[str, Any], str, Any]] = [
    ({"environment": "qa-2"}, "environment", "qa-2"),
    ({"aws:region": "us-gov-west-1"}, "region", "us-gov-west-1"),
    ({"branch": "release/1.2"}, "source.branch", "release/1.2"),
    ({"repository": "Org-1/repo.name_x"}, "source.repository", "Org-1/repo.name_x"),
    ({"codestarConnectionArn": CONNECTION_ARN}, "source.connection_arn", CONNECTION_ARN),
    ({"sourceType": "s3", "sourceBucket": "my.source-bucket", "sourceObjectKey": "app/src.zip"}, "source.object_key", "app/src.zip"),
    ({"buildImage": "public.ecr.aws/codebuild/custom:1"}, "build_image", "public.ecr.aws/codebuild/custom:1"),
    ({"computeType": "BUILD_GENERAL1_LARGE"}, "compute_type", "BUILD_GENERAL1_LARGE"),
    ({"buildTimeoutMinutes": 5}, "build_timeout_minutes", 5),
    ({"buildTimeoutMinutes": 2160}, "build_timeout_minutes", 2160),
    ({"logRetentionDays": 3653}, "log_retention_days", 3653),
    ({"artifactExpiryDays": 1}, "artifact_expiry_days", 1),
    ({"notificationEmails": []}, "notification_emails", ()),
    ({"alertStates": ["SUPERSEDED", "FAILED", "FAILED"]}, "alert_states", ("FAILED", "SUPERSEDED")),
    ({"requireApproval": "true"}, "require_approval", True),
    ({"environment": "production", "requireApproval": "false"}, "require_approval", False),
    ({"environment": "production"}, "force_destroy_artifacts", False),
    ({"forceDestroyArtifacts": "false"}, "force_destroy_artifacts", False),
    ({"executionMode": "SUPERSEDED"}, "execution_mode", "SUPERSEDED"),
    ({"deployStack": "my-org/my-service/dev"}, "deploy_stack", "my-org/my-service/dev"),
    ({"deployRoleArn": ROLE_ARN}, "deploy_role_arn", ROLE_ARN),
    ({"previewRoleArn": ROLE_ARN}, "preview_role_arn", ROLE_ARN),
    ({"backendUrl": "s3://my-state/service?region=us-east-1"}, "backend_url", "s3://my-state/service?region=us-east-1"),
    ({"buildEnvironment": ["LOG_LEVEL=debug", "STATE=s3://state"]}, "build_environment",
     (("LOG_LEVEL", "debug"), ("STATE", "s3://state"))),
    ({"buildSecrets": [f"PULUMI_ACCESS_TOKEN={SECRET_ARN}", "PASSPHRASE=/ci/pulumi-passphrase"]}, "build_secrets",
     (BuildSecret("PULUMI_ACCESS_TOKEN", SECRET_ARN, "SECRETS_MANAGER"),
      BuildSecret("PASSPHRASE", "/ci/pulumi-passphrase", "PARAMETER_STORE"))),
    ({"tags": ["Owner=team a", "cost:center=42"]}, "extra_tags", (("Owner", "team a"), ("cost:center", "42"))),
]  # fmt: skip


def _attribute(settings: Settings, path: str) -> Any:
    value: Any = settings
    for part in path.split("."):
        value = getattr(value, part)
    return value


@pytest.mark.parametrize(("overrides", "path", "expected"), GOOD_VALUES, ids=[path for _, path, _ in GOOD_VALUES])
def test_good_value(overrides: dict[str, Any], path: str, expected: Any) -> None:
    assert _attribute(settings_for(overrides), path) == expected


# (overrides, the key the error must name, a fragment of what it says is allowed)
BAD_VALUES: list[tuple[dict[str, Any], str, str]] = [
    ({"environment": None}, "cicd-pipeline:environment", "required"),
    ({"environment": "Dev"}, "cicd-pipeline:environment", "lower-case"),
    ({"environment": "a" * 17}, "cicd-pipeline:environment", "1-16 characters"),
    ({"environment": "-dev"}, "cicd-pipeline:environment", "starting with a letter"),
    ({"aws:region": None}, "aws:region", "AWS region"),
    ({"aws:region": "mars-north-1a"}, "aws:region", "AWS region"),
    ({"sourceType": "git"}, "cicd-pipeline:sourceType", "codestar, s3"),
    ({"repository": "no-slash"}, "cicd-pipeline:repository", "owner/repo"),
    ({"repository": "a/b/c"}, "cicd-pipeline:repository", "owner/repo"),
    ({"branch": "feature branch"}, "cicd-pipeline:branch", "git branch name"),
    ({"branch": "a..b"}, "cicd-pipeline:branch", "git branch name"),
    ({"branch": "-x"}, "cicd-pipeline:branch", "git branch name"),
    ({"codestarConnectionArn": ROLE_ARN}, "cicd-pipeline:codestarConnectionArn", "connection/<uuid>"),
    ({"sourceType": "s3"}, "cicd-pipeline:sourceBucket", "S3 bucket name"),
    ({"sourceType": "s3", "sourceBucket": "Bad_Bucket"}, "cicd-pipeline:sourceBucket", "S3 bucket name"),
    ({"sourceType": "s3", "sourceBucket": "ok-bucket", "sourceObjectKey": "/abs.zip"}, "cicd-pipeline:sourceObjectKey", "object key"),
    ({"buildImage": "has space:1"}, "cicd-pipeline:buildImage", "image name"),
    ({"computeType": "HUGE"}, "cicd-pipeline:computeType", "BUILD_GENERAL1_SMALL"),
    ({"buildTimeoutMinutes": 0}, "cicd-pipeline:buildTimeoutMinutes", "from 5 to 2160"),
    ({"buildTimeoutMinutes": -5}, "cicd-pipeline:buildTimeoutMinutes", "from 5 to 2160"),
    ({"buildTimeoutMinutes": 2161}, "cicd-pipeline:buildTimeoutMinutes", "from 5 to 2160"),
    ({"buildTimeoutMinutes": "ten"}, "cicd-pipeline:buildTimeoutMinutes", "whole number"),
    ({"logRetentionDays": 13}, "cicd-pipeline:logRetentionDays", "allowed values are 1, 3, 5, 7, 14"),
    ({"artifactExpiryDays": 0}, "cicd-pipeline:artifactExpiryDays", "from 1 to 3650"),
    ({"notificationEmails": ["not-an-email"]}, "cicd-pipeline:notificationEmails", "e-mail addresses"),
    ({"notificationEmails": "team@example.com"}, "cicd-pipeline:notificationEmails", "list of strings"),
    ({"alertStates": ["BROKEN"]}, "cicd-pipeline:alertStates", "CANCELED, FAILED"),
    ({"requireApproval": "yes"}, "cicd-pipeline:requireApproval", "auto, true, false"),
    ({"forceDestroyArtifacts": "1"}, "cicd-pipeline:forceDestroyArtifacts", "auto, true, false"),
    ({"executionMode": "SERIAL"}, "cicd-pipeline:executionMode", "QUEUED, SUPERSEDED, PARALLEL"),
    ({"deployStack": "has space"}, "cicd-pipeline:deployStack", "Pulumi stack name"),
    ({"deployRoleArn": "role/deploy"}, "cicd-pipeline:deployRoleArn", "IAM role ARN"),
    ({"previewRoleArn": "arn:aws:iam::123:role/x"}, "cicd-pipeline:previewRoleArn", "IAM role ARN"),
    # No identity for a step, or no backend: the first run would fail, so config time refuses it.
    ({"deployRoleArn": ""}, "cicd-pipeline:deployRoleArn", "required: the role the Deploy step assumes"),
    ({"previewRoleArn": None}, "cicd-pipeline:previewRoleArn", "required: the role the Build (preview) step assumes"),
    ({"backendUrl": ""}, "cicd-pipeline:backendUrl", "or Pulumi Cloud with `pulumi config set --secret pulumiAccessToken"),
    ({"backendUrl": "https://api.pulumi.com"}, "cicd-pipeline:backendUrl", "expected s3://<bucket>"),
    ({"backendUrl": "s3://Bad_Bucket"}, "cicd-pipeline:backendUrl", "expected s3://<bucket>"),
    ({"buildEnvironment": ["PULUMI_BACKEND_URL=s3://other"]}, "cicd-pipeline:buildEnvironment", "already set by the stack (backendUrl)"),
    ({"buildEnvironment": ["NOEQUALS"]}, "cicd-pipeline:buildEnvironment", "KEY=VALUE"),
    ({"buildEnvironment": ["GITHUB_TOKEN=ghp_x"]}, "cicd-pipeline:buildEnvironment", "buildSecrets"),
    ({"buildEnvironment": ["A=1", "A=2"]}, "cicd-pipeline:buildEnvironment", "once"),
    ({"buildEnvironment": ["1BAD=x"]}, "cicd-pipeline:buildEnvironment", "letters, digits and _"),
    ({"buildSecrets": ["TOKEN=plain-text-value"]}, "cicd-pipeline:buildSecrets", "never the secret itself"),
    ({"tags": ["Project=other"]}, "cicd-pipeline:tags", "reserved"),
    ({"tags": ["aws:owner=x"]}, "cicd-pipeline:tags", "reserved"),
    ({"tags": ["Owner=bad|value"]}, "cicd-pipeline:tags", "tag values"),
]  # fmt: skip


@pytest.mark.parametrize(("overrides", "key", "allowed"), BAD_VALUES, ids=[f"{key}={v}" for v, key, _ in BAD_VALUES])
def test_bad_value_names_the_key_and_what_is_allowed(overrides: dict[str, Any], key: str, allowed: str) -> None:
    with pytest.raises(pulumi.RunError) as raised:
        settings_for(overrides)
    message = str(raised.value)
    assert f"Invalid config {key}=" in message
    assert allowed in message


def test_a_rejected_secret_reference_is_not_echoed() -> None:
    with pytest.raises(pulumi.RunError) as raised:
        settings_for({"buildSecrets": ["TOKEN=hunter2-plain-text"]})
    assert "hunter2" not in str(raised.value)


def test_compute_types_are_codebuilds() -> None:
    enum = botocore.session.get_session().get_service_model("codebuild").shape_for("ComputeType").enum
    assert set(COMPUTE_TYPES) <= set(enum)


def test_execution_modes_are_codepipelines() -> None:
    enum = botocore.session.get_session().get_service_model("codepipeline").shape_for("ExecutionMode").enum
    assert set(EXECUTION_MODES) == set(enum)


class RecordingConfig(pulumi.Config):
    """A pulumi.Config that remembers which keys the settings asked for."""

    asked: ClassVar[set[str]] = set()

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        RecordingConfig.asked.add(self.full_key(key))
        return super().get(key, default)


def test_every_key_read_is_declared_in_pulumi_yaml() -> None:
    """Pulumi.yaml is the user's reference: each key the settings read is typed and described there."""
    settings_for()  # sets the dev config
    load_settings(config_for=RecordingConfig, stack=lambda: "dev")
    read = {key.removeprefix("cicd-pipeline:") for key in RecordingConfig.asked if key != "aws:region"}
    declared = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]
    assert len(read) > 20, read
    assert read <= set(declared), sorted(read - set(declared))
    for key, spec in declared.items():
        assert spec.get("type") in {"string", "integer", "boolean", "array"}, key
        assert spec.get("description"), key
        assert "default" in spec or key == "environment" or spec.get("secret"), f"{key} has no default"


def test_readme_documents_every_config_key() -> None:
    declared = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]
    readme = (PROJECT_DIR / "README.md").read_text()
    undocumented = [key for key in declared if f"| `{key}` |" not in readme]
    assert undocumented == []


def test_a_build_longer_than_a_chained_session_is_warned_about(monkeypatch: pytest.MonkeyPatch) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    settings_for({"buildTimeoutMinutes": 60})
    assert warnings == []
    settings_for({"buildTimeoutMinutes": 61})
    assert len(warnings) == 1
    assert "buildTimeoutMinutes=61" in warnings[0]
    assert "at most 60 minutes" in warnings[0]
