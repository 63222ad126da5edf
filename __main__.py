"""cicd-pipeline: an AWS CodePipeline that tests, previews and deploys a Pulumi project.

This file maps the stack's settings to each component's args, and composes the components. The
components in pipeline/ hold the AWS detail and know nothing of this stack's configuration, so
another Pulumi program can build them from args of its own (tests/test_reuse.py does).

One stack builds a pipeline per service (`settings.services`; without the `services` key, one
implicit service named "" from `repository` and `branch`). Shared per stack: the key, the artifact
store, the alert topic and its one policy, the permissions boundary, the connection, the stored
token, the GitHub roles, and the Slack channel (its topic, role and Chatbot configuration). Per
service: the build and deploy projects (with their roles and log groups), the pipeline (with its
role), and its alert rules (its execution's, its actions') with their e-mail and Slack targets.

Each service's projects and pipeline are composed flat at the top of the stack, without a
component of their own, so a stack deployed with one pipeline keeps every URN (pipeline/services.py
says why).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from pipeline.artifacts import ArtifactStore, ArtifactStoreArgs
from pipeline.boundary import PermissionsBoundary, PermissionsBoundaryArgs
from pipeline.build import BuildConfig, BuildProjectArgs, build_steps
from pipeline.chatbot import SlackAlerts, SlackAlertsArgs, slack_alerts_name
from pipeline.delivery import DeliveryPipelineArgs
from pipeline.encryption import PipelineKey, PipelineKeyArgs
from pipeline.github import GitHubActionsAccess, GitHubActionsArgs
from pipeline.notifications import (
    AlertRule,
    AlertTopic,
    AlertTopicArgs,
    FailureAlertArgs,
    FailureAlerts,
    WatchedPipeline,
)
from pipeline.provider import AwsAccount, AwsAccountArgs
from pipeline.secret_store import stored_build_secrets
from pipeline.services import ServicePipeline, ServicePipelineArgs, service_pipeline
from pipeline.settings import ServiceSettings, Settings, load_settings
from pipeline.shared import SharedResources, StackNames
from pipeline.source import ObjectSource, PipelineSource, RepositorySource, SourceConnection, SourceConnectionArgs


def stack_names(settings: Settings) -> StackNames:
    return StackNames(project=settings.project, environment=settings.environment, prefix=settings.name_prefix)


def account_args(settings: Settings) -> AwsAccountArgs:
    return AwsAccountArgs(region=settings.region, default_tags=settings.default_tags())


def key_args(settings: Settings, account: AwsAccount) -> PipelineKeyArgs:
    return PipelineKeyArgs(
        account=account,
        names=stack_names(settings),
        production=settings.is_production,
        # Production's artifacts and logs stay readable after `pulumi destroy` (pipeline/encryption.py).
        keep_on_destroy=settings.is_production,
    )


def artifact_store_args(settings: Settings, key_arn: pulumi.Input[str]) -> ArtifactStoreArgs:
    return ArtifactStoreArgs(
        key_arn=key_arn,
        expiry_days=settings.artifact_expiry_days,
        force_destroy=settings.force_destroy_artifacts,
        keep_on_destroy=settings.is_production,
    )


def alert_topic_args(settings: Settings, key_arn: pulumi.Input[str]) -> AlertTopicArgs:
    return AlertTopicArgs(names=stack_names(settings), key_arn=key_arn, emails=settings.notification_emails)


def connection_args(settings: Settings) -> SourceConnectionArgs | None:
    """The stack's connection, where its source is a repository; None with the S3 source."""
    if settings.source.type != "codestar":
        return None
    return SourceConnectionArgs(names=stack_names(settings), existing_arn=settings.source.connection_arn)


def service_of(settings: Settings, service: ServiceSettings | None) -> ServiceSettings:
    """`service`, or the stack's first (without `services`, its only) service."""
    return service if service is not None else settings.services[0]


def service_names(settings: Settings, service: ServiceSettings) -> StackNames:
    """The names of `service`'s pipeline: the stack's, plus the service's name ("" keeps today's)."""
    return stack_names(settings).for_service(service.name)


def pipeline_source(settings: Settings, service: ServiceSettings | None = None) -> PipelineSource:
    """The service's repository, branch and trigger paths, through the stack's connection; or the S3 zip."""
    source, service = settings.source, service_of(settings, service)
    if source.type == "codestar":
        return RepositorySource(repository=service.repository, branch=service.branch, paths=service.paths)
    return ObjectSource(bucket=source.bucket, object_key=source.object_key)


def build_config(settings: Settings, service: ServiceSettings | None = None) -> BuildConfig:
    service = service_of(settings, service)
    return BuildConfig(
        deploy_stack=service.deploy_stack,
        backend_url=settings.backend_url,
        image=settings.build_image,
        compute_type=service.compute_type,
        timeout_minutes=settings.build_timeout_minutes,
        log_retention_days=settings.log_retention_days,
        variables=tuple(settings.build_environment),
        secrets=settings.build_secrets,
        directory=service.directory,
        coverage_format=service.coverage_format,
    )


