"""The whole program, under the dev and the prod config, as `pulumi up` would evaluate it."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from harness.capture import StackGraph, evaluate
from harness.graph_checks import on_default_provider, unknown_inputs

EXPECTED_EXPORTS = {
    "pipelineName",
    "pipelineArn",
    "pipelineConsoleUrl",
    "artifactBucket",
    "alertTopicArn",
    "failureRuleArn",
    "buildProjectNames",
    "kmsKeyArn",
    "permissionsBoundaryArn",
}


def resource_counts(graph: StackGraph) -> Counter[str]:
    return Counter(resource.type for resource in graph.custom())


def test_dev_stack_resources() -> None:
    counts = resource_counts(evaluate("dev"))
    assert counts == {
        "aws:kms/key:Key": 1,
        "aws:kms/alias:Alias": 1,
        "aws:s3/bucket:Bucket": 1,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
        "aws:s3/bucketVersioning:BucketVersioning": 1,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 1,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 1,
        "aws:s3/bucketPolicy:BucketPolicy": 1,
        "aws:codestarconnections/connection:Connection": 1,
        "aws:cloudwatch/logGroup:LogGroup": 2,
        "aws:iam/role:Role": 3,
        "aws:iam/rolePolicy:RolePolicy": 3,
        "aws:iam/policy:Policy": 1,
        "aws:codebuild/project:Project": 2,
        "aws:codepipeline/pipeline:Pipeline": 1,
        "aws:sns/topic:Topic": 1,
        "aws:sns/topicPolicy:TopicPolicy": 1,
        "aws:sns/topicSubscription:TopicSubscription": 1,
        "aws:cloudwatch/eventRule:EventRule": 1,
        "aws:cloudwatch/eventTarget:EventTarget": 1,
    }


def test_prod_stack_subscribes_each_configured_address(prod_graph: StackGraph) -> None:
    endpoints = sorted(
        sub.inputs["endpoint"] for sub in prod_graph.of_type("aws:sns/topicSubscription:TopicSubscription")
    )
    assert endpoints == ["oncall@example.com", "platform-team@example.com"]


def test_no_resource_uses_the_default_provider(stack_graph: StackGraph) -> None:
    assert list(stack_graph.custom()), "the program registered no resources"
    assert on_default_provider(stack_graph) == []


def test_default_provider_check_catches_a_resource_without_provider() -> None:
    import pulumi_aws as aws

    graph = evaluate("dev", program=lambda: aws.sns.Topic("on-default-provider"))
    assert on_default_provider(graph) == [graph.one("aws:sns/topic:Topic").urn]


def test_provider_is_pinned_to_the_stack_region_with_default_tags(stack_graph: StackGraph) -> None:
    (provider,) = stack_graph.of_type("pulumi:providers:aws")
    assert provider.inputs["region"] == "eu-west-1"
    # Provider inputs travel as JSON strings, as the engine hands them to the provider plugin.
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    environment = "prod" if "prod" in provider.urn else "dev"
    assert tags == {
        "Project": "cicd-pipeline",
        "Environment": environment,
        "ManagedBy": "pulumi",
        "Stack": environment,
        "Team": "platform",
        "CostCenter": "engineering",
    }


def test_every_resource_belongs_to_a_component(stack_graph: StackGraph) -> None:
    components = {component.urn for component in stack_graph.components()}
    orphans = [resource.name for resource in stack_graph.custom() if resource.parent not in components]
    assert orphans == []


def test_components_use_the_projects_type_tokens(stack_graph: StackGraph) -> None:
    tokens = {component.type for component in stack_graph.components()}
    assert tokens, "no components registered"
    assert all(re.fullmatch(r"cicd:[a-z0-9]+:[A-Z][A-Za-z]+", token) for token in tokens), tokens


def test_no_deprecated_v2_resource_types(stack_graph: StackGraph) -> None:
    assert [r.type for r in stack_graph.custom() if r.type.endswith("V2")] == []


def test_every_input_is_known(stack_graph: StackGraph) -> None:
    assert unknown_inputs(stack_graph) == []


def test_exports_are_resolved_values(stack_graph: StackGraph) -> None:
    exports = stack_graph.exports
    assert set(exports) == EXPECTED_EXPORTS
    pipeline = stack_graph.one("aws:codepipeline/pipeline:Pipeline")
    assert exports["pipelineName"] == pipeline.outputs["name"]
    assert exports["pipelineArn"] == pipeline.outputs["arn"]
    assert exports["pipelineConsoleUrl"] == (
        f"https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/{pipeline.outputs['name']}/view?region=eu-west-1"
    )
    assert exports["artifactBucket"] == stack_graph.one("aws:s3/bucket:Bucket").outputs["bucket"]
    assert exports["alertTopicArn"] == stack_graph.one("aws:sns/topic:Topic").outputs["arn"]
    assert exports["failureRuleArn"] == stack_graph.one("aws:cloudwatch/eventRule:EventRule").outputs["arn"]
    assert exports["permissionsBoundaryArn"] == stack_graph.one("aws:iam/policy:Policy").outputs["arn"]
    assert sorted(exports["buildProjectNames"]) == sorted(
        project.outputs["name"] for project in stack_graph.of_type("aws:codebuild/project:Project")
    )


def test_dev_skips_approval_and_prod_requires_it(dev_graph: StackGraph, prod_graph: StackGraph) -> None:
    def stage_names(graph: StackGraph) -> list[str]:
        return [stage["name"] for stage in graph.one("aws:codepipeline/pipeline:Pipeline").inputs["stages"]]

    assert stage_names(dev_graph) == ["Source", "Build", "Deploy"]
    assert stage_names(prod_graph) == ["Source", "Build", "Approval", "Deploy"]


@pytest.mark.parametrize(("stack", "force_destroy"), [("dev", True), ("prod", False)])
def test_artifact_bucket_force_destroy_defaults_by_environment(stack: str, force_destroy: bool) -> None:
    assert evaluate(stack).one("aws:s3/bucket:Bucket").inputs["forceDestroy"] is force_destroy


def test_s3_source_replaces_the_connection_and_the_git_trigger() -> None:
    graph = evaluate("dev", {"sourceType": "s3", "sourceBucket": "my-source-bucket", "repository": None})
    assert graph.of_type("aws:codestarconnections/connection:Connection") == []
    pipeline = graph.one("aws:codepipeline/pipeline:Pipeline")
    (source,) = pipeline.inputs["stages"][0]["actions"]
    assert (source["provider"], source["configuration"]) == (
        "S3",
        {"S3Bucket": "my-source-bucket", "S3ObjectKey": "source.zip", "PollForSourceChanges": "true"},
    )
    assert pipeline.inputs.get("triggers", []) == []


def test_existing_connection_is_used_instead_of_creating_one() -> None:
    arn = "arn:aws:codestar-connections:eu-west-1:123456789012:connection/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"
    graph = evaluate("dev", {"codestarConnectionArn": arn})
    assert graph.of_type("aws:codestarconnections/connection:Connection") == []
    (source,) = graph.one("aws:codepipeline/pipeline:Pipeline").inputs["stages"][0]["actions"]
    assert source["configuration"]["ConnectionArn"] == arn
    assert arn in graph.one("aws:iam/rolePolicy:RolePolicy", "pipeline-role").inputs["policy"]
