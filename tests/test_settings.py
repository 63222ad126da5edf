"""Settings: every config key and service field, good and bad values, and the defaults each stack gets."""

from __future__ import annotations

from typing import Any, ClassVar

import botocore.session
import pulumi
import pydantic
import pytest
from pulumi.runtime.sync_await import _sync_await

from harness.stack_config import PROJECT_DIR, project_file, qualify, stack_config
from pipeline.build import BuildSecret
from pipeline.chatbot import (
    CONFIGURATION_NAME_MAX,
    CONFIGURATION_NAME_PATTERN,
    SLACK_CHANNEL_ID_MAX,
    SLACK_CHANNEL_ID_PATTERN,
    SLACK_TEAM_ID_PATTERN,
)
from pipeline.settings import (
    COMPUTE_TYPES,
    DERIVED_NAMES,
    EXECUTION_MODES,
    SERVICE_NAME_MAX,
    ServiceConfig,
    ServiceSettings,
    Settings,
    load_settings,
    max_service_name_length,
)
from tests.support import settings_for
from tools import config_docs

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:pulumi-token-AbCdEf"
ROLE_ARN = "arn:aws:iam::123456789012:role/pulumi-deploy"
OTHER_ROLE_ARN = "arn:aws:iam::210987654321:role/other-deploy"
CONNECTION_ARN = "arn:aws:codestar-connections:eu-west-1:123456789012:connection/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"
DEV_PREVIEW = "arn:aws:iam::123456789012:role/cicd-bootstrap-preview-eu-west-1"
DEV_DEPLOY = "arn:aws:iam::123456789012:role/cicd-bootstrap-deploy-eu-west-1"
# Keys of Pulumi.yaml without a type: a list of objects, which project config cannot type
# (https://github.com/pulumi/pulumi/issues/11321); the settings model validates it instead.
UNTYPED_KEYS = {"services"}


def services(*entries: Any, **overrides: Any) -> dict[str, Any]:
    """Overrides that replace the stack's one repository with `services` (the stack files set `repository`)."""
    return {"repository": None, "services": list(entries), **overrides}


API = {"name": "api", "repository": "my-org/platform"}
# The examples of pulumi-aws's chatbot.SlackChannelConfiguration (slack_team_id, slack_channel_id).
SLACK = {"slackWorkspaceId": "T07EA123LEP", "slackChannelId": "C07EZ1ABC23"}
WEB = {"name": "web", "repository": "my-org/platform"}


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
        deploy_role_arn=DEV_DEPLOY,
        preview_role_arn=DEV_PREVIEW,
        backend_url="s3://cicd-state-123456789012-eu-west-1",
        build_environment=(),
        build_secrets=(),
        services=settings.services,
        extra_tags=(("Team", "platform"), ("CostCenter", "engineering")),
    )
    assert (settings.source.type, settings.source.repository, settings.source.branch) == (
        "codestar",
        "my-org/my-service",
        "main",
    )


def test_without_services_repository_and_branch_make_one_service_named_empty() -> None:
    """Today's stack files keep working: one pipeline, named "", with today's resource names."""
    settings = settings_for({"branch": "release", "deployStack": "my-org/my-service/dev"})
    assert settings.services == (
        ServiceSettings(
            name="",
            repository="my-org/my-service",
            branch="release",
            paths=(),
            directory="",
            deploy_stack="my-org/my-service/dev",
            require_approval=False,
            compute_type="BUILD_GENERAL1_SMALL",
            preview_role_arn=DEV_PREVIEW,
            deploy_role_arn=DEV_DEPLOY,
        ),
    )
    assert settings.service_prefix(settings.services[0]) == "cicd-dev"


def test_the_implicit_service_of_an_s3_source_has_no_repository() -> None:
    settings = settings_for({"sourceType": "s3", "sourceBucket": "my-source-bucket"}, stack="prod")
    (service,) = settings.services
    assert (service.name, service.repository, service.require_approval, service.compute_type) == (
        "",
        "",
        True,
        "BUILD_GENERAL1_MEDIUM",
    )


