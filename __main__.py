"""cicd-pipeline: an AWS CodePipeline that tests, previews and deploys a Pulumi project.

This file maps the stack's settings to each component's args, and composes the components. The
components in pipeline/ hold the AWS detail and know nothing of this stack's configuration, so
another Pulumi program can build them from args of its own (tests/test_reuse.py does).
"""

from __future__ import annotations

import pulumi

from pipeline.artifacts import ArtifactStore, ArtifactStoreArgs
from pipeline.boundary import PermissionsBoundary, PermissionsBoundaryArgs
from pipeline.build import BuildConfig, BuildProject, BuildProjectArgs, BuildSecret, build_steps
from pipeline.delivery import DeliveryPipeline, DeliveryPipelineArgs
from pipeline.encryption import PipelineKey, PipelineKeyArgs
from pipeline.github import GitHubActionsAccess, GitHubActionsArgs
from pipeline.notifications import AlertTopic, AlertTopicArgs, FailureAlert, FailureAlertArgs
from pipeline.provider import AwsAccount, AwsAccountArgs
from pipeline.secret_store import stored_build_secrets
from pipeline.settings import Settings, load_settings
from pipeline.shared import SharedResources, StackNames
from pipeline.source import ObjectSource, PipelineSource, RepositorySource, SourceConnection, SourceConnectionArgs


def stack_names(settings: Settings) -> StackNames:
    return StackNames(project=settings.project, environment=settings.environment, prefix=settings.name_prefix)


def account_args(settings: Settings) -> AwsAccountArgs:
    return AwsAccountArgs(region=settings.region, default_tags=settings.default_tags())


def key_args(settings: Settings, account: AwsAccount) -> PipelineKeyArgs:
    return PipelineKeyArgs(account=account, names=stack_names(settings), production=settings.is_production)


def artifact_store_args(settings: Settings, key_arn: pulumi.Input[str]) -> ArtifactStoreArgs:
    return ArtifactStoreArgs(
        key_arn=key_arn, expiry_days=settings.artifact_expiry_days, force_destroy=settings.force_destroy_artifacts
    )


def alert_topic_args(settings: Settings, key_arn: pulumi.Input[str]) -> AlertTopicArgs:
    return AlertTopicArgs(names=stack_names(settings), key_arn=key_arn, emails=settings.notification_emails)


def connection_args(settings: Settings) -> SourceConnectionArgs | None:
    """The stack's connection, where its source is a repository; None with the S3 source."""
    if settings.source.type != "codestar":
        return None
    return SourceConnectionArgs(names=stack_names(settings), existing_arn=settings.source.connection_arn)


def pipeline_source(settings: Settings) -> PipelineSource:
    source = settings.source
    if source.type == "codestar":
        return RepositorySource(repository=source.repository, branch=source.branch)
    return ObjectSource(bucket=source.bucket, object_key=source.object_key)


def build_config(settings: Settings) -> BuildConfig:
    return BuildConfig(
        deploy_stack=settings.deploy_stack,
        backend_url=settings.backend_url,
        image=settings.build_image,
        compute_type=settings.compute_type,
        timeout_minutes=settings.build_timeout_minutes,
        log_retention_days=settings.log_retention_days,
        variables=tuple(settings.build_environment),
        secrets=tuple(BuildSecret(secret.name, secret.reference, secret.store) for secret in settings.build_secrets),
    )


def build_project_args(settings: Settings) -> tuple[BuildProjectArgs, BuildProjectArgs]:
    """The Build (preview) and Deploy steps' projects."""
    names, config = stack_names(settings), build_config(settings)
    build, deploy = build_steps(preview_role_arn=settings.preview_role_arn, deploy_role_arn=settings.deploy_role_arn)
    return BuildProjectArgs(names, build, config), BuildProjectArgs(names, deploy, config)


def delivery_pipeline_args(settings: Settings) -> DeliveryPipelineArgs:
    return DeliveryPipelineArgs(
        names=stack_names(settings),
        source=pipeline_source(settings),
        deploy_stack=settings.deploy_stack,
        require_approval=settings.require_approval,
        execution_mode=settings.execution_mode,
    )