def build_project_args(
    settings: Settings, service: ServiceSettings | None = None
) -> tuple[BuildProjectArgs, BuildProjectArgs]:
    """The service's Build (preview) and Deploy steps' projects, each assuming the service's role for it."""
    service = service_of(settings, service)
    names, config = service_names(settings, service), build_config(settings, service)
    build, deploy = build_steps(preview_role_arn=service.preview_role_arn, deploy_role_arn=service.deploy_role_arn)
    return BuildProjectArgs(names, build, config), BuildProjectArgs(names, deploy, config)


def delivery_pipeline_args(settings: Settings, service: ServiceSettings | None = None) -> DeliveryPipelineArgs:
    service = service_of(settings, service)
    return DeliveryPipelineArgs(
        names=service_names(settings, service),
        source=pipeline_source(settings, service),
        deploy_stack=service.deploy_stack,
        require_approval=service.require_approval,
        execution_mode=settings.execution_mode,
        rollback_on_failure=settings.rollback_on_failure,
    )


def failure_alert_args(
    settings: Settings, *, pipelines: Sequence[WatchedPipeline], topic_arn: pulumi.Input[str]
) -> FailureAlertArgs:
    return FailureAlertArgs(
        names=stack_names(settings), pipelines=tuple(pipelines), topic_arn=topic_arn, states=settings.alert_states
    )


def slack_alerts_args(
    settings: Settings,
    *,
    rules: Sequence[AlertRule],
    key_arn: pulumi.Input[str],
    permissions_boundary_arn: pulumi.Input[str],
) -> SlackAlertsArgs | None:
    """The Slack channel the alert rules also deliver to, where both Slack keys are set; None otherwise."""
    slack = settings.slack
    if not slack.enabled:
        return None
    return SlackAlertsArgs(
        names=stack_names(settings),
        workspace_id=slack.workspace_id,
        channel_id=slack.channel_id,
        rules=tuple(rules),
        key_arn=key_arn,
        default_tags=settings.default_tags(),
        permissions_boundary_arn=permissions_boundary_arn,
    )


def service_pipeline_args(settings: Settings, service: ServiceSettings) -> ServicePipelineArgs:
    return ServicePipelineArgs(build_project_args(settings, service), delivery_pipeline_args(settings, service))


def pipeline_outputs(
    pipeline: ServicePipeline, failure_rule_arn: pulumi.Output[str], action_rule_arn: pulumi.Output[str] | None = None
) -> dict[str, pulumi.Input[Any]]:
    """What the stack exports of one service's pipeline (top-level for the implicit service, as before).

    `failureRuleArn` is the rule on the execution's state changes; `actionRuleArn`, where alertStates
    map to action states, the rule on its actions' (pipeline/notifications.py).
    """
    outputs: dict[str, pulumi.Input[Any]] = {
        "pipelineName": pipeline.delivery.pipeline_name,
        "pipelineArn": pipeline.delivery.arn,
        "pipelineConsoleUrl": pipeline.delivery.console_url,
        "failureRuleArn": failure_rule_arn,
        "buildProjectNames": [pipeline.build.project_name, pipeline.deploy.project_name],
    }
    if action_rule_arn is not None:
        outputs["actionRuleArn"] = action_rule_arn
    return outputs


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

    # Every service's args first: the boundary that caps all their roles is built from them.
    services = [service_pipeline_args(settings, service) for service in settings.services]
    boundary = PermissionsBoundary(
        f"{prefix}-boundary",
        PermissionsBoundaryArgs(
            names=stack_names(settings),
            builds=tuple(args for service in services for args in service.builds),
            pipelines=tuple(service.delivery for service in services),
            # The Slack channel's role carries the boundary too.
            chat_notifications=settings.slack.enabled,
        ),
        shared,
        opts=on_account,
    )
    foundation = shared.bounded_by(boundary.arn)

    pipelines = [service_pipeline(service, foundation, opts=on_account) for service in services]
    failure_alerts = FailureAlerts(
        f"{prefix}-pipeline-failed",
        failure_alert_args(
            settings, pipelines=[pipeline.watched() for pipeline in pipelines], topic_arn=alerts_topic.arn
        ),
        opts=on_account,
    )

    slack_args = slack_alerts_args(
        settings, rules=failure_alerts.alert_rules, key_arn=key.arn, permissions_boundary_arn=boundary.arn
    )
    if slack_args is not None:
        # Named as the GitHub deploy role's grants expect (pipeline/github_grants.py).
        slack = SlackAlerts(slack_alerts_name(slack_args.names), slack_args, opts=on_account)
        pulumi.export("slackTopicArn", slack.topic_arn)
        pulumi.export("slackChannelConfigurationArn", slack.configuration_arn)
        pulumi.export("slackRoleArn", slack.role.arn)

    outputs = [
        pipeline_outputs(pipeline, rule_arn, action_rule_arn)
        for pipeline, rule_arn, action_rule_arn in zip(
            pipelines, failure_alerts.rule_arns, failure_alerts.action_rule_arns, strict=True
        )
    ]
    if settings.services[0].name:
        # Keyed by service; `pulumi stack output services --json | jq '.api.pipelineName'`.
        pulumi.export(
            "services", {pipeline.args.names.service: each for pipeline, each in zip(pipelines, outputs, strict=True)}
        )
    else:
        # The one pipeline's outputs stay where scripts written for a stack without services read them.
        for output_name, value in outputs[0].items():
            pulumi.export(output_name, value)
    pulumi.export("artifactBucket", artifacts.bucket_name)
    pulumi.export("alertTopicArn", alerts_topic.arn)
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