def test_per_service_overrides_resolve_over_the_stack_defaults() -> None:
    settings = settings_for(
        services(
            {
                **API,
                "branch": "trunk",
                "paths": ["services/api/**", "libs/**"],
                "directory": "services/api",
                "deployStack": "my-org/api/prod",
                "requireApproval": False,  # YAML's false in the stack file
                "computeType": "BUILD_GENERAL1_LARGE",
                "previewRoleArn": ROLE_ARN,
                "deployRoleArn": OTHER_ROLE_ARN,
            },
            {**WEB, "requireApproval": "auto"},
            {"name": "billing", "repository": "my-org/billing", "requireApproval": "TRUE"},
            branch="release",
            deployStack="shared",
        ),
        stack="prod",
    )
    api, web, billing = settings.services
    assert api == ServiceSettings(
        name="api",
        repository="my-org/platform",
        branch="trunk",
        paths=("services/api/**", "libs/**"),
        directory="services/api",
        deploy_stack="my-org/api/prod",
        require_approval=False,
        compute_type="BUILD_GENERAL1_LARGE",
        preview_role_arn=ROLE_ARN,
        deploy_role_arn=OTHER_ROLE_ARN,
    )
    # Left out or auto: the stack's value (prod: approval on, MEDIUM compute, the bootstrap's roles).
    assert web == ServiceSettings(
        name="web",
        repository="my-org/platform",
        branch="release",
        deploy_stack="shared",
        require_approval=True,
        compute_type="BUILD_GENERAL1_MEDIUM",
        preview_role_arn="arn:aws:iam::210987654321:role/cicd-bootstrap-preview-eu-west-1",
        deploy_role_arn="arn:aws:iam::210987654321:role/cicd-bootstrap-deploy-eu-west-1",
    )
    assert billing.require_approval is True
    assert [settings.service_prefix(service) for service in settings.services] == [
        "cicd-prod-api",
        "cicd-prod-web",
        "cicd-prod-billing",
    ]
    # The stack-level source keeps only what every service shares.
    assert (settings.source.type, settings.source.repository) == ("codestar", "")


def test_a_dev_services_stack_defaults_to_no_approval() -> None:
    settings = settings_for(services(API, {**WEB, "requireApproval": "true"}))
    assert [service.require_approval for service in settings.services] == [False, True]


def test_settings_are_frozen() -> None:
    settings = settings_for()
    with pytest.raises(pydantic.ValidationError):
        settings.environment = "prod"
    with pytest.raises(pydantic.ValidationError):
        settings.services[0].branch = "other"


def test_settings_always_hold_a_service() -> None:
    settings = settings_for()
    with pytest.raises(pydantic.ValidationError):
        Settings(**{**dict(settings), "services": ()})


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
    ({"requireApproval": " True "}, "require_approval", True),
    ({"environment": "production", "requireApproval": "false"}, "require_approval", False),
    ({"environment": "production"}, "force_destroy_artifacts", False),
    ({"forceDestroyArtifacts": "false"}, "force_destroy_artifacts", False),
    ({"executionMode": "SUPERSEDED"}, "execution_mode", "SUPERSEDED"),
    ({}, "rollback_on_failure", True),
    ({"executionMode": "PARALLEL", "rollbackOnFailure": "false"}, "execution_mode", "PARALLEL"),
    ({"executionMode": "PARALLEL", "rollbackOnFailure": "false"}, "rollback_on_failure", False),
    ({}, "services.0.coverage_format", None),
    ({"coverageFormat": "COBERTURAXML"}, "services.0.coverage_format", "COBERTURAXML"),
    (services({**API, "coverageFormat": "JACOCOXML"}), "services.0.coverage_format", "JACOCOXML"),
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
    ({"services": []}, "services.0.name", ""),
    ({}, "slack.enabled", False),
    (SLACK, "slack.enabled", True),
    (SLACK, "slack.workspace_id", "T07EA123LEP"),
    (SLACK, "slack.channel_id", "C07EZ1ABC23"),
    ({**SLACK, "slackChannelId": "c" * 255}, "slack.channel_id", "c" * 255),
    # Service fields, each at its edge.
    (services({**API, "name": "a1"}), "services.0.name", "a1"),
    (services({**API, "name": "a" * SERVICE_NAME_MAX}), "services.0.name", "a" * SERVICE_NAME_MAX),
    (services({**API, "name": "api-v2"}), "services.0.name", "api-v2"),
    (services({**API, "repository": "Org-1/repo.name_x"}), "services.0.repository", "Org-1/repo.name_x"),
    (services({**API, "branch": "release/1.2"}), "services.0.branch", "release/1.2"),
    (services({**API, "paths": ["a" * 255, *["x/**"] * 7]}), "services.0.paths", ("a" * 255, *["x/**"] * 7)),
    (services({**API, "paths": []}), "services.0.paths", ()),
    (services({**API, "directory": "services/api_v2/.infra"}), "services.0.directory", "services/api_v2/.infra"),
    (services({**API, "directory": ""}), "services.0.directory", ""),
    (services({**API, "deployStack": "my-org/api/dev"}), "services.0.deploy_stack", "my-org/api/dev"),
    (services({**API, "requireApproval": True}), "services.0.require_approval", True),
    (services({**API, "computeType": "BUILD_GENERAL1_2XLARGE"}), "services.0.compute_type", "BUILD_GENERAL1_2XLARGE"),
    (services({**API, "previewRoleArn": ROLE_ARN}), "services.0.preview_role_arn", ROLE_ARN),
    (services({**API, "deployRoleArn": ROLE_ARN}), "services.0.deploy_role_arn", ROLE_ARN),
    (services(API, WEB, {**API, "name": "api-2"}), "services.2.name", "api-2"),
]  # fmt: skip


