"""CodeBuild: one project per pipeline step, each with its own role, policy and log group."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from pipeline.iam import ServiceRole, Statement, statement
from pipeline.provider import AwsAccount
from pipeline.settings import ASSUME_ROLE_VARIABLE, BACKEND_URL_VARIABLE, STACK_VARIABLE, BuildSecret, Settings

BUILDSPEC_DIR = Path(__file__).resolve().parent.parent / "buildspecs"

# CodeBuild waits this long for capacity before it gives up on a queued build.
QUEUED_TIMEOUT_MINUTES = 60


@dataclass(frozen=True)
class BuildStep:
    """What distinguishes one CodeBuild project from another in this pipeline."""

    name: str
    buildspec: str
    description: str
    assume_role_arn: str


def build_steps(settings: Settings) -> tuple[BuildStep, BuildStep]:
    """The two steps: test and preview on every change, deploy after approval."""
    return (
        BuildStep("build", "build.yml", "Install, run the tests, and pulumi preview", settings.preview_role_arn),
        BuildStep("deploy", "deploy.yml", "pulumi up --yes", settings.deploy_role_arn),
    )


def read_buildspec(file_name: str) -> str:
    return (BUILDSPEC_DIR / file_name).read_text(encoding="utf-8")


def secret_statements(
    account: AwsAccount, secrets: tuple[BuildSecret, ...], stored: Mapping[str, pulumi.Input[str]] | None = None
) -> list[Statement]:
    """Read access to exactly the secrets and parameters the builds reference."""
    manager: list[pulumi.Input[str]] = [secret.reference for secret in secrets if secret.store == "SECRETS_MANAGER"]
    manager += (stored or {}).values()
    parameters = [
        account.arn("ssm", "parameter" + secret.reference) for secret in secrets if secret.store == "PARAMETER_STORE"
    ]
    statements: list[Statement] = []
    if manager:
        statements.append(statement("ReadBuildSecrets", ["secretsmanager:GetSecretValue"], manager))
    if parameters:
        statements.append(statement("ReadBuildParameters", ["ssm:GetParameters"], parameters))
    return statements


def log_group_name(settings: Settings, step_name: str) -> str:
    """A step's log group (the permissions boundary names them all with the step `*`)."""
    return f"/{settings.project}/{settings.environment}/codebuild/{step_name}"


def build_role_statements(
    settings: Settings,
    account: AwsAccount,
    step: BuildStep,
    *,
    log_group_arn: pulumi.Input[str],
    artifact_bucket_arn: pulumi.Input[str],
    key_arn: pulumi.Input[str],
    stored_secrets: Mapping[str, pulumi.Input[str]] | None = None,
) -> list[Statement]:
    """What one build step's role may do: its own logs, the artifacts, the key, its secrets, its step role."""
    statements: list[Statement] = [
        statement(
            "WriteOwnLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [log_group_arn, pulumi.Output.concat(log_group_arn, ":log-stream:*")],
        ),
        statement(
            "ReadWritePipelineArtifacts",
            ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
            [pulumi.Output.concat(artifact_bucket_arn, "/*")],
        ),
        statement("LocateArtifactBucket", ["s3:GetBucketAcl", "s3:GetBucketLocation"], [artifact_bucket_arn]),
        statement("UsePipelineKey", ["kms:Decrypt", "kms:GenerateDataKey"], [key_arn]),
        *secret_statements(account, settings.build_secrets, stored_secrets),
    ]
    statements.append(statement("AssumeStepRole", ["sts:AssumeRole"], [step.assume_role_arn]))
    return statements


