"""The components outside the pipeline stack: another Pulumi program builds them from its own args.

The scratch program below belongs to a made-up platform team. It has no Settings and no config (the
evaluation gets none), names its stack and region itself, and builds the key, the artifact store, the
topic, the permissions boundary, both build projects and a delivery pipeline, with FakeAws answering
as AWS would. The checks are about wiring: each component reaches the others through their outputs.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest

import pipeline
from harness.capture import RegisteredResource, StackGraph, evaluate
from harness.fake_aws import ACCOUNT_ID, FakeAws
from harness.graph_checks import on_default_provider, pipelines_of, unknown_inputs, unwired_references
from pipeline.artifacts import ArtifactStore, ArtifactStoreArgs
from pipeline.boundary import PermissionsBoundary, PermissionsBoundaryArgs
from pipeline.build import BuildConfig, BuildProject, BuildProjectArgs, build_steps
from pipeline.delivery import DeliveryPipeline, DeliveryPipelineArgs
from pipeline.encryption import PipelineKey, PipelineKeyArgs
from pipeline.notifications import AlertTopic, AlertTopicArgs, FailureAlertArgs, FailureAlerts
from pipeline.provider import AwsAccount, AwsAccountArgs
from pipeline.services import ServicePipelineArgs, service_pipeline
from pipeline.shared import SharedResources, StackNames
from pipeline.source import RepositorySource

PROJECT = "payments-platform"
STACK = "staging"
REGION = "us-east-1"
NAMES = StackNames(project="payments", environment="staging", prefix="pay-stg")
CONNECTION = f"arn:aws:codeconnections:{REGION}:{ACCOUNT_ID}:connection/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"
PREVIEW_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/payments-preview"
DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/payments-deploy"
SOURCE = RepositorySource(repository="payments/api", branch="release")
BUILD = BuildConfig(
    deploy_stack="payments/api/staging",
    backend_url="s3://payments-state",
    image="aws/codebuild/standard:7.0",
    compute_type="BUILD_GENERAL1_MEDIUM",
    timeout_minutes=20,
    log_retention_days=7,
    variables=(("LOG_LEVEL", "info"),),
)


def team_foundation() -> tuple[SharedResources, pulumi.ResourceOptions]:
    """The team's account, key, artifact store and alert topic, as the components that follow take them."""
    account = AwsAccount("pay-stg", AwsAccountArgs(region=REGION, default_tags={"Team": "payments"}))
    on_account = account.component_options()
    key = PipelineKey("pay-stg-key", PipelineKeyArgs(account=account, names=NAMES), opts=on_account)
    store = ArtifactStore("pay-stg-artifacts", ArtifactStoreArgs(key_arn=key.arn, expiry_days=7), opts=on_account)
    topic = AlertTopic("pay-stg-alerts", AlertTopicArgs(names=NAMES, key_arn=key.arn), opts=on_account)
    shared = SharedResources(
        account=account,
        key_arn=key.arn,
        artifact_bucket_name=store.bucket_name,
        artifact_bucket_arn=store.arn,
        topic_arn=topic.arn,
        connection_arn=CONNECTION,
    )
    return shared, on_account


