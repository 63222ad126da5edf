"""CodePipeline (V2): Source -> Build -> (Approval) -> Deploy, with its own role."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from pipeline.build import BuildProject
from pipeline.iam import ServiceRole, Statement, statement
from pipeline.provider import AwsAccount
from pipeline.settings import Settings
from pipeline.source import source_bucket_arn, use_connection_action

SOURCE_ACTION = "Source"
SOURCE_ARTIFACT = "source"


def source_stage(settings: Settings, connection_arn: pulumi.Input[str] | None) -> aws.codepipeline.PipelineStageArgs:
    source = settings.source
    if source.type == "codestar":
        provider = "CodeStarSourceConnection"
        configuration: dict[str, pulumi.Input[str]] = {
            "ConnectionArn": connection_arn or "",
            "FullRepositoryId": source.repository,
            "BranchName": source.branch,
            "OutputArtifactFormat": "CODE_ZIP",
        }
    else:
        provider = "S3"
        configuration = {
            "S3Bucket": source.bucket,
            "S3ObjectKey": source.object_key,
            "PollForSourceChanges": "true",
        }
    return aws.codepipeline.PipelineStageArgs(
        name="Source",
        actions=[
            aws.codepipeline.PipelineStageActionArgs(
                name=SOURCE_ACTION,
                category="Source",
                owner="AWS",
                provider=provider,
                version="1",
                output_artifacts=[SOURCE_ARTIFACT],
                configuration=configuration,
            )
        ],
    )


def codebuild_stage(
    stage: str, project_name: pulumi.Input[str], inputs: Sequence[str]
) -> aws.codepipeline.PipelineStageArgs:
    """One CodeBuild action reading `inputs`. It declares no output artifact: neither step writes one
    that a later stage reads, and a declared output the buildspec never produces only costs an upload."""
    return aws.codepipeline.PipelineStageArgs(
        name=stage,
        actions=[
            aws.codepipeline.PipelineStageActionArgs(
                name=stage,
                category="Build",
                owner="AWS",
                provider="CodeBuild",
                version="1",
                input_artifacts=list(inputs),
                configuration={"ProjectName": project_name},
            )
        ],
    )


def approval_stage(settings: Settings, topic_arn: pulumi.Input[str]) -> aws.codepipeline.PipelineStageArgs:
    return aws.codepipeline.PipelineStageArgs(
        name="Approval",
        actions=[
            aws.codepipeline.PipelineStageActionArgs(
                name="ApproveDeploy",
                category="Approval",
                owner="AWS",
                provider="Manual",
                version="1",
                configuration={
                    "NotificationArn": topic_arn,
                    "CustomData": f"Approve deploying {settings.deploy_stack} after checking the Build preview.",
                },
            )
        ],
    )


def git_trigger(settings: Settings) -> list[aws.codepipeline.PipelineTriggerArgs]:
    """Start on pushes to the configured branch only (V2 triggers replace change detection)."""
    if settings.source.type != "codestar":
        return []
    return [
        aws.codepipeline.PipelineTriggerArgs(
            provider_type="CodeStarSourceConnection",
            git_configuration=aws.codepipeline.PipelineTriggerGitConfigurationArgs(
                source_action_name=SOURCE_ACTION,
                pushes=[
                    aws.codepipeline.PipelineTriggerGitConfigurationPushArgs(
                        branches=aws.codepipeline.PipelineTriggerGitConfigurationPushBranchesArgs(
                            includes=[settings.source.branch]
                        )
                    )
                ],
            ),
        )
    ]


def pipeline_role_statements(
    settings: Settings,
    account: AwsAccount,
    *,
    artifact_bucket_arn: pulumi.Input[str],
    key_arn: pulumi.Input[str],
    project_arns: Sequence[pulumi.Input[str]],
    topic_arn: pulumi.Input[str],
    connection_arn: pulumi.Input[str] | None,
) -> list[Statement]:
    """What the pipeline's role may do: the artifacts, the key, its build projects, the approval topic, its source.

    The artifact grants follow AWS's documented service-role policy, which includes s3:PutObjectAcl:
    a connection source uploads the repository with an ACL, and without the grant the Source action
    fails with "Upload to S3 failed ... Access Denied" (aws-cdk issue 13557, fixed there the same way).
    https://docs.aws.amazon.com/codepipeline/latest/userguide/how-to-custom-role.html
    """
    statements: list[Statement] = [
        statement(
            # Its own Sid: the boundary merges statements by Sid, and the build roles set no ACLs.
            "ReadWriteArtifactsWithAcl",
            ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"],
            [pulumi.Output.concat(artifact_bucket_arn, "/*")],
        ),
        statement(
            "InspectArtifactBucket",
            ["s3:GetBucketAcl", "s3:GetBucketLocation", "s3:GetBucketVersioning"],
            [artifact_bucket_arn],
        ),
        statement("UsePipelineKey", ["kms:Decrypt", "kms:GenerateDataKey"], [key_arn]),
        statement("RunBuildSteps", ["codebuild:BatchGetBuilds", "codebuild:StartBuild"], project_arns),
    ]
    if settings.require_approval:
        statements.append(statement("AskForApproval", ["sns:Publish"], [topic_arn]))
    if settings.source.type == "codestar" and connection_arn is not None:
        statements.append(statement("UseSourceConnection", [use_connection_action(connection_arn)], [connection_arn]))
    else:
        bucket_arn = source_bucket_arn(settings, account)
        statements += [
            statement(
                "ReadSourceObject",
                ["s3:GetObject", "s3:GetObjectVersion"],
                [pulumi.Output.concat(bucket_arn, "/*")],
            ),
            statement("InspectSourceBucket", ["s3:GetBucketVersioning"], [bucket_arn]),
        ]
    return statements


class DeliveryPipeline(pulumi.ComponentResource):
    """The CodePipeline that moves a change from the repository to the deployed stack."""

    pipeline: aws.codepipeline.Pipeline
    service_role: ServiceRole

    def __init__(
        self,
        name: str,
        *,
        settings: Settings,
        account: AwsAccount,
        artifact_bucket: pulumi.Input[str],
        artifact_bucket_arn: pulumi.Input[str],
        key_arn: pulumi.Input[str],
        build: BuildProject,
        deploy: BuildProject,
        topic_arn: pulumi.Input[str],
        connection_arn: pulumi.Input[str] | None,
        permissions_boundary: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cicd:codepipeline:DeliveryPipeline", name, None, opts)
        self.service_role = ServiceRole(
            f"{name}-role",
            service="codepipeline.amazonaws.com",
            account_id=account.account_id,
            statements=pipeline_role_statements(
                settings,
                account,
                artifact_bucket_arn=artifact_bucket_arn,
                key_arn=key_arn,
                project_arns=[build.arn, deploy.arn],
                topic_arn=topic_arn,
                connection_arn=connection_arn,
            ),
            permissions_boundary=permissions_boundary,
            description=f"CodePipeline of {settings.project} {settings.environment}",
            opts=pulumi.ResourceOptions(parent=self),
        )

        stages = [
            source_stage(settings, connection_arn),
            codebuild_stage("Build", build.project_name, [SOURCE_ARTIFACT]),
        ]
        if settings.require_approval:
            stages.append(approval_stage(settings, topic_arn))
        stages.append(codebuild_stage("Deploy", deploy.project_name, [SOURCE_ARTIFACT]))

        self.pipeline = aws.codepipeline.Pipeline(
            name,
            # The provider's default is V1; V2 brings git triggers and execution modes.
            pipeline_type="V2",
            execution_mode=settings.execution_mode,
            role_arn=self.service_role.arn,
            artifact_stores=[
                aws.codepipeline.PipelineArtifactStoreArgs(
                    type="S3",
                    location=artifact_bucket,
                    encryption_key=aws.codepipeline.PipelineArtifactStoreEncryptionKeyArgs(id=key_arn, type="KMS"),
                )
            ],
            stages=stages,
            triggers=git_trigger(settings),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.service_role.policy]),
        )
        self.pipeline_name = self.pipeline.name
        self.arn = self.pipeline.arn
        self.console_url = pulumi.Output.concat(
            "https://", account.region, ".console.aws.amazon.com/codesuite/codepipeline/pipelines/",
            self.pipeline.name, "/view?region=", account.region,
        )  # fmt: skip
        self.register_outputs({"name": self.pipeline.name, "arn": self.pipeline.arn, "consoleUrl": self.console_url})