def environment_variables(
    settings: Settings, step: BuildStep, stored: Mapping[str, pulumi.Input[str]] | None = None
) -> list[aws.codebuild.ProjectEnvironmentEnvironmentVariableArgs]:
    """Plain settings in the clear; secrets only as references CodeBuild resolves at run time.

    `stored` maps variable names to the ARNs of secrets this stack keeps in Secrets Manager.
    """
    # Both steps always assume their bootstrap role (the settings require one); the buildspecs refuse to
    # run pulumi as the CodeBuild role.
    plain = [(STACK_VARIABLE, settings.deploy_stack), (ASSUME_ROLE_VARIABLE, step.assume_role_arn)]
    plain += settings.build_environment
    if settings.backend_url:
        # `pulumi login` reads the backend from PULUMI_BACKEND_URL (buildspecs/*.yml).
        plain.append((BACKEND_URL_VARIABLE, settings.backend_url))
    variables = [
        aws.codebuild.ProjectEnvironmentEnvironmentVariableArgs(name=name, value=value, type="PLAINTEXT")
        for name, value in plain
    ]
    variables += [
        aws.codebuild.ProjectEnvironmentEnvironmentVariableArgs(
            name=secret.name, value=secret.reference, type=secret.store
        )
        for secret in settings.build_secrets
    ]
    variables += [
        aws.codebuild.ProjectEnvironmentEnvironmentVariableArgs(name=name, value=arn, type="SECRETS_MANAGER")
        for name, arn in (stored or {}).items()
    ]
    return variables


class BuildProject(pulumi.ComponentResource):
    """A CodeBuild project for one pipeline step, with a role that can touch only what it needs."""

    project: aws.codebuild.Project
    log_group: aws.cloudwatch.LogGroup
    service_role: ServiceRole

    def __init__(
        self,
        name: str,
        *,
        settings: Settings,
        step: BuildStep,
        account: AwsAccount,
        artifact_bucket_arn: pulumi.Input[str],
        key_arn: pulumi.Input[str],
        permissions_boundary: pulumi.Input[str],
        stored_secrets: Mapping[str, pulumi.Input[str]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cicd:codebuild:BuildProject", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=log_group_name(settings, step.name),
            retention_in_days=settings.log_retention_days,
            kms_key_id=key_arn,
            opts=child,
        )
        self.service_role = ServiceRole(
            f"{name}-role",
            service="codebuild.amazonaws.com",
            account_id=account.account_id,
            statements=build_role_statements(
                settings,
                account,
                step,
                log_group_arn=self.log_group.arn,
                artifact_bucket_arn=artifact_bucket_arn,
                key_arn=key_arn,
                stored_secrets=stored_secrets,
            ),
            permissions_boundary=permissions_boundary,
            description=f"CodeBuild {step.name} step of {settings.project} {settings.environment}",
            opts=child,
        )
        self.project = aws.codebuild.Project(
            name,
            description=step.description,
            service_role=self.service_role.arn,
            build_timeout=settings.build_timeout_minutes,
            queued_timeout=QUEUED_TIMEOUT_MINUTES,
            encryption_key=key_arn,
            source=aws.codebuild.ProjectSourceArgs(type="CODEPIPELINE", buildspec=read_buildspec(step.buildspec)),
            artifacts=aws.codebuild.ProjectArtifactsArgs(type="CODEPIPELINE"),
            environment=aws.codebuild.ProjectEnvironmentArgs(
                type="LINUX_CONTAINER",
                compute_type=settings.compute_type,
                image=settings.build_image,
                image_pull_credentials_type="CODEBUILD",
                privileged_mode=False,
                environment_variables=environment_variables(settings, step, stored_secrets),
            ),
            cache=aws.codebuild.ProjectCacheArgs(type="LOCAL", modes=["LOCAL_SOURCE_CACHE", "LOCAL_CUSTOM_CACHE"]),
            logs_config=aws.codebuild.ProjectLogsConfigArgs(
                cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(
                    status="ENABLED", group_name=self.log_group.name
                ),
                s3_logs=aws.codebuild.ProjectLogsConfigS3LogsArgs(status="DISABLED"),
            ),
            # CodeBuild checks the role when the project is created; a role whose policy is
            # not attached yet fails with "not authorized to perform sts:AssumeRole".
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.service_role.policy]),
        )
        self.project_name = self.project.name
        self.arn = self.project.arn
        self.register_outputs({"name": self.project.name, "arn": self.project.arn})
