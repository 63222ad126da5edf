"""cicd-pipeline: an AWS CodePipeline that tests, previews and deploys a Pulumi project.

This file only reads the settings and composes the components; AWS detail lives in pipeline/.
"""

import pulumi

from pipeline.artifacts import ArtifactStore
from pipeline.boundary import PermissionsBoundary
from pipeline.build import BuildProject, build_steps
from pipeline.delivery import DeliveryPipeline
from pipeline.encryption import PipelineKey
from pipeline.github import GitHubActionsAccess
from pipeline.notifications import AlertTopic, FailureAlert
from pipeline.provider import AwsAccount
from pipeline.secret_store import stored_build_secrets
from pipeline.settings import load_settings
from pipeline.source import SourceConnection

settings = load_settings()
prefix = settings.name_prefix

account = AwsAccount(prefix, settings)
on_account = account.component_options()

key = PipelineKey(f"{prefix}-key", settings, account, opts=on_account)
artifacts = ArtifactStore(f"{prefix}-artifacts", settings, key_arn=key.arn, opts=on_account)
alerts_topic = AlertTopic(f"{prefix}-alerts", settings, key_arn=key.arn, opts=on_account)
connection = (
    SourceConnection(f"{prefix}-github", settings, account, opts=on_account)
    if settings.source.type == "codestar"
    else None
)

connection_arn = connection.arn if connection else None
stored_secrets = stored_build_secrets(f"{prefix}-pulumi-access-token", settings, key_arn=key.arn, opts=on_account)

boundary = PermissionsBoundary(
    f"{prefix}-boundary",
    settings=settings,
    account=account,
    artifact_bucket_arn=artifacts.arn,
    key_arn=key.arn,
    topic_arn=alerts_topic.arn,
    connection_arn=connection_arn,
    stored_secrets=stored_secrets,
    opts=on_account,
)

build, deploy = (
    BuildProject(
        f"{prefix}-{step.name}",
        settings=settings,
        step=step,
        account=account,
        artifact_bucket_arn=artifacts.arn,
        key_arn=key.arn,
        permissions_boundary=boundary.arn,
        stored_secrets=stored_secrets,
        opts=on_account,
    )
    for step in build_steps(settings)
)

delivery = DeliveryPipeline(
    f"{prefix}-pipeline",
    settings=settings,
    account=account,
    artifact_bucket=artifacts.bucket_name,
    artifact_bucket_arn=artifacts.arn,
    key_arn=key.arn,
    build=build,
    deploy=deploy,
    topic_arn=alerts_topic.arn,
    connection_arn=connection_arn,
    permissions_boundary=boundary.arn,
    opts=on_account,
)

failure_alert = FailureAlert(
    f"{prefix}-pipeline-failed",
    settings=settings,
    pipeline_name=delivery.pipeline_name,
    topic_arn=alerts_topic.arn,
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

if settings.github.repository:
    github = GitHubActionsAccess(
        f"{prefix}-github-actions",
        settings=settings,
        account=account,
        key_arn=key.arn,
        permissions_boundary_arn=boundary.arn,
        opts=on_account,
    )
    pulumi.export("githubOidcProviderArn", github.oidc_provider_arn)
    pulumi.export("githubDeployRoleArn", github.deploy_role.arn)
    pulumi.export("githubPreviewRoleArn", github.preview_role.arn)