def _attribute(settings: Settings, path: str) -> Any:
    value: Any = settings
    for part in path.split("."):
        value = value[int(part)] if part.isdigit() else getattr(value, part)
    return value


@pytest.mark.parametrize(("overrides", "path", "expected"), GOOD_VALUES, ids=[path for _, path, _ in GOOD_VALUES])
def test_good_value(overrides: dict[str, Any], path: str, expected: Any) -> None:
    assert _attribute(settings_for(overrides), path) == expected


# Checks left to AWS: the AWS provider refuses these values itself when `pulumi preview` (which
# `pulumi up` runs first) checks the resource, before anything is created, naming the property and
# what it allows. terraform-provider-aws, internal/service/logs/group.go: retention_in_days
# validation.IntInSlice([0 1 3 5 7 14 30 ...]); internal/service/codebuild/project.go: build_timeout
# validation.IntBetween(5, 2160).
LEFT_TO_AWS: list[tuple[dict[str, Any], str, Any]] = [
    ({"logRetentionDays": 13}, "log_retention_days", 13),
    ({"buildTimeoutMinutes": 0}, "build_timeout_minutes", 0),
    ({"buildTimeoutMinutes": 2161}, "build_timeout_minutes", 2161),
]


@pytest.mark.parametrize(("overrides", "path", "expected"), LEFT_TO_AWS, ids=[path for _, path, _ in LEFT_TO_AWS])
def test_values_the_aws_provider_refuses_are_left_to_it(overrides: dict[str, Any], path: str, expected: Any) -> None:
    assert _attribute(settings_for(overrides), path) == expected


NAME_16 = "a" * 16  # the longest environment name

