"""CodePipeline (V2): Source -> Build -> (Approval) -> Deploy, with its own role.

The Deploy stage rolls back on failure: a failed `pulumi up` makes CodePipeline run the stage again with
the source revision and artifacts of the stage's last successful execution, so the stack converges back
to that revision's program ("CodePipeline will use the variables and artifacts from the execution to
which it is rolling back", https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html;
automatic rollback: https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback-auto.html).
PARALLEL mode has no stage rollback ("For pipelines in PARALLEL mode, stage rollback is not available.
Similarly, failure conditions with a rollback result type cannot be added to a PARALLEL mode pipeline",
https://docs.aws.amazon.com/codepipeline/latest/userguide/execution-modes.html), so the args refuse it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from pipeline.build import BuildProject
from pipeline.iam import ServiceRole, ServiceRoleArgs, Statement, statement
from pipeline.shared import Foundation, SharedResources, StackNames
from pipeline.source import PipelineSource, RepositorySource, source_bucket_arn, use_connection_action

SOURCE_ACTION = "Source"
SOURCE_ARTIFACT = "source"
DEPLOY_STAGE = "Deploy"
# The execution mode in which CodePipeline offers no stage rollback (module docstring).
NO_ROLLBACK_MODE = "PARALLEL"


@dataclass(frozen=True)
class DeliveryPipelineArgs:
    """One pipeline: whose it is, where its code comes from, which stack it deploys, and how runs proceed."""

    names: StackNames
    source: PipelineSource
    # The Pulumi stack the Deploy step updates (named in the approval request).
    deploy_stack: str
    # A person approves each deploy, after reading the Build step's preview.
    require_approval: bool = False
    # CodePipeline V2's execution mode: QUEUED, SUPERSEDED or PARALLEL.
    execution_mode: str = "QUEUED"
    # A failed Deploy stage re-runs the last revision it deployed successfully (module docstring).
    rollback_on_failure: bool = True

    def __post_init__(self) -> None:
        if self.rollback_on_failure and self.execution_mode == NO_ROLLBACK_MODE:
            raise ValueError(
                f"execution mode {self.execution_mode}: CodePipeline has no stage rollback in {NO_ROLLBACK_MODE} "
                "mode, and the Deploy stage rolls back on failure; use QUEUED or SUPERSEDED, or turn the "
                "rollback off"
            )


def connection_for(source: RepositorySource, shared: SharedResources) -> pulumi.Input[str]:
    """The shared connection a repository source reads through; a stack without one cannot read a repository."""
    if shared.connection_arn is None:
        raise ValueError(f"the source {source.repository} is read through a connection, and the stack has none")
    return shared.connection_arn


def source_stage(source: PipelineSource, shared: SharedResources) -> aws.codepipeline.PipelineStageArgs:
    if isinstance(source, RepositorySource):
        provider = "CodeStarSourceConnection"
        configuration: dict[str, pulumi.Input[str]] = {
            "ConnectionArn": connection_for(source, shared),
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
    stage: str, project_name: pulumi.Input[str], inputs: Sequence[str], *, rollback_on_failure: bool = False
) -> aws.codepipeline.PipelineStageArgs:
    """One CodeBuild action reading `inputs`. It declares no output artifact: neither step writes one
    that a later stage reads, and a declared output the buildspec never produces only costs an upload.

    With `rollback_on_failure`, a failure of the stage rolls it back to its last successful execution
    (the V2 stage's `onFailure` result ROLLBACK, API_FailureConditions)."""
    return aws.codepipeline.PipelineStageArgs(
        name=stage,
        on_failure=aws.codepipeline.PipelineStageOnFailureArgs(result="ROLLBACK") if rollback_on_failure else None,
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


def approval_stage(args: DeliveryPipelineArgs, topic_arn: pulumi.Input[str]) -> aws.codepipeline.PipelineStageArgs:
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
                    "CustomData": f"Approve deploying {args.deploy_stack} after checking the Build preview.",
                },
            )
        ],
    )


def git_push_filter(source: RepositorySource) -> aws.codepipeline.PipelineTriggerGitConfigurationPushArgs:
    """Pushes to the source's branch, and, where it names paths, only those changing a matching file.

    A push filter takes `branches`, `filePaths` and `tags`; file paths are valid only together with
    branches ("Valid combinations are: tags, branches, branches + file paths":
    https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-filter.html). `filePaths` is
    a GitFilePathFilterCriteria, `includes` 1 to 8 globs of 1 to 255 characters each
    (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GitFilePathFilterCriteria.html);
    the AWS provider's `file_paths` block (PipelineTriggerGitConfigurationPushFilePathsArgs, with
    `includes` and `excludes`: https://www.pulumi.com/registry/packages/aws/api-docs/codepipeline/pipeline/)
    passes it through. The settings refuse more paths, or longer ones, before anything registers.
    """
    return aws.codepipeline.PipelineTriggerGitConfigurationPushArgs(
        branches=aws.codepipeline.PipelineTriggerGitConfigurationPushBranchesArgs(includes=[source.branch]),
        file_paths=(
            aws.codepipeline.PipelineTriggerGitConfigurationPushFilePathsArgs(includes=list(source.paths))
            if source.paths
            else None
        ),
    )