def failure_alert_args(
    settings: Settings, *, pipeline_name: pulumi.Input[str], topic_arn: pulumi.Input[str]
) -> FailureAlertArgs:
    return FailureAlertArgs(
        names=stack_names(settings), pipeline_name=pipeline_name, topic_arn=topic_arn, states=settings.alert_states
    )


def github_actions_args(settings: Settings) -> GitHubActionsArgs | None:
    """GitHub Actions' roles, where a repository is configured for them."""
    github = settings.github
    if not github.repository:
        return None
    return GitHubActionsArgs(
        names=stack_names(settings),
        repository=github.repository,
        production=settings.is_production,
        oidc_provider_arn=github.oidc_provider_arn,
        state_bucket=github.state_bucket,
        connection=connection_args(settings),
    )


def main() -> None:
    settings = load_settings()
    prefix = settings.name_prefix

    account = AwsAccount(prefix, account_args(settings))
    on_account = account.component_options()

    key = PipelineKey(f"{prefix}-key", key_args(settings, account), opts=on_account)
    artifacts = ArtifactStore(f"{prefix}-artifacts", artifact_store_args(settings, key.arn), opts=on_account)
    alerts_topic = AlertTopic(f"{prefix}-alerts", alert_topic_args(settings, key.arn), opts=on_account)
    connection_settings = connection_args(settings)
    connection = (
        SourceConnection(f"{prefix}-github", connection_settings, opts=on_account) if connection_settings else None
    )
    stored_secrets = stored_build_secrets(
        f"{prefix}-pulumi-access-token",
        names=stack_names(settings),
        key_arn=key.arn,
        pulumi_access_token=settings.pulumi_access_token,
        opts=on_account,
    )
    shared = SharedResources(
        account=account,
        key_arn=key.arn,
        artifact_bucket_name=artifacts.bucket_name,
        artifact_bucket_arn=artifacts.arn,
        topic_arn=alerts_topic.arn,
        connection_arn=connection.arn if connection else None,
        stored_secrets=stored_secrets,
    )

    builds = build_project_args(settings)
    delivery_args = delivery_pipeline_args(settings)
    boundary = PermissionsBoundary(
        f"{prefix}-boundary",
        PermissionsBoundaryArgs(names=stack_names(settings), builds=builds, pipelines=(delivery_args,)),
        shared,
        opts=on_account,
    )
    foundation = shared.bounded_by(boundary.arn)

    build, deploy = (BuildProject(f"{prefix}-{args.step.name}", args, foundation, opts=on_account) for args in builds)
    delivery = DeliveryPipeline(
        f"{prefix}-pipeline", delivery_args, foundation, build=build, deploy=deploy, opts=on_account
    )
    failure_alert = FailureAlert(
        f"{prefix}-pipeline-failed",
        failure_alert_args(settings, pipeline_name=delivery.pipeline_name, topic_arn=alerts_topic.arn),
        opts=on_account,
    )

    pulumi.export("pipelineName", delivery.pipeline_name)
    pulumi.export("pipelineArn", delivery.arn)
    pulumi.export("pipelineConsoleUrl", delivery.console_url)
    pulumi.export("artifactBucket", artifacts.bucket_name)
    pulumi.export("alertTopicArn", alerts_topic.arn)
    pulumi.export("failureRuleArn", failure_alert.arn)
    pulumi.export("buildProjectNames", [build.project_name, deploy.project_name])
    pulumi.export("kmsKeyArn", key.arn)
    pulumi.export("permissionsBoundaryArn", boundary.arn)

    github_args = github_actions_args(settings)
    if github_args is not None:
        github = GitHubActionsAccess(f"{prefix}-github-actions", github_args, foundation, opts=on_account)
        pulumi.export("githubOidcProviderArn", github.oidc_provider_arn)
        pulumi.export("githubDeployRoleArn", github.deploy_role.arn)
        pulumi.export("githubPreviewRoleArn", github.preview_role.arn)


# Pulumi runs this file as `__main__` (runpy.run_path(program, run_name="__main__")), and so does
# harness/capture.py; tests/support.py loads it under another name to use the mappings above alone.
if __name__ == "__main__":
    main()