# (overrides, the key (with its --path inside a list or service) the error must name, a fragment of what it
# says is allowed). tests/security/test_bad_config.py runs the same table through the whole program.
BAD_VALUES: list[tuple[dict[str, Any], str, str]] = [
    ({"environment": None}, "cicd-pipeline:environment", "required"),
    ({"environment": "Dev"}, "cicd-pipeline:environment", "lower-case"),
    ({"environment": "a" * 17}, "cicd-pipeline:environment", "1-16 characters"),
    ({"environment": "-dev"}, "cicd-pipeline:environment", "starting with a letter"),
    ({"aws:region": None}, "aws:region", "AWS region"),
    ({"aws:region": "mars-north-1a"}, "aws:region", "AWS region"),
    ({"sourceType": "git"}, "cicd-pipeline:sourceType", "codestar, s3"),
    ({"repository": None}, "cicd-pipeline:repository", "required when sourceType is codestar"),
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
    # CodeBuild knows it, but not for the LINUX_CONTAINER environment the projects use.
    ({"computeType": "BUILD_LAMBDA_1GB"}, "cicd-pipeline:computeType", "BUILD_GENERAL1_SMALL"),
    ({"buildTimeoutMinutes": "ten"}, "cicd-pipeline:buildTimeoutMinutes", "whole number"),
    ({"logRetentionDays": "a month"}, "cicd-pipeline:logRetentionDays", "whole number"),
    ({"artifactExpiryDays": 0}, "cicd-pipeline:artifactExpiryDays", "from 1 to 3650"),
    ({"notificationEmails": ["not-an-email"]}, "cicd-pipeline:notificationEmails[0]", "e-mail addresses"),
    ({"notificationEmails": ["a@example.com", "b@"]}, "cicd-pipeline:notificationEmails[1]", "e-mail addresses"),
    ({"notificationEmails": "team@example.com"}, "cicd-pipeline:notificationEmails", "list of strings"),
    ({"alertStates": ["BROKEN"]}, "cicd-pipeline:alertStates[0]", "CANCELED, FAILED"),
    ({"requireApproval": "yes"}, "cicd-pipeline:requireApproval", "auto, true, false"),
    ({"forceDestroyArtifacts": "1"}, "cicd-pipeline:forceDestroyArtifacts", "auto, true, false"),
    ({"executionMode": "SERIAL"}, "cicd-pipeline:executionMode", "QUEUED, SUPERSEDED, PARALLEL"),
    # CodePipeline has no stage rollback in PARALLEL mode, and the Deploy stage rolls back by default.
    ({"executionMode": "PARALLEL"}, "cicd-pipeline:executionMode", "no stage rollback in PARALLEL mode"),
    ({"coverageFormat": "LCOV"}, "cicd-pipeline:coverageFormat", "COBERTURAXML, CLOVERXML, JACOCOXML"),
    ({"buildEnvironment": ["TEST_REPORT_GROUP_ARN=x"]}, "cicd-pipeline:buildEnvironment[0]", "already set by the stack"),
    ({"deployStack": "has space"}, "cicd-pipeline:deployStack", "Pulumi stack name"),
    ({"deployRoleArn": "role/deploy"}, "cicd-pipeline:deployRoleArn", "IAM role ARN"),
    ({"previewRoleArn": "arn:aws:iam::123:role/x"}, "cicd-pipeline:previewRoleArn", "IAM role ARN"),
    # No identity for a step, or no backend: the first run would fail, so config time refuses it.
    ({"deployRoleArn": ""}, "cicd-pipeline:deployRoleArn", "required: the role the Deploy step assumes"),
    ({"previewRoleArn": None}, "cicd-pipeline:previewRoleArn", "required: the role the Build (preview) step assumes"),
    ({"backendUrl": ""}, "cicd-pipeline:backendUrl", "or Pulumi Cloud with `pulumi config set --secret pulumiAccessToken"),
    ({"backendUrl": "https://api.pulumi.com"}, "cicd-pipeline:backendUrl", "expected s3://<bucket>"),
    ({"backendUrl": "s3://Bad_Bucket"}, "cicd-pipeline:backendUrl", "expected s3://<bucket>"),
    ({"buildEnvironment": ["PULUMI_BACKEND_URL=s3://other"]}, "cicd-pipeline:buildEnvironment[0]", "already set by the stack (backendUrl)"),
    ({"buildEnvironment": ["NOEQUALS"]}, "cicd-pipeline:buildEnvironment[0]", "KEY=VALUE"),
    ({"buildEnvironment": ["GITHUB_TOKEN=ghp_x"]}, "cicd-pipeline:buildEnvironment[0]", "buildSecrets"),
    ({"buildEnvironment": ["A=1", "A=2"]}, "cicd-pipeline:buildEnvironment[1]", "once"),
    ({"buildEnvironment": ["1BAD=x"]}, "cicd-pipeline:buildEnvironment[0]", "letters, digits and _"),
    ({"buildSecrets": ["TOKEN=plain-text-value"]}, "cicd-pipeline:buildSecrets[0]", "never the secret itself"),
    ({"buildSecrets": ["TOKEN=arn:aws:secretsmanager:eu-west-1:123456789012:secret:npm-token"]},
     "cicd-pipeline:buildSecrets[0]", "complete ARN, ending in the -XXXXXX suffix"),
    ({"buildSecrets": ["A=/one", "A=/two"]}, "cicd-pipeline:buildSecrets[1]", "once"),
    ({"tags": ["Project=other"]}, "cicd-pipeline:tags[0]", "reserved"),
    ({"tags": ["aws:owner=x"]}, "cicd-pipeline:tags[0]", "reserved"),
    ({"tags": ["Owner=bad|value"]}, "cicd-pipeline:tags[0]", "tag values"),
    ({"tags": ["Owner=a", "Owner=b"]}, "cicd-pipeline:tags[1]", "once"),
    # Slack: both keys or neither, each the ID Chatbot's API takes.
    ({"slackWorkspaceId": "T07EA123LEP"}, "cicd-pipeline:slackChannelId", "required with slackWorkspaceId"),
    ({"slackChannelId": "C07EZ1ABC23"}, "cicd-pipeline:slackWorkspaceId", "required with slackChannelId"),
    ({**SLACK, "slackWorkspaceId": "t07ea123lep"}, "cicd-pipeline:slackWorkspaceId", "Slack workspace ID"),
    ({**SLACK, "slackWorkspaceId": "my-team.slack.com"}, "cicd-pipeline:slackWorkspaceId", "Slack workspace ID"),
    ({**SLACK, "slackChannelId": "#alerts"}, "cicd-pipeline:slackChannelId", "not its #name"),
    ({**SLACK, "slackChannelId": "C" * 256}, "cicd-pipeline:slackChannelId", "Slack channel ID"),
    # services: the key itself
    ({"services": "api"}, "cicd-pipeline:services", "a list of services"),
    ({"repository": None, "services": {"name": "api"}}, "cicd-pipeline:services", "a list of services"),
    (services("api"), "cicd-pipeline:services[0]", "expected a service"),
    ({"services": [API]}, "cicd-pipeline:repository", "one or the other"),  # the stack file's repository, kept
    (services(API, sourceType="s3", sourceBucket="my-source-bucket"), "cicd-pipeline:sourceType", "must be codestar"),
    # services: each field
    (services({**API, "brnch": "main"}), "cicd-pipeline:services[0].brnch", "unknown field"),
    (services({"repository": "my-org/platform"}), "cicd-pipeline:services[0].name", "required"),
    (services({**API, "name": "API"}), "cicd-pipeline:services[0].name", "lower-case"),
    (services({**API, "name": "a"}), "cicd-pipeline:services[0].name", f"2-{SERVICE_NAME_MAX} characters"),
    (services({**API, "name": "api-"}), "cicd-pipeline:services[0].name", "not ending with '-'"),
    (services({**API, "name": "a" * (SERVICE_NAME_MAX + 1)}), "cicd-pipeline:services[0].name", f"2-{SERVICE_NAME_MAX}"),
    (services({**API, "name": 7}), "cicd-pipeline:services[0].name", "expected a string"),
    (services(API, WEB, {**WEB, "repository": "my-org/web"}), "cicd-pipeline:services[2].name", "may appear once"),
    (services({**API, "name": "a" * 19}, environment=NAME_16), "cicd-pipeline:services[0].name",
     "at most 18 characters with environment 'aaaaaaaaaaaaaaaa': the EventBridge rule"),
    (services({"name": "api"}), "cicd-pipeline:services[0].repository", "required"),
    (services({**API, "repository": "platform"}), "cicd-pipeline:services[0].repository", "owner/repo"),
    (services(API, {**WEB, "branch": "a..b"}), "cicd-pipeline:services[1].branch", "git branch name"),
    (services({**API, "paths": "services/api/**"}), "cicd-pipeline:services[0].paths", "expected a list of strings"),
    (services({**API, "paths": ["/services/api/**"]}), "cicd-pipeline:services[0].paths[0]", "relative to the repository root"),
    (services({**API, "paths": ["x/**", ""]}), "cicd-pipeline:services[0].paths[1]", "1-255 characters"),
    (services({**API, "paths": ["a" * 256]}), "cicd-pipeline:services[0].paths[0]", "1-255 characters"),
    (services({**API, "paths": ["x/**"] * 9}), "cicd-pipeline:services[0].paths", "at most 8 paths"),
    (services({**API, "directory": "../other"}), "cicd-pipeline:services[0].directory", "no '.' or '..' segments"),
    (services({**API, "directory": "services/./api"}), "cicd-pipeline:services[0].directory", "no '.' or '..'"),
    (services({**API, "directory": "/services/api"}), "cicd-pipeline:services[0].directory", "relative to the repository root"),
    (services({**API, "directory": "services/api; rm -rf ~"}), "cicd-pipeline:services[0].directory", "folder"),
    (services({**API, "deployStack": "has space"}), "cicd-pipeline:services[0].deployStack", "Pulumi stack name"),
    (services({**API, "requireApproval": "yes"}), "cicd-pipeline:services[0].requireApproval", "auto, true, false"),
    (services({**API, "computeType": "HUGE"}), "cicd-pipeline:services[0].computeType", "BUILD_GENERAL1_SMALL"),
    (services({**API, "previewRoleArn": "role/x"}), "cicd-pipeline:services[0].previewRoleArn", "IAM role ARN"),
    (services({**API, "deployRoleArn": "role/x"}), "cicd-pipeline:services[0].deployRoleArn", "IAM role ARN"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "key", "allowed"), BAD_VALUES, ids=[f"{key}={v}"[:80] for v, key, _ in BAD_VALUES]
)
def test_bad_value_names_the_key_and_what_is_allowed(overrides: dict[str, Any], key: str, allowed: str) -> None:
    with pytest.raises(pulumi.RunError) as raised:
        settings_for(overrides)
    message = str(raised.value)
    assert f"Invalid config {key}=" in message
    assert allowed in message