def git_trigger(source: PipelineSource) -> list[aws.codepipeline.PipelineTriggerArgs]:
    """Start on pushes to the source's branch (and paths) only (V2 triggers replace change detection)."""
    if not isinstance(source, RepositorySource):
        return []
    return [
        aws.codepipeline.PipelineTriggerArgs(
            provider_type="CodeStarSourceConnection",
            git_configuration=aws.codepipeline.PipelineTriggerGitConfigurationArgs(
                source_action_name=SOURCE_ACTION, pushes=[git_push_filter(source)]
            ),
        )
    ]


def pipeline_role_statements(
    args: DeliveryPipelineArgs, shared: SharedResources, *, project_arns: Sequence[pulumi.Input[str]]
) -> list[Statement]:
    """What the pipeline's role may do: the artifacts, the key, its build projects, the approval topic, its source.

    The artifact grants follow AWS's documented service-role policy, which includes s3:PutObjectAcl:
    a connection source uploads the repository with an ACL, and without the grant the Source action
    fails with "Upload to S3 failed ... Access Denied" (aws-cdk issue 13557, fixed there the same way).
    https://docs.aws.amazon.com/codepipeline/latest/userguide/how-to-custom-role.html
    """
    artifact_bucket_arn = shared.artifact_bucket_arn
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
        statement("UsePipelineKey", ["kms:Decrypt", "kms:GenerateDataKey"], [shared.key_arn]),
        statement("RunBuildSteps", ["codebuild:BatchGetBuilds", "codebuild:StartBuild"], project_arns),
    ]
    if args.require_approval:
        statements.append(statement("AskForApproval", ["sns:Publish"], [shared.topic_arn]))
    source = args.source
    if isinstance(source, RepositorySource):
        connection_arn = connection_for(source, shared)
        statements.append(statement("UseSourceConnection", [use_connection_action(connection_arn)], [connection_arn]))
    else:
        bucket_arn = source_bucket_arn(source, shared.account)
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
        args: DeliveryPipelineArgs,
        shared: Foundation,
        *,
        build: BuildProject,
        deploy: BuildProject,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cicd:codepipeline:DeliveryPipeline", name, None, opts)
        account = shared.account
        self.service_role = ServiceRole(
            f"{name}-role",
            ServiceRoleArgs(
                service="codepipeline.amazonaws.com",
                account_id=account.account_id,
                statements=pipeline_role_statements(args, shared, project_arns=[build.arn, deploy.arn]),
                permissions_boundary=shared.permissions_boundary_arn,
                description=f"CodePipeline of {args.names.label}",
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

        stages = [
            source_stage(args.source, shared),
            codebuild_stage("Build", build.project_name, [SOURCE_ARTIFACT]),
        ]
        if args.require_approval:
            stages.append(approval_stage(args, shared.topic_arn))
        stages.append(
            codebuild_stage(
                DEPLOY_STAGE, deploy.project_name, [SOURCE_ARTIFACT], rollback_on_failure=args.rollback_on_failure
            )
        )

        self.pipeline = aws.codepipeline.Pipeline(
            name,
            # The provider's default is V1; V2 brings git triggers and execution modes.
            pipeline_type="V2",
            execution_mode=args.execution_mode,
            role_arn=self.service_role.arn,
            artifact_stores=[
                aws.codepipeline.PipelineArtifactStoreArgs(
                    type="S3",
                    location=shared.artifact_bucket_name,
                    encryption_key=aws.codepipeline.PipelineArtifactStoreEncryptionKeyArgs(
                        id=shared.key_arn, type="KMS"
                    ),
                )
            ],
            stages=stages,
            triggers=git_trigger(args.source),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.service_role.policy]),
        )
        self.pipeline_name = self.pipeline.name
        self.arn = self.pipeline.arn
        self.console_url = pulumi.Output.concat(
            "https://", account.region, ".console.aws.amazon.com/codesuite/codepipeline/pipelines/",
            self.pipeline.name, "/view?region=", account.region,
        )  # fmt: skip
        self.register_outputs({"name": self.pipeline.name, "arn": self.pipeline.arn, "consoleUrl": self.console_url})