def scratch_program() -> None:
    """A platform team's own program: its names, its region, its pipeline; nothing of cicd-pipeline's config."""
    shared, on_account = team_foundation()
    steps = build_steps(preview_role_arn=PREVIEW_ROLE, deploy_role_arn=DEPLOY_ROLE)
    builds = tuple(BuildProjectArgs(NAMES, step, BUILD) for step in steps)
    delivery = DeliveryPipelineArgs(names=NAMES, source=SOURCE, deploy_stack=BUILD.deploy_stack, require_approval=True)
    boundary = PermissionsBoundary(
        "pay-stg-boundary",
        PermissionsBoundaryArgs(names=NAMES, builds=builds, pipelines=(delivery,)),
        shared,
        opts=on_account,
    )
    foundation = shared.bounded_by(boundary.arn)
    build, deploy = (BuildProject(f"pay-stg-{args.step.name}", args, foundation, opts=on_account) for args in builds)
    DeliveryPipeline("pay-stg-pipeline", delivery, foundation, build=build, deploy=deploy, opts=on_account)


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> StackGraph:
    # A project of its own (set_mocks takes its name from Pulumi.yaml), and no config at all.
    project_dir = tmp_path_factory.mktemp("payments-platform")
    (project_dir / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\n")
    return evaluate(STACK, program=scratch_program, config={}, mocks=FakeAws(region=REGION), project_dir=project_dir)


def document(resource_input: Any) -> dict[str, Any]:
    assert isinstance(resource_input, str), resource_input
    parsed: dict[str, Any] = json.loads(resource_input)
    return parsed


def statements(policy: RegisteredResource, prop: str = "policy") -> dict[str, dict[str, Any]]:
    return {each["Sid"]: each for each in document(policy.inputs[prop])["Statement"]}


def test_no_component_imports_the_pipeline_stacks_settings() -> None:
    """In a fresh interpreter: importing every pipeline module but settings.py leaves settings unloaded."""
    modules = [f"pipeline.{info.name}" for info in pkgutil.iter_modules(pipeline.__path__) if info.name != "settings"]
    assert "pipeline.build" in modules
    assert "pipeline.delivery" in modules
    check = "import importlib, sys\n"
    check += "".join(f"importlib.import_module({name!r})\n" for name in modules)
    check += "print(sorted(name for name in sys.modules if name == 'pipeline.settings'))\n"
    root = Path(pipeline.__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", check], cwd=root, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_scratch_program_registers_every_component_on_its_own_provider(graph: StackGraph) -> None:
    assert sorted({r.type for r in graph.components()}) == [
        "cicd:aws:Account",
        "cicd:codebuild:BuildProject",
        "cicd:codebuild:TestReports",
        "cicd:codepipeline:DeliveryPipeline",
        "cicd:iam:PermissionsBoundary",
        "cicd:iam:ServiceRole",
        "cicd:kms:PipelineKey",
        "cicd:notifications:AlertTopic",
        "cicd:s3:ArtifactStore",
    ]
    assert all(r.urn.startswith(f"urn:pulumi:{STACK}::{PROJECT}::") for r in graph.resources)
    (provider,) = graph.of_type("pulumi:providers:aws")
    assert provider.inputs["region"] == REGION
    assert on_default_provider(graph) == []


def test_every_reference_between_components_is_wired(graph: StackGraph) -> None:
    assert [str(each) for each in unwired_references(graph)] == []
    assert unknown_inputs(graph) == []


def test_names_come_from_the_programs_own_args(graph: StackGraph) -> None:
    assert graph.one("aws:kms/alias:Alias").inputs["name"] == "alias/payments-staging"
    assert sorted(group.inputs["name"] for group in graph.of_type("aws:cloudwatch/logGroup:LogGroup")) == [
        "/payments/staging/codebuild/build",
        "/payments/staging/codebuild/deploy",
    ]
    assert graph.one("aws:sns/topic:Topic").inputs["displayName"] == "payments staging"
    leaked = [r.urn for r in graph.resources if "cicd-pipeline" in json.dumps(r.inputs) or "cicd-" in r.name]
    assert leaked == []


def test_the_store_and_the_builds_use_the_programs_key(graph: StackGraph) -> None:
    key = graph.one("aws:kms/key:Key")
    (rule,) = graph.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == key.outputs["arn"]
    for project in graph.of_type("aws:codebuild/project:Project"):
        assert project.inputs["encryptionKey"] == key.outputs["arn"]
        assert project.depends_on("encryptionKey", key)
    assert graph.one("aws:sns/topic:Topic").depends_on("kmsMasterKeyId", key)


def test_the_pipeline_keeps_its_artifacts_in_the_programs_store(graph: StackGraph) -> None:
    pipeline_, bucket, key = (
        graph.one("aws:codepipeline/pipeline:Pipeline"),
        graph.one("aws:s3/bucket:Bucket"),
        graph.one("aws:kms/key:Key"),
    )
    assert pipeline_.inputs["artifactStores"] == [
        {"type": "S3", "location": bucket.outputs["bucket"], "encryptionKey": {"id": key.outputs["arn"], "type": "KMS"}}
    ]
    assert pipeline_.depends_on("artifactStores", bucket)
    assert pipeline_.depends_on("artifactStores", key)


def test_the_pipeline_runs_both_projects_and_asks_the_topic_for_approval(graph: StackGraph) -> None:
    pipeline_, topic = graph.one("aws:codepipeline/pipeline:Pipeline"), graph.one("aws:sns/topic:Topic")
    projects = {p.name: p for p in graph.of_type("aws:codebuild/project:Project")}
    stages = {stage["name"]: stage["actions"] for stage in pipeline_.inputs["stages"]}
    assert list(stages) == ["Source", "Build", "Approval", "Deploy"]
    assert stages["Build"][0]["configuration"]["ProjectName"] == projects["pay-stg-build"].outputs["name"]
    assert stages["Deploy"][0]["configuration"]["ProjectName"] == projects["pay-stg-deploy"].outputs["name"]
    assert stages["Approval"][0]["configuration"]["NotificationArn"] == topic.outputs["arn"]
    assert all(pipeline_.depends_on("stages", each) for each in [topic, *projects.values()])
    role_policy = statements(graph.one("aws:iam/rolePolicy:RolePolicy", "pay-stg-pipeline"))
    assert sorted(role_policy["RunBuildSteps"]["Resource"]) == sorted(p.outputs["arn"] for p in projects.values())
    assert role_policy["AskForApproval"]["Resource"] == [topic.outputs["arn"]]


def test_the_source_is_the_programs_repository_through_its_connection(graph: StackGraph) -> None:
    pipeline_ = graph.one("aws:codepipeline/pipeline:Pipeline")
    (source,) = pipeline_.inputs["stages"][0]["actions"]
    assert source["configuration"]["ConnectionArn"] == CONNECTION
    assert (source["configuration"]["FullRepositoryId"], source["configuration"]["BranchName"]) == (
        "payments/api",
        "release",
    )
    (trigger,) = pipeline_.inputs["triggers"]
    assert trigger["gitConfiguration"]["pushes"] == [{"branches": {"includes": ["release"]}}]
    use = statements(graph.one("aws:iam/rolePolicy:RolePolicy", "pay-stg-pipeline"))["UseSourceConnection"]
    assert (use["Action"], use["Resource"]) == (["codeconnections:UseConnection"], [CONNECTION])


def test_each_build_step_runs_the_programs_stack_as_its_own_role(graph: StackGraph) -> None:
    for step, role in (("build", PREVIEW_ROLE), ("deploy", DEPLOY_ROLE)):
        project = graph.one("aws:codebuild/project:Project", f"pay-stg-{step}")
        environment = project.inputs["environment"]
        assert (environment["image"], environment["computeType"]) == (BUILD.image, BUILD.compute_type)
        assert project.inputs["buildTimeout"] == BUILD.timeout_minutes
        variables = {v["name"]: (v["type"], v["value"]) for v in environment["environmentVariables"]}
        expected = {
            "PULUMI_STACK": ("PLAINTEXT", "payments/api/staging"),
            "ASSUME_ROLE_ARN": ("PLAINTEXT", role),
            "LOG_LEVEL": ("PLAINTEXT", "info"),
            "PULUMI_BACKEND_URL": ("PLAINTEXT", "s3://payments-state"),
        }
        if step == "build":  # the step that runs the tests names its report group (pipeline/reports.py)
            group = graph.one("aws:codebuild/reportGroup:ReportGroup", "pay-stg-build")
            expected["TEST_REPORT_GROUP_ARN"] = ("PLAINTEXT", group.outputs["arn"])
        assert variables == expected
        policy = statements(graph.one("aws:iam/rolePolicy:RolePolicy", f"pay-stg-{step}"))
        assert policy["AssumeStepRole"]["Resource"] == [role]


def test_every_role_carries_the_boundary_built_from_the_same_args(graph: StackGraph) -> None:
    boundary = graph.one("aws:iam/policy:Policy", "pay-stg-boundary")
    roles = graph.of_type("aws:iam/role:Role")
    assert len(roles) == 3
    for role in roles:
        assert role.inputs["permissionsBoundary"] == boundary.outputs["arn"]
        assert role.depends_on("permissionsBoundary", boundary)
    capped = statements(boundary)
    assert capped["AssumeStepRole"]["Resource"] == [PREVIEW_ROLE, DEPLOY_ROLE]
    assert capped["WriteOwnLogs"]["Resource"] == [
        f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/payments/staging/codebuild/*",
        f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/payments/staging/codebuild/*:log-stream:*",
    ]
    assert capped["RunBuildSteps"]["Resource"] == [f"arn:aws:codebuild:{REGION}:{ACCOUNT_ID}:project/pay-stg-*"]


# --- The same team, two services on one foundation --------------------------------------------------

SERVICES = ("payments", "ledger")


def two_services_program() -> None:
    """Two services' pipelines on one key, store, topic and boundary, composed with pipeline/services.py."""
    shared, on_account = team_foundation()
    steps = build_steps(preview_role_arn=PREVIEW_ROLE, deploy_role_arn=DEPLOY_ROLE)
    services = [
        ServicePipelineArgs(
            (
                BuildProjectArgs(NAMES.for_service(name), steps[0], BUILD),
                BuildProjectArgs(NAMES.for_service(name), steps[1], BUILD),
            ),
            DeliveryPipelineArgs(
                names=NAMES.for_service(name),
                source=RepositorySource(repository="payments/monorepo", paths=(f"{name}/**",)),
                deploy_stack=f"payments/{name}/staging",
            ),
        )
        for name in SERVICES
    ]
    boundary = PermissionsBoundary(
        "pay-stg-boundary",
        PermissionsBoundaryArgs(
            names=NAMES,
            builds=tuple(args for service in services for args in service.builds),
            pipelines=tuple(service.delivery for service in services),
        ),
        shared,
        opts=on_account,
    )
    foundation = shared.bounded_by(boundary.arn)
    pipelines = [service_pipeline(service, foundation, opts=on_account) for service in services]
    FailureAlerts(
        "pay-stg-pipeline-failed",
        FailureAlertArgs(names=NAMES, pipelines=tuple(p.watched() for p in pipelines), topic_arn=shared.topic_arn),
        opts=on_account,
    )


@pytest.fixture(scope="module")
def two_services(tmp_path_factory: pytest.TempPathFactory) -> StackGraph:
    project_dir = tmp_path_factory.mktemp("payments-platform-services")
    (project_dir / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\n")
    return evaluate(
        STACK, program=two_services_program, config={}, mocks=FakeAws(region=REGION), project_dir=project_dir
    )


def test_another_program_composes_several_services_on_its_own_names(two_services: StackGraph) -> None:
    pipelines = pipelines_of(two_services)
    assert sorted(p.pipeline.name for p in pipelines) == ["pay-stg-ledger-pipeline", "pay-stg-payments-pipeline"]
    assert sorted(group.inputs["name"] for group in two_services.of_type("aws:cloudwatch/logGroup:LogGroup")) == [
        f"/payments/staging/{name}/codebuild/{step}" for name in sorted(SERVICES) for step in ("build", "deploy")
    ]
    for each in pipelines:
        service = each.pipeline.name.removeprefix("pay-stg-").removesuffix("-pipeline")
        (trigger,) = each.pipeline.inputs["triggers"]
        assert trigger["gitConfiguration"]["pushes"][0]["filePaths"] == {"includes": [f"{service}/**"]}
        assert each.rule.name == f"pay-stg-{service}-pipeline-failed"
    (topic_policy,) = two_services.of_type("aws:sns/topicPolicy:TopicPolicy")
    assert all(topic_policy.depends_on("policy", each.rule) for each in pipelines)
    assert [str(each) for each in unwired_references(two_services)] == []
    capped = statements(two_services.one("aws:iam/policy:Policy", "pay-stg-boundary"))
    assert capped["WriteOwnLogs"]["Resource"][0] == (
        f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/payments/staging/*/codebuild/*"
    )
