"""The dependency graph: every cross-resource reference is an output, so the engine orders it.

The Go version's EventTarget named its rule by a re-typed string; nothing told the engine to
create the rule first, and the first deploy failed with "Rule ... does not exist on EventBus
default". These tests read the RegisterResource requests' propertyDependencies, which is
exactly what the engine orders creation by.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from harness.capture import RegisteredResource, StackGraph, evaluate
from harness.graph_checks import PipelineResources, pipelines_of, unwired_references
from tests.security.conftest import graph_of
from tests.support import retype_argument

TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
# A stack of several services' pipelines (Pulumi.platform.yaml) beside the two with one each.
STACKS = ("dev", "prod", "platform")


def assert_depends(resource: RegisteredResource, prop: str, target: RegisteredResource) -> None:
    assert resource.depends_on(prop, target), (
        f"{resource.name}.{prop} does not depend on {target.name}: "
        f"it depends on {resource.property_dependencies.get(prop, [])}"
    )


@pytest.fixture(scope="module", params=STACKS)
def graph(request: pytest.FixtureRequest) -> StackGraph:
    """Each stack, evaluated once per session (tests/security/conftest.py's cache)."""
    return graph_of(str(request.param))


@pytest.fixture(scope="module")
def pipelines(graph: StackGraph) -> list[PipelineResources]:
    """Every pipeline of the stack with what belongs to it (harness.graph_checks.pipelines_of)."""
    return pipelines_of(graph)


def test_each_service_has_a_pipeline_of_its_own_resources(
    graph: StackGraph, pipelines: list[PipelineResources]
) -> None:
    services = graph.exports.get("services", {"": None})
    assert len(pipelines) == len(services)
    owned = [resource.urn for pipeline in pipelines for resource in pipeline.resources()]
    assert len(owned) == len(set(owned)), "a resource belongs to two pipelines"
    assert all(len(pipeline.steps) == 2 for pipeline in pipelines)


def test_event_target_rule_is_the_rules_output(pipelines: list[PipelineResources]) -> None:
    for pipeline in pipelines:
        target, rule = pipeline.target, pipeline.rule
        assert target.inputs["rule"] == rule.outputs["name"]
        assert_depends(target, "rule", rule)


def test_event_target_arn_is_the_topics_output(graph: StackGraph, pipelines: list[PipelineResources]) -> None:
    topic = graph.one(TOPIC)
    for pipeline in pipelines:
        assert pipeline.target.inputs["arn"] == topic.outputs["arn"]
        assert_depends(pipeline.target, "arn", topic)


def test_every_target_waits_for_the_one_topic_policy(graph: StackGraph, pipelines: list[PipelineResources]) -> None:
    policy = graph.one(TOPIC_POLICY)
    assert [p.target.name for p in pipelines if policy.urn not in p.target.dependencies] == []
    assert all(policy.depends_on("policy", p.rule) for p in pipelines)


def test_rule_pattern_is_built_from_the_pipelines_name(pipelines: list[PipelineResources]) -> None:
    for pipeline in pipelines:
        assert pipeline.pipeline.outputs["name"] in pipeline.rule.inputs["eventPattern"]
        assert_depends(pipeline.rule, "eventPattern", pipeline.pipeline)


def test_pipeline_role_is_its_own_roles_output(pipelines: list[PipelineResources]) -> None:
    for pipeline in pipelines:
        assert pipeline.pipeline.inputs["roleArn"] == pipeline.role.outputs["arn"]
        assert_depends(pipeline.pipeline, "roleArn", pipeline.role)


def test_pipeline_artifact_store_is_the_bucket_and_key(graph: StackGraph, pipelines: list[PipelineResources]) -> None:
    bucket, key = graph.one(BUCKET), graph.one(KEY)
    for each in pipelines:
        pipeline = each.pipeline
        (store,) = pipeline.inputs["artifactStores"]
        assert store["location"] == bucket.outputs["bucket"]
        assert store["encryptionKey"] == {"id": key.outputs["arn"], "type": "KMS"}
        assert_depends(pipeline, "artifactStores", bucket)
        assert_depends(pipeline, "artifactStores", key)


def test_pipeline_stages_name_the_codebuild_projects(pipelines: list[PipelineResources]) -> None:
    for each in pipelines:
        pipeline = each.pipeline
        named = [
            action["configuration"].get("ProjectName")
            for stage in pipeline.inputs["stages"]
            for action in stage["actions"]
            if action["provider"] == "CodeBuild"
        ]
        assert named == [step.project.outputs["name"] for step in each.steps]
        for step in each.steps:
            assert_depends(pipeline, "stages", step.project)


def test_each_codebuild_project_runs_as_its_own_role(pipelines: list[PipelineResources]) -> None:
    roles = [step.role.urn for pipeline in pipelines for step in pipeline.steps]
    assert len(roles) == len(set(roles)), "two projects share a role"
    for step in (step for pipeline in pipelines for step in pipeline.steps):
        assert step.project.inputs["serviceRole"] == step.role.outputs["arn"]
        assert_depends(step.project, "serviceRole", step.role)


def test_each_codebuild_project_waits_for_its_roles_policy(pipelines: list[PipelineResources]) -> None:
    """CodeBuild rejects a role with no permissions yet ("not authorized to perform sts:AssumeRole")."""
    for step in (step for pipeline in pipelines for step in pipeline.steps):
        assert step.role_policy.urn in step.project.dependencies


def test_each_pipeline_waits_for_its_roles_policy(pipelines: list[PipelineResources]) -> None:
    for pipeline in pipelines:
        assert pipeline.role_policy.urn in pipeline.pipeline.dependencies


def test_no_input_repeats_another_resources_identity_without_depending_on_it(graph: StackGraph) -> None:
    assert [str(found) for found in unwired_references(graph)] == []


# Each wiring the program makes, replaced in turn by the same value as a plain string.
WIRINGS = [
    (aws.cloudwatch, "EventTarget", "rule"),
    (aws.cloudwatch, "EventTarget", "arn"),
    (aws.cloudwatch, "EventRule", "event_pattern"),
    (aws.codepipeline, "Pipeline", "role_arn"),
    (aws.codepipeline, "Pipeline", "artifact_stores"),
    (aws.codepipeline, "Pipeline", "stages"),
    (aws.codebuild, "Project", "service_role"),
    (aws.codebuild, "Project", "logs_config"),
    (aws.codebuild, "Project", "encryption_key"),
    (aws.iam, "RolePolicy", "role"),
    (aws.iam, "RolePolicy", "policy"),
    (aws.sns, "TopicSubscription", "topic"),
    (aws.sns, "TopicPolicy", "arn"),
    (aws.sns, "Topic", "kms_master_key_id"),
    (aws.s3, "BucketPolicy", "bucket"),
    (aws.s3, "BucketPolicy", "policy"),
    (aws.s3, "BucketServerSideEncryptionConfiguration", "rules"),
    (aws.s3, "BucketVersioning", "bucket"),
    (aws.kms, "Alias", "target_key_id"),
    (aws.cloudwatch, "LogGroup", "kms_key_id"),
]


@pytest.mark.parametrize(("module", "class_name", "argument"), WIRINGS, ids=[f"{cls}.{arg}" for _, cls, arg in WIRINGS])
def test_graph_check_rejects_a_retyped_reference(
    monkeypatch: pytest.MonkeyPatch, module: Any, class_name: str, argument: str
) -> None:
    retype_argument(monkeypatch, module, class_name, argument)
    graph = evaluate("prod")
    found = unwired_references(graph)
    assert found, f"re-typing {class_name}.{argument} went unnoticed"
    assert any(f"{class_name}::" in item.resource for item in found), [str(item) for item in found]


def go_version_alerts() -> None:
    """The Go program's alert wiring: the target names its rule by a hard-coded string."""
    provider = aws.Provider("aws", region="eu-west-1")
    on_provider = pulumi.ResourceOptions(provider=provider)
    topic = aws.sns.Topic("alerts", opts=on_provider)
    aws.cloudwatch.EventRule(
        "pipeline-failure",
        name="pipeline-failure-dev",
        event_pattern='{"source": ["aws.codepipeline"]}',
        opts=on_provider,
    )
    aws.cloudwatch.EventTarget("pipeline-failure-target", rule="pipeline-failure-dev", arn=topic.arn, opts=on_provider)


def test_go_versions_string_rule_name_is_rejected() -> None:
    found = unwired_references(evaluate("dev", program=go_version_alerts))
    assert [(item.resource.rsplit("::", 1)[-1], item.prop, item.value) for item in found] == [
        ("pipeline-failure-target", "rule", "pipeline-failure-dev")
    ]
