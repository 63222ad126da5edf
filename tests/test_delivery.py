"""DeliveryPipeline, evaluated with the build projects it drives."""

from __future__ import annotations

import dataclasses
from typing import Any

import botocore.session
import pytest

from harness.capture import StackGraph
from pipeline.delivery import DeliveryPipeline, DeliveryPipelineArgs
from pipeline.provider import AwsAccount
from pipeline.settings import MAX_TRIGGER_PATH_LENGTH, MAX_TRIGGER_PATHS, Settings
from pipeline.source import RepositorySource
from tests.support import (
    BUCKET,
    BUCKET_ARN,
    KEY_ARN,
    TOPIC_ARN,
    build_projects,
    evaluate_component,
    fixed_foundation,
    policy,
    program,
    settings_for,
    statements_by_sid,
)

CONNECTION_ARN = "arn:aws:codestar-connections:eu-west-1:123456789012:connection/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"
SOURCE = RepositorySource(repository="my-org/my-service", branch="main")


def delivery(settings: Settings, account: AwsAccount) -> None:
    codestar = settings.source.type == "codestar"
    foundation = fixed_foundation(
        account, connection_arn=(settings.source.connection_arn or CONNECTION_ARN) if codestar else None
    )
    build, deploy = build_projects(settings, account, foundation)
    DeliveryPipeline(
        "delivery",
        program().delivery_pipeline_args(settings),
        foundation,
        build=build,
        deploy=deploy,
        opts=account.component_options(),
    )


def pipeline_of(graph: StackGraph) -> dict[str, Any]:
    return graph.one("aws:codepipeline/pipeline:Pipeline").inputs


@pytest.fixture(scope="module")
def prod() -> StackGraph:
    return evaluate_component(delivery, stack="prod")


def test_pipeline_is_v2_and_queues_runs(prod: StackGraph) -> None:
    assert (pipeline_of(prod)["pipelineType"], pipeline_of(prod)["executionMode"]) == ("V2", "QUEUED")


def test_artifact_store_is_the_bucket_encrypted_with_the_key(prod: StackGraph) -> None:
    assert pipeline_of(prod)["artifactStores"] == [
        {"type": "S3", "location": BUCKET, "encryptionKey": {"id": KEY_ARN, "type": "KMS"}}
    ]


def test_stages_run_source_build_approval_deploy(prod: StackGraph) -> None:
    stages = pipeline_of(prod)["stages"]
    actions = [
        (stage["name"], action["category"], action["provider"]) for stage in stages for action in stage["actions"]
    ]
    assert actions == [
        ("Source", "Source", "CodeStarSourceConnection"),
        ("Build", "Build", "CodeBuild"),
        ("Approval", "Approval", "Manual"),
        ("Deploy", "Build", "CodeBuild"),
    ]


def test_source_reads_the_configured_repository_and_branch(prod: StackGraph) -> None:
    (source,) = pipeline_of(prod)["stages"][0]["actions"]
    assert source["configuration"] == {
        "ConnectionArn": CONNECTION_ARN,
        "FullRepositoryId": "my-org/my-service",
        "BranchName": "main",
        "OutputArtifactFormat": "CODE_ZIP",
    }
    assert source["outputArtifacts"] == ["source"]


def test_every_artifact_an_action_declares_is_read_by_a_later_action(prod: StackGraph) -> None:
    """A declared output nobody reads is an upload per run for nothing (the Build step had one)."""
    actions = [action for stage in pipeline_of(prod)["stages"] for action in stage["actions"]]
    written = [name for action in actions for name in action.get("outputArtifacts") or []]
    read = {name for action in actions for name in action.get("inputArtifacts") or []}
    assert written == ["source"]
    assert set(written) <= read


