"""The whole program, under the dev and the prod config, as `pulumi up` would evaluate it."""

from __future__ import annotations

import functools
import json
import re
from collections import Counter

import pytest

from harness.capture import RegisteredResource, StackGraph, evaluate, evaluate_once
from harness.graph_checks import on_default_provider, unknown_inputs
from pipeline.settings import DERIVED_NAMES, max_service_name_length
from tests.security.conftest import graph_of

EXPECTED_EXPORTS = {
    "pipelineName",
    "pipelineArn",
    "pipelineConsoleUrl",
    "artifactBucket",
    "alertTopicArn",
    "failureRuleArn",
    "actionRuleArn",
    "buildProjectNames",
    "kmsKeyArn",
    "permissionsBoundaryArn",
}


def resource_counts(graph: StackGraph) -> Counter[str]:
    return Counter(resource.type for resource in graph.custom())


def test_dev_stack_resources() -> None:
    counts = resource_counts(evaluate_once("dev"))
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
        "aws:codebuild/reportGroup:ReportGroup": 1,
        "aws:codepipeline/pipeline:Pipeline": 1,
        "aws:sns/topic:Topic": 1,
        "aws:sns/topicPolicy:TopicPolicy": 1,
        "aws:sns/topicSubscription:TopicSubscription": 1,
        "aws:cloudwatch/eventRule:EventRule": 2,
        "aws:cloudwatch/eventTarget:EventTarget": 2,
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
    rule = "aws:cloudwatch/eventRule:EventRule"
    assert exports["failureRuleArn"] == stack_graph.one(rule, "-pipeline-failed").outputs["arn"]
    assert exports["actionRuleArn"] == stack_graph.one(rule, "-action-failed").outputs["arn"]
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
    assert evaluate_once(stack).one("aws:s3/bucket:Bucket").inputs["forceDestroy"] is force_destroy


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


# --- Many services in one stack ------------------------------------------------------------------

# What one service adds: its two build projects (each a log group, a role and its policy), its
# pipeline (with its role and policy), its test report group, and its two alert rules (the execution's
# and its actions') with their targets.
PER_SERVICE: Counter[str] = Counter(
    {
        "cicd:codebuild:BuildProject": 2,
        "cicd:codebuild:TestReports": 1,
        "aws:codebuild/reportGroup:ReportGroup": 1,
        "cicd:codepipeline:DeliveryPipeline": 1,
        "cicd:iam:ServiceRole": 3,
        "aws:iam/role:Role": 3,
        "aws:iam/rolePolicy:RolePolicy": 3,
        "aws:cloudwatch/logGroup:LogGroup": 2,
        "aws:codebuild/project:Project": 2,
        "aws:codepipeline/pipeline:Pipeline": 1,
        "aws:cloudwatch/eventRule:EventRule": 2,
        "aws:cloudwatch/eventTarget:EventTarget": 2,
    }
)
# What the dev and platform stacks share: account and provider, key and alias, the artifact store and
# its six settings, topic and subscription, connection, boundary, and the failure alerts with the topic policy.
SHARED = 22
SHARED_EXPORTS = {"artifactBucket", "alertTopicArn", "kmsKeyArn", "permissionsBoundaryArn"}
PIPELINE_EXPORTS = EXPECTED_EXPORTS - SHARED_EXPORTS

# The longest environment name the settings allow, and fifty services with the longest names it leaves room for.
LONG_ENVIRONMENT = "platform-staging"
FIFTY = 50


def fifty_services() -> list[dict[str, str]]:
    longest, _ = max_service_name_length(LONG_ENVIRONMENT)
    return [
        {"name": f"s{index:02d}".ljust(longest, "x"), "repository": "my-org/monorepo", "directory": f"services/{index}"}
        for index in range(FIFTY)
    ]


@functools.cache
def fifty_services_graph() -> StackGraph:
    return evaluate("dev", {"environment": LONG_ENVIRONMENT, "repository": None, "services": fifty_services()})


def type_counts(graph: StackGraph) -> Counter[str]:
    return Counter(resource.type for resource in graph.resources)


def services_of(graph: StackGraph) -> int:
    return len(graph.exports.get("services", {"": None}))


@pytest.mark.parametrize("variant", ["dev", "platform", "fifty"])
def test_a_stack_is_its_shared_resources_plus_one_set_per_service(dev_graph: StackGraph, variant: str) -> None:
    graph = fifty_services_graph() if variant == "fifty" else graph_of(variant)
    services = services_of(graph)
    assert services == {"dev": 1, "platform": 3, "fifty": FIFTY}[variant]
    assert sum(PER_SERVICE.values()) == 23
    assert len(graph.resources) == SHARED + services * sum(PER_SERVICE.values())
    extra = Counter({token: count * (services - 1) for token, count in PER_SERVICE.items()})
    assert type_counts(graph) == type_counts(dev_graph) + extra


def test_a_services_stack_exports_each_pipeline_under_its_service() -> None:
    graph = graph_of("platform")
    assert set(graph.exports) == SHARED_EXPORTS | {"services"}
    services = graph.exports["services"]
    assert list(services) == ["api", "worker", "web"]
    for service, outputs in services.items():
        assert set(outputs) == PIPELINE_EXPORTS
        pipeline = graph.one("aws:codepipeline/pipeline:Pipeline", f"-{service}-")
        assert (outputs["pipelineName"], outputs["pipelineArn"]) == (pipeline.outputs["name"], pipeline.outputs["arn"])
        assert (
            outputs["failureRuleArn"]
            == graph.one("aws:cloudwatch/eventRule:EventRule", f"-{service}-pipeline-failed").outputs["arn"]
        )
        assert outputs["buildProjectNames"] == [
            graph.one("aws:codebuild/project:Project", f"-{service}-{step}").outputs["name"]
            for step in ("build", "deploy")
        ]