# (overrides, secret keys, the command the error must give)
COMMANDS: list[tuple[dict[str, Any], list[str], str]] = [
    ({"environment": "Dev"}, [], "`pulumi config set cicd-pipeline:environment <value>`"),
    ({"notificationEmails": ["not-an-email"]}, [],
     "`pulumi config set --path 'cicd-pipeline:notificationEmails[0]' <value>`"),
    ({"notificationEmails": "team@example.com"}, [],
     "`pulumi config set --path 'cicd-pipeline:notificationEmails[0]' <value>`"),
    (services(API, {**WEB, "branch": "a..b"}), [], "`pulumi config set --path 'cicd-pipeline:services[1].branch' <value>`"),
    (services({**API, "paths": "x/**"}), [], "`pulumi config set --path 'cicd-pipeline:services[0].paths[0]' <value>`"),
    (services({**API, "paths": ["x/**"] * 9}), [], "`pulumi config rm --path 'cicd-pipeline:services[0].paths[8]'`"),
    (services({**API, "brnch": "main"}), [], "`pulumi config rm --path 'cicd-pipeline:services[0].brnch'`"),
    ({"repository": None, "services": {"name": "api"}}, [],
     "`pulumi config set --path 'cicd-pipeline:services[0].name' <value>`"),
    ({"services": [API]}, [], "`pulumi config rm cicd-pipeline:repository`"),
    (services(API, sourceType="s3", sourceBucket="b-1"), [], "`pulumi config set cicd-pipeline:sourceType codestar`"),
    ({"pulumiAccessToken": "pul-" + "0" * 40}, [], "`pulumi config set --secret cicd-pipeline:pulumiAccessToken <value>`"),
    ({"slackWorkspaceId": "T07EA123LEP"}, [],
     "`pulumi config set cicd-pipeline:slackChannelId <value>`, or remove the other with "
     "`pulumi config rm cicd-pipeline:slackWorkspaceId`"),
    ({"pulumiAccessToken": "my password", "backendUrl": None}, ["pulumiAccessToken"],
     "`pulumi config set --secret cicd-pipeline:pulumiAccessToken <value>`"),
]  # fmt: skip