def test_the_source_action_may_set_the_uploads_acl(prod: StackGraph) -> None:
    """AWS's documented pipeline role grants s3:PutObjectAcl; a connection source fails without it."""
    statements = statements_by_sid(policy(prod.one("aws:iam/rolePolicy:RolePolicy", "delivery").inputs["policy"]))
    assert "s3:PutObjectAcl" in statements["ReadWriteArtifactsWithAcl"]["Action"]


@pytest.mark.parametrize("service", ["codestar-connections", "codeconnections"])
def test_use_connection_follows_the_connection_arns_service(service: str) -> None:
    arn = CONNECTION_ARN.replace("codestar-connections", service)
    graph = evaluate_component(delivery, {"codestarConnectionArn": arn})
    statements = statements_by_sid(policy(graph.one("aws:iam/rolePolicy:RolePolicy", "delivery").inputs["policy"]))
    assert statements["UseSourceConnection"]["Action"] == [f"{service}:UseConnection"]
    assert statements["UseSourceConnection"]["Resource"] == [arn]


def test_approval_notifies_the_alert_topic(prod: StackGraph) -> None:
    (approval,) = pipeline_of(prod)["stages"][2]["actions"]
    assert approval["configuration"]["NotificationArn"] == TOPIC_ARN


def test_git_trigger_starts_on_pushes_to_the_branch(prod: StackGraph) -> None:
    assert pipeline_of(prod)["triggers"] == [
        {
            "providerType": "CodeStarSourceConnection",
            "gitConfiguration": {"sourceActionName": "Source", "pushes": [{"branches": {"includes": ["main"]}}]},
        }
    ]


def test_role_trusts_only_codepipeline(prod: StackGraph) -> None:
    role = prod.one("aws:iam/role:Role", "delivery")
    (statement,) = policy(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "codepipeline.amazonaws.com"}


def test_role_policy_is_scoped_to_bucket_key_projects_topic_and_connection(prod: StackGraph) -> None:
    projects = sorted(p.outputs["arn"] for p in prod.of_type("aws:codebuild/project:Project"))
    statements = statements_by_sid(policy(prod.one("aws:iam/rolePolicy:RolePolicy", "delivery").inputs["policy"]))
    assert {sid: sorted(s["Resource"]) for sid, s in statements.items()} == {
        "ReadWriteArtifactsWithAcl": [f"{BUCKET_ARN}/*"],
        "InspectArtifactBucket": [BUCKET_ARN],
        "UsePipelineKey": [KEY_ARN],
        "RunBuildSteps": projects,
        "AskForApproval": [TOPIC_ARN],
        "UseSourceConnection": [CONNECTION_ARN],
    }


def test_pipeline_waits_for_its_roles_policy(prod: StackGraph) -> None:
    pipeline = prod.one("aws:codepipeline/pipeline:Pipeline")
    assert prod.one("aws:iam/rolePolicy:RolePolicy", "delivery").urn in pipeline.dependencies


def test_s3_source_reads_only_the_source_object() -> None:
    graph = evaluate_component(delivery, {"sourceType": "s3", "sourceBucket": "src-bucket", "repository": None})
    statements = statements_by_sid(policy(graph.one("aws:iam/rolePolicy:RolePolicy", "delivery").inputs["policy"]))
    assert statements["ReadSourceObject"]["Resource"] == ["arn:aws:s3:::src-bucket/*"]
    assert "UseSourceConnection" not in statements
    assert "AskForApproval" not in statements


MONOREPO_SERVICE = {
    "name": "api",
    "repository": "my-org/monorepo",
    "branch": "trunk",
    "paths": ["services/api/**", "libs/**"],
    "directory": "services/api",
}


def test_git_trigger_starts_only_on_pushes_changing_the_services_paths() -> None:
    """Branches + file paths, the combination CodePipeline accepts for a push filter
    (https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-filter.html)."""
    graph = evaluate_component(delivery, {"repository": None, "services": [MONOREPO_SERVICE]})
    (trigger,) = pipeline_of(graph)["triggers"]
    assert trigger["gitConfiguration"]["pushes"] == [
        {"branches": {"includes": ["trunk"]}, "filePaths": {"includes": ["services/api/**", "libs/**"]}}
    ]
    (source,) = pipeline_of(graph)["stages"][0]["actions"]
    assert (source["configuration"]["FullRepositoryId"], source["configuration"]["BranchName"]) == (
        "my-org/monorepo",
        "trunk",
    )


