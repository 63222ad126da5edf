"""CodeBuild: one project per pipeline step, each with its own role, policy and log group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pulumi
import pulumi_aws as aws

from pipeline.iam import ServiceRole, ServiceRoleArgs, Statement, statement
from pipeline.provider import AwsAccount
from pipeline.reports import (
    CoverageFormat,
    TestReports,
    TestReportsArgs,
    report_group_pattern,
    report_statements,
    reports_section,
)
from pipeline.shared import Foundation, SharedResources, StackNames

BUILDSPEC_DIR = Path(__file__).resolve().parent.parent / "buildspecs"

# CodeBuild waits this long for capacity before it gives up on a queued build.
QUEUED_TIMEOUT_MINUTES = 60

# The build variables the projects set themselves (buildspecs/*.yml read them); a configured variable
# may not take one of these names.
STACK_VARIABLE = "PULUMI_STACK"
ASSUME_ROLE_VARIABLE = "ASSUME_ROLE_ARN"
PULUMI_TOKEN_VARIABLE = "PULUMI_ACCESS_TOKEN"
BACKEND_URL_VARIABLE = "PULUMI_BACKEND_URL"
# The folder of the service's Pulumi project and tests, relative to the checkout; set only where the
# service names one (the buildspecs `cd` into it, and stay at the root without it).
DIRECTORY_VARIABLE = "SERVICE_DIRECTORY"

SecretStore = Literal["SECRETS_MANAGER", "PARAMETER_STORE"]


@dataclass(frozen=True)
class BuildSecret:
    """An environment variable a build reads from Secrets Manager or SSM, never in plain text."""

    name: str
    reference: str
    store: SecretStore


@dataclass(frozen=True)
class BuildStep:
    """What distinguishes one CodeBuild project from another in this pipeline."""

    name: str
    buildspec: str
    description: str
    assume_role_arn: str
    # The step runs the service's tests and publishes their results to report groups of its own
    # (pipeline/reports.py).
    test_reports: bool = False


def build_steps(*, preview_role_arn: str, deploy_role_arn: str) -> tuple[BuildStep, BuildStep]:
    """The two steps: test and preview on every change, deploy after approval; each assumes its own role."""
    return (
        BuildStep(
            "build", "build.yml", "Install, run the tests, and pulumi preview", preview_role_arn, test_reports=True
        ),
        BuildStep("deploy", "deploy.yml", "pulumi up --yes", deploy_role_arn),
    )


@dataclass(frozen=True)
class BuildConfig:
    """What both steps of one pipeline run with: the stack they act on, the machine, the limits, the variables."""

    # The Pulumi stack the steps preview and deploy, and its backend (s3://...; "" for Pulumi Cloud,
    # whose token then comes as a stored secret).
    deploy_stack: str
    backend_url: str
    image: str
    compute_type: str
    timeout_minutes: int
    log_retention_days: int
    variables: tuple[tuple[str, str], ...] = ()
    secrets: tuple[BuildSecret, ...] = ()
    # Where in the checkout the steps run (a monorepo's service folder); "" for the root.
    directory: str = ""
    # The format of the coverage file the service's tests write (reports/coverage.xml); None: no coverage
    # report group.
    coverage_format: CoverageFormat | None = None


@dataclass(frozen=True)
class BuildProjectArgs:
    """One step's CodeBuild project: whose it is, which step, and how it runs."""

    names: StackNames
    step: BuildStep
    config: BuildConfig


def read_buildspec(file_name: str) -> str:
    return (BUILDSPEC_DIR / file_name).read_text(encoding="utf-8")


def buildspec_for(args: BuildProjectArgs) -> str:
    """The step's buildspec file, and for a step that publishes test results its `reports:` section,
    which names the service's folder (pipeline/reports.py)."""
    text = read_buildspec(args.step.buildspec)
    if args.step.test_reports:
        text += reports_section(args.config.directory, args.config.coverage_format)
    return text


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


def log_group_name(names: StackNames, step_name: str) -> str:
    """A step's log group: `/cicd-pipeline/dev/codebuild/build`, or `/cicd-pipeline/dev/api/codebuild/build`
    for the service `api` (fixed names: the implicit service keeps today's)."""
    return f"{names.log_root}/codebuild/{step_name}"


def log_group_pattern(names: StackNames) -> str:
    """Every step's log group of every pipeline named like `names`, as an IAM resource pattern.

    One pattern for all services (`/cicd-pipeline/dev/*/codebuild/*`), not one per service: the
    permissions boundary is a managed policy of at most 6,144 characters, and fifty services' own
    log group ARNs alone would pass that
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
    """
    return log_group_name(names.for_service("*") if names.service else names, "*")