@pytest.mark.parametrize(("overrides", "secret", "command"), COMMANDS, ids=[command for _, _, command in COMMANDS])
def test_the_error_gives_the_command_that_fixes_it(overrides: dict[str, Any], secret: list[str], command: str) -> None:
    pulumi.runtime.set_all_config(stack_config("dev", overrides), [qualify(key) for key in secret])
    with pytest.raises(pulumi.RunError) as raised:
        load_settings(stack=lambda: "dev")
    assert command in str(raised.value)


def test_a_rejected_secret_reference_is_not_echoed() -> None:
    with pytest.raises(pulumi.RunError) as raised:
        settings_for({"buildSecrets": ["TOKEN=hunter2-plain-text"]})
    assert "hunter2" not in str(raised.value)
    assert "TOKEN=<hidden>" in str(raised.value)


@pytest.mark.parametrize("secret", [False, True], ids=["plain-text", "secret"])
def test_a_bad_token_is_not_echoed(secret: bool) -> None:
    token = "pul-" + "x" * 39 + "!" if secret else "pul-" + "7" * 40
    keys = [qualify("pulumiAccessToken")] if secret else []
    pulumi.runtime.set_all_config(stack_config("dev", {"pulumiAccessToken": token, "backendUrl": None}), keys)
    with pytest.raises(pulumi.RunError) as raised:
        load_settings(stack=lambda: "dev")
    message = str(raised.value)
    assert "Invalid config cicd-pipeline:pulumiAccessToken=<hidden>:" in message
    assert token not in message
    assert token[4:20] not in message