def test_the_settings_allow_the_file_path_filters_codepipeline_takes() -> None:
    """GitFilePathFilterCriteria.includes: 1-8 patterns of 1-255 characters, in botocore's copy of the API model
    (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GitFilePathFilterCriteria.html)."""
    model = botocore.session.get_session().get_service_model("codepipeline")
    assert set(model.shape_for("GitPushFilter").members) == {"branches", "filePaths", "tags"}
    includes = model.shape_for("GitFilePathFilterCriteria").members["includes"]
    assert includes.metadata["max"] == MAX_TRIGGER_PATHS
    assert includes.member.metadata["max"] == MAX_TRIGGER_PATH_LENGTH


# --- Rollback ------------------------------------------------------------------------------------------


def test_a_failed_deploy_rolls_back_and_no_other_stage_does(prod: StackGraph) -> None:
    """The V2 stage's onFailure with result ROLLBACK (API_FailureConditions); the Build and Approval stages
    change nothing, so they have nothing to roll back."""
    conditions = {stage["name"]: stage.get("onFailure") for stage in pipeline_of(prod)["stages"]}
    assert conditions == {"Source": None, "Build": None, "Approval": None, "Deploy": {"result": "ROLLBACK"}}


def test_the_api_takes_rollback_as_a_stages_failure_result() -> None:
    """StageDeclaration.onFailure.result takes ROLLBACK, in botocore's copy of the API model
    (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_FailureConditions.html)."""
    model = botocore.session.get_session().get_service_model("codepipeline")
    on_failure = model.shape_for("StageDeclaration").members["onFailure"]
    assert "ROLLBACK" in on_failure.members["result"].enum


def test_without_rollback_the_deploy_stage_has_no_failure_conditions() -> None:
    def without_rollback(settings: Settings, account: AwsAccount) -> None:
        foundation = fixed_foundation(account, connection_arn=CONNECTION_ARN)
        build, deploy = build_projects(settings, account, foundation)
        args = dataclasses.replace(program().delivery_pipeline_args(settings), rollback_on_failure=False)
        DeliveryPipeline("delivery", args, foundation, build=build, deploy=deploy, opts=account.component_options())

    stages = pipeline_of(evaluate_component(without_rollback))["stages"]
    assert [stage.get("onFailure") for stage in stages] == [None] * len(stages)


@pytest.mark.parametrize("mode", ["QUEUED", "SUPERSEDED"])
def test_rollback_is_taken_in_the_modes_that_offer_it(mode: str) -> None:
    args = DeliveryPipelineArgs(names=program().stack_names(settings_for()), source=SOURCE, deploy_stack="dev")
    assert dataclasses.replace(args, execution_mode=mode).rollback_on_failure


def test_the_component_refuses_rollback_in_parallel_mode() -> None:
    """ "For pipelines in PARALLEL mode, stage rollback is not available. Similarly, failure conditions with a
    rollback result type cannot be added to a PARALLEL mode pipeline."
    (https://docs.aws.amazon.com/codepipeline/latest/userguide/execution-modes.html)"""
    names = program().stack_names(settings_for())
    with pytest.raises(ValueError, match="execution mode PARALLEL: CodePipeline has no stage rollback"):
        DeliveryPipelineArgs(names=names, source=SOURCE, deploy_stack="dev", execution_mode="PARALLEL")
    # Without the rollback, PARALLEL stays available.
    args = DeliveryPipelineArgs(
        names=names, source=SOURCE, deploy_stack="dev", execution_mode="PARALLEL", rollback_on_failure=False
    )
    assert args.execution_mode == "PARALLEL"
