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
from harness.graph_checks import unwired_references
from tests.support import retype_argument

RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
TOPIC = "aws:sns/topic:Topic"
PIPELINE = "aws:codepipeline/pipeline:Pipeline"
PROJECT = "aws:codebuild/project:Project"
ROLE = "aws:iam/role:Role"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"


def assert_depends(resource: RegisteredResource, prop: str, target: RegisteredResource) -> None:
    assert resource.depends_on(prop, target), (
        f"{resource.name}.{prop} does not depend on {target.name}: "
        f"it depends on {resource.property_dependencies.get(prop, [])}"
    )


def test_event_target_rule_is_the_rules_output(stack_graph: StackGraph) -> None:
    target, rule = stack_graph.one(TARGET), stack_graph.one(RULE)
    assert target.inputs["rule"] == rule.outputs["name"]
    assert_depends(target, "rule", rule)


def test_event_target_arn_is_the_topics_output(stack_graph: StackGraph) -> None:
    target, topic = stack_graph.one(TARGET), stack_graph.one(TOPIC)
    assert target.inputs["arn"] == topic.outputs["arn"]
    assert_depends(target, "arn", topic)


def test_rule_pattern_is_built_from_the_pipelines_name(stack_graph: StackGraph) -> None:
    rule, pipeline = stack_graph.one(RULE), stack_graph.one(PIPELINE)
    assert pipeline.outputs["name"] in rule.inputs["eventPattern"]
    assert_depends(rule, "eventPattern", pipeline)


def test_pipeline_role_is_its_own_roles_output(stack_graph: StackGraph) -> None:
    pipeline, role = stack_graph.one(PIPELINE), stack_graph.one(ROLE, "pipeline-role")
    assert pipeline.inputs["roleArn"] == role.outputs["arn"]
    assert_depends(pipeline, "roleArn", role)


def test_pipeline_artifact_store_is_the_bucket_and_key(stack_graph: StackGraph) -> None:
    pipeline, bucket, key = stack_graph.one(PIPELINE), stack_graph.one(BUCKET), stack_graph.one(KEY)
    (store,) = pipeline.inputs["artifactStores"]
    assert store["location"] == bucket.outputs["bucket"]
    assert store["encryptionKey"] == {"id": key.outputs["arn"], "type": "KMS"}
    assert_depends(pipeline, "artifactStores", bucket)
    assert_depends(pipeline, "artifactStores", key)


def test_pipeline_stages_name_the_codebuild_projects(stack_graph: StackGraph) -> None:
    pipeline = stack_graph.one(PIPELINE)
    named = {
        action["configuration"].get("ProjectName") for stage in pipeline.inputs["stages"] for action in stage["actions"]
    }
    for project in stack_graph.of_type(PROJECT):
        assert project.outputs["name"] in named
        assert_depends(pipeline, "stages", project)


def test_each_codebuild_project_runs_as_its_own_role(stack_graph: StackGraph) -> None:
    for step in ("build", "deploy"):
        project, role = stack_graph.one(PROJECT, f"-{step}"), stack_graph.one(ROLE, f"-{step}-role")
        assert project.inputs["serviceRole"] == role.outputs["arn"]
        assert_depends(project, "serviceRole", role)


def test_each_codebuild_project_waits_for_its_roles_policy(stack_graph: StackGraph) -> None:
    """CodeBuild rejects a role with no permissions yet ("not authorized to perform sts:AssumeRole")."""
    for step in ("build", "deploy"):
        project = stack_graph.one(PROJECT, f"-{step}")
        policy = stack_graph.one("aws:iam/rolePolicy:RolePolicy", f"-{step}-role-policy")
        assert policy.urn in project.dependencies


def test_no_input_repeats_another_resources_identity_without_depending_on_it(stack_graph: StackGraph) -> None:
    assert [str(found) for found in unwired_references(stack_graph)] == []


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