def test_the_token_stays_a_secret_output() -> None:
    token = "pul-" + "5" * 40
    pulumi.runtime.set_all_config(
        stack_config("dev", {"pulumiAccessToken": token, "backendUrl": None}), [qualify("pulumiAccessToken")]
    )
    settings = load_settings(stack=lambda: "dev")
    output = settings.pulumi_access_token
    assert isinstance(output, pulumi.Output)
    assert _sync_await(output.is_secret()) is True
    assert _sync_await(output.future()) == token
    # Nowhere in plain text: not in the fields, their dump or the repr.
    assert token not in repr(settings)
    assert token not in str(settings.model_dump())
    assert "pulumi_access_token" not in settings.model_dump()


def test_compute_types_are_codebuilds() -> None:
    enum = botocore.session.get_session().get_service_model("codebuild").shape_for("ComputeType").enum
    assert set(COMPUTE_TYPES) <= set(enum)


def test_execution_modes_are_codepipelines() -> None:
    enum = botocore.session.get_session().get_service_model("codepipeline").shape_for("ExecutionMode").enum
    assert set(EXECUTION_MODES) == set(enum)


def test_slack_ids_are_the_ones_chatbots_api_takes() -> None:
    """The settings check Slack IDs against the patterns of AWS Chatbot's API model, and the name fits it."""
    shapes = botocore.session.get_session().get_service_model("chatbot").shape_for
    assert shapes("SlackTeamId").metadata["pattern"] == SLACK_TEAM_ID_PATTERN
    assert shapes("SlackChannelId").metadata["pattern"] == SLACK_CHANNEL_ID_PATTERN
    assert shapes("SlackChannelId").metadata["max"] == SLACK_CHANNEL_ID_MAX
    assert shapes("ConfigurationName").metadata["pattern"] == CONFIGURATION_NAME_PATTERN
    assert shapes("ConfigurationName").metadata["max"] == CONFIGURATION_NAME_MAX


@pytest.mark.parametrize("name", DERIVED_NAMES, ids=[name.what for name in DERIVED_NAMES])
def test_derived_name_limits_are_the_apis(name: Any) -> None:
    """Each limit the service name is fitted to is the one in botocore's model of that API."""
    service, shape = name.api
    assert botocore.session.get_session().get_service_model(service).shape_for(shape).metadata["max"] == name.limit