def report_grants(args: BuildProjectArgs, account: AwsAccount, reports: TestReports | None = None) -> list[Statement]:
    """A publishing step's grants on its own report groups; without `reports`, on every report group of the
    stack by pattern, for the permissions boundary, which exists before the groups (pipeline/boundary.py)."""
    if not args.step.test_reports:
        return []
    if reports is not None:
        return reports.statements()
    every_group: Sequence[pulumi.Input[str]] = [account.arn("codebuild", report_group_pattern(args.names))]
    return report_statements(
        test_groups=every_group, coverage_groups=every_group if args.config.coverage_format is not None else ()
    )


def build_role_statements(
    args: BuildProjectArgs,
    shared: SharedResources,
    *,
    log_group_arn: pulumi.Input[str],
    reports: TestReports | None = None,
) -> list[Statement]:
    """What one build step's role may do: its own logs, the artifacts, the key, its secrets, its step role,
    and its test reports. The report export's uploads to the artifact store are the artifact grants below
    (the build role uploads them, pipeline/reports.py)."""
    artifact_bucket_arn = shared.artifact_bucket_arn
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
        statement("UsePipelineKey", ["kms:Decrypt", "kms:GenerateDataKey"], [shared.key_arn]),
        *secret_statements(shared.account, args.config.secrets, shared.stored_secrets),
    ]
    statements.append(statement("AssumeStepRole", ["sts:AssumeRole"], [args.step.assume_role_arn]))
    statements += report_grants(args, shared.account, reports)
    return statements


def environment_variables(
    args: BuildProjectArgs,
    stored: Mapping[str, pulumi.Input[str]] | None = None,
    reports: Mapping[str, pulumi.Input[str]] | None = None,
) -> list[aws.codebuild.ProjectEnvironmentEnvironmentVariableArgs]:
    """Plain values in the clear; secrets only as references CodeBuild resolves at run time.

    `stored` maps variable names to the ARNs of secrets this stack keeps in Secrets Manager; `reports`
    maps the report group variables to the step's groups' ARNs (not secret: the buildspec's `reports:`
    keys, pipeline/reports.py).
    """
    config = args.config
    # Both steps always assume their bootstrap role; the buildspecs refuse to run pulumi as the CodeBuild role.
    plain: list[tuple[str, pulumi.Input[str]]] = [
        (STACK_VARIABLE, config.deploy_stack),
        (ASSUME_ROLE_VARIABLE, args.step.assume_role_arn),
    ]
    plain += config.variables
    if config.backend_url:
        # `pulumi login` reads the backend from PULUMI_BACKEND_URL (buildspecs/*.yml).
        plain.append((BACKEND_URL_VARIABLE, config.backend_url))
    if config.directory:
        plain.append((DIRECTORY_VARIABLE, config.directory))
    plain += (reports or {}).items()
    variables = [
        aws.codebuild.ProjectEnvironmentEnvironmentVariableArgs(name=name, value=value, type="PLAINTEXT")
        for name, value in plain
    ]
    variables += [
        aws.codebuild.ProjectEnvironmentEnvironmentVariableArgs(
            name=secret.name, value=secret.reference, type=secret.store
        )
        for secret in config.secrets
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
    # The step's report groups, where it publishes test results (the Build step); None for the others.
    reports: TestReports | None

    def __init__(
        self, name: str, args: BuildProjectArgs, shared: Foundation, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("cicd:codebuild:BuildProject", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        step, config = args.step, args.config
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=log_group_name(args.names, step.name),
            retention_in_days=config.log_retention_days,
            kms_key_id=shared.key_arn,
            opts=child,
        )
        self.reports = (
            TestReports(
                f"{name}-reports",
                TestReportsArgs(names=args.names, coverage_format=config.coverage_format),
                shared,
                opts=child,
            )
            if step.test_reports
            else None
        )
        self.service_role = ServiceRole(
            f"{name}-role",
            ServiceRoleArgs(
                service="codebuild.amazonaws.com",
                account_id=shared.account.account_id,
                statements=build_role_statements(args, shared, log_group_arn=self.log_group.arn, reports=self.reports),
                permissions_boundary=shared.permissions_boundary_arn,
                description=f"CodeBuild {step.name} step of {args.names.label}",
            ),
            opts=child,
        )
        self.project = aws.codebuild.Project(
            name,
            description=step.description,
            service_role=self.service_role.arn,
            build_timeout=config.timeout_minutes,
            queued_timeout=QUEUED_TIMEOUT_MINUTES,
            encryption_key=shared.key_arn,
            source=aws.codebuild.ProjectSourceArgs(type="CODEPIPELINE", buildspec=buildspec_for(args)),
            artifacts=aws.codebuild.ProjectArtifactsArgs(type="CODEPIPELINE"),
            environment=aws.codebuild.ProjectEnvironmentArgs(
                type="LINUX_CONTAINER",
                compute_type=config.compute_type,
                image=config.image,
                image_pull_credentials_type="CODEBUILD",
                privileged_mode=False,
                environment_variables=environment_variables(
                    args, shared.stored_secrets, self.reports.variables() if self.reports else None
                ),
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