def variables(project: RegisteredResource) -> dict[str, str]:
    return {each["name"]: each["value"] for each in project.inputs["environment"]["environmentVariables"]}


@pytest.mark.parametrize(
    ("service", "branch", "paths", "directory"),
    [
        ("api", "main", ["services/api/**", "libs/**"], "services/api"),
        ("worker", "main", ["services/worker/**", "libs/**"], "services/worker"),
        ("web", "release", None, None),
    ],
)
def test_each_service_starts_on_its_own_paths_and_builds_in_its_own_folder(
    service: str, branch: str, paths: list[str] | None, directory: str | None
) -> None:
    """Two services of one monorepo: each pipeline starts on its own files and runs in its own folder."""
    graph = graph_of("platform")
    (trigger,) = graph.one("aws:codepipeline/pipeline:Pipeline", f"-{service}-").inputs["triggers"]
    (push,) = trigger["gitConfiguration"]["pushes"]
    assert push == {"branches": {"includes": [branch]}, **({"filePaths": {"includes": paths}} if paths else {})}
    for step in ("build", "deploy"):
        project = graph.one("aws:codebuild/project:Project", f"-{service}-{step}")
        assert variables(project).get("SERVICE_DIRECTORY") == directory
        log_group = graph.one("aws:cloudwatch/logGroup:LogGroup", f"-{service}-{step}")
        assert log_group.inputs["name"] == f"/cicd-pipeline/platform/{service}/codebuild/{step}"


def test_each_service_takes_its_overrides_and_the_stacks_defaults() -> None:
    graph = graph_of("platform")

    def stages(service: str) -> list[str]:
        pipeline = graph.one("aws:codepipeline/pipeline:Pipeline", f"-{service}-")
        return [stage["name"] for stage in pipeline.inputs["stages"]]

    def compute(service: str) -> str:
        return str(graph.one("aws:codebuild/project:Project", f"-{service}-build").inputs["environment"]["computeType"])

    assert [stages(service) for service in ("api", "web")] == [
        ["Source", "Build", "Deploy"],
        ["Source", "Build", "Approval", "Deploy"],
    ]
    assert [compute(service) for service in ("api", "web")] == ["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM"]
    assert variables(graph.one("aws:codebuild/project:Project", "-api-deploy"))["PULUMI_STACK"] == "api-platform"


# The AWS limit of each auto-named or fixed name a service gets: pipeline/settings.py's table, which the
# settings check each service name against (its `api` names the botocore shape holding the limit).
NAME_LIMITS = {
    "aws:iam/role:Role": ("iam", "roleNameType"),
    "aws:cloudwatch/eventRule:EventRule": ("events", "RuleName"),
    "aws:codepipeline/pipeline:Pipeline": ("codepipeline", "PipelineName"),
    "aws:codebuild/project:Project": ("codebuild", "ProjectName"),
    "aws:cloudwatch/logGroup:LogGroup": ("logs", "LogGroupName"),
}
# Policy size limits (characters without white space for IAM; bytes for SNS):
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (inline role policies
# 10,240 in all per role, managed policies 6,144) and
# https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html (30 KB).
POLICY_LIMITS = {
    ("aws:iam/rolePolicy:RolePolicy", "policy"): 10_240,
    ("aws:iam/policy:Policy", "policy"): 6_144,
    ("aws:sns/topicPolicy:TopicPolicy", "policy"): 30 * 1024,
}


def test_fifty_services_with_the_longest_names_get_unique_names_within_awss_limits() -> None:
    graph = fifty_services_graph()
    limits = {api: name.limit for name in DERIVED_NAMES for api in [name.api]}
    urns = [resource.urn for resource in graph.resources]
    assert len(urns) == len(set(urns))
    for token, api in NAME_LIMITS.items():
        names = [str(resource.outputs["name"]) for resource in graph.of_type(token)]
        assert len(names) >= FIFTY, token
        assert len(names) == len(set(names)), f"{token}: names collide"
        too_long = [name for name in names if len(name) > limits[api]]
        assert too_long == [], f"{token}: longer than {limits[api]}"
    longest_role = max(len(str(role.outputs["name"])) for role in graph.of_type("aws:iam/role:Role"))
    assert longest_role == limits[("iam", "roleNameType")] - 2  # the limit is close: not vacuous


def test_fifty_services_keep_every_policy_within_its_size_limit() -> None:
    """The boundary and the topic policy hold one pattern or one ARN per service, never a growing list of both."""
    graph = fifty_services_graph()
    for (token, prop), limit in POLICY_LIMITS.items():
        for resource in graph.of_type(token):
            size = len("".join(str(resource.inputs[prop]).split()))
            assert size <= limit, f"{resource.name}: {size} characters, the limit is {limit}"
    boundary = json.loads(graph.one("aws:iam/policy:Policy").inputs["policy"])
    logs = next(each for each in boundary["Statement"] if each["Sid"] == "WriteOwnLogs")
    assert logs["Resource"] == [
        f"arn:aws:logs:eu-west-1:123456789012:log-group:/cicd-pipeline/{LONG_ENVIRONMENT}/*/codebuild/*",
        f"arn:aws:logs:eu-west-1:123456789012:log-group:/cicd-pipeline/{LONG_ENVIRONMENT}/*/codebuild/*:log-stream:*",
    ]