@pytest.mark.parametrize("environment", ["a", "dev", "a" * 16], ids=["1-char", "dev", "16-char"])
def test_fifty_services_keep_every_derived_name_unique_and_within_its_limit(environment: str) -> None:
    longest, _ = max_service_name_length(environment)
    names = [f"s{index:02d}-" + "x" * (longest - 4) for index in range(50)]
    assert len(set(names)) == 50, names
    settings = settings_for(
        services(*({"name": name, "repository": "my-org/platform"} for name in names), environment=environment)
    )
    assert [service.name for service in settings.services] == names
    for derived in DERIVED_NAMES:
        rendered = [derived.render(environment, name) for name in names]
        assert len(set(rendered)) == 50, derived.what
        assert max(map(len, rendered)) <= derived.limit, derived.what
    # The implicit service's names (cicd-<env>-...) are not a named service's: no service is named "".
    assert all(settings.service_prefix(service) != settings.name_prefix for service in settings.services)


def test_the_longest_environment_leaves_room_for_the_documented_names() -> None:
    assert max_service_name_length("dev") == (SERVICE_NAME_MAX, None)
    longest, limiting = max_service_name_length("a" * 16)
    assert limiting is not None
    assert longest == 18
    assert len(limiting.render("a" * 16, "a" * longest)) == limiting.limit


class RecordingConfig(pulumi.Config):
    """A pulumi.Config that remembers which keys the settings asked for."""

    asked: ClassVar[set[str]] = set()

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        RecordingConfig.asked.add(self.full_key(key))
        return super().get(key, default)

    def get_object(self, key: str, default: Any = None) -> Any:
        RecordingConfig.asked.add(self.full_key(key))
        return super().get_object(key, default)


def declared() -> dict[str, dict[str, Any]]:
    config: dict[str, dict[str, Any]] = project_file()["config"]
    return config


def test_every_key_read_is_declared_in_pulumi_yaml() -> None:
    """Pulumi.yaml is the user's reference: each key the settings read is declared and described there."""
    settings_for()  # sets the dev config
    load_settings(config_for=RecordingConfig, stack=lambda: "dev")
    read = {key.removeprefix("cicd-pipeline:") for key in RecordingConfig.asked if key != "aws:region"}
    keys = declared()
    assert len(read) > 20, read
    assert read == set(keys), (sorted(read - set(keys)), sorted(set(keys) - read))
    for key, spec in keys.items():
        if key in UNTYPED_KEYS:
            assert "type" not in spec, f"{key} is validated by the settings model, not typed in Pulumi.yaml"
        else:
            assert spec.get("type") in {"string", "integer", "boolean", "array"}, key
        assert spec.get("description"), key
        assert "default" in spec or key == "environment" or spec.get("secret"), f"{key} has no default"


def test_the_configuration_docs_are_generated_and_current() -> None:
    docs = config_docs.DOCS.read_text(encoding="utf-8")
    assert docs == config_docs.render(), "docs/configuration.md is stale: run python -m tools.config_docs"


def test_the_configuration_docs_document_every_key_and_service_field() -> None:
    docs = config_docs.DOCS.read_text(encoding="utf-8")
    undocumented = [key for key in ["aws:region", *declared()] if f"| `{key}` |" not in docs]
    assert undocumented == []
    fields = [field.alias or name for name, field in ServiceConfig.model_fields.items()]
    assert len(fields) == 11
    assert [field for field in fields if f"| `{field}` |" not in docs] == []
    for name, field in ServiceConfig.model_fields.items():
        assert field.description, name


def test_the_readme_sends_readers_to_the_configuration_docs() -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    section = readme.split("### Configuration\n", 1)[1].split("\n## ", 1)[0]
    assert "(docs/configuration.md)" in section
    assert "| key |" not in section, "the table lives in docs/configuration.md only"


def test_a_build_longer_than_a_chained_session_is_warned_about(monkeypatch: pytest.MonkeyPatch) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    settings_for({"buildTimeoutMinutes": 60})
    assert warnings == []
    settings_for({"buildTimeoutMinutes": 61})
    assert len(warnings) == 1
    assert "buildTimeoutMinutes=61" in warnings[0]
    assert "at most 60 minutes" in warnings[0]
