"""BuildProject, evaluated alone."""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi
import pytest

from harness.capture import StackGraph
from pipeline.build import DIRECTORY_VARIABLE, BuildProject, read_buildspec
from pipeline.provider import AwsAccount
from pipeline.reports import (
    COVERAGE_REPORT_ACTIONS,
    COVERAGE_REPORT_GROUP_VARIABLE,
    TEST_REPORT_ACTIONS,
    TEST_REPORT_GROUP_VARIABLE,
    CoverageFormat,
    reports_section,
)
from pipeline.settings import Settings
from tests.support import (
    BUCKET_ARN,
    KEY_ARN,
    build_projects,
    evaluate_component,
    fixed_foundation,
    policy,
    program,
    settings_for,
    statements_by_sid,
)

REPORT_GROUP = "aws:codebuild/reportGroup:ReportGroup"

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:pulumi-token-AbCdEf"
DEPLOY_ROLE = "arn:aws:iam::123456789012:role/pulumi-deploy"
# The dev stack file's same-account bootstrap role.
PREVIEW_ROLE = "arn:aws:iam::123456789012:role/cicd-bootstrap-preview-eu-west-1"


@pytest.fixture(scope="module")
def projects() -> StackGraph:
    graph = evaluate_component(
        build_projects,
        {
            "buildSecrets": [f"PULUMI_ACCESS_TOKEN={SECRET_ARN}", "PULUMI_CONFIG_PASSPHRASE=/ci/passphrase"],
            "buildEnvironment": ["LOG_LEVEL=debug"],
            "deployRoleArn": DEPLOY_ROLE,
        },
    )
    # The tests below check every project and role in turn: with none, each would pass checking nothing.
    assert len(graph.of_type("aws:codebuild/project:Project")) == 2
    assert len(graph.of_type("aws:iam/role:Role")) == 2
    return graph


def env_vars(project: Any) -> dict[str, tuple[str, str]]:
    return {v["name"]: (v["type"], v["value"]) for v in project.inputs["environment"]["environmentVariables"]}


def test_projects_run_unprivileged_linux_containers_with_the_configured_image(projects: StackGraph) -> None:
    for project in projects.of_type("aws:codebuild/project:Project"):
        environment = project.inputs["environment"]
        assert (environment["type"], environment["privilegedMode"]) == ("LINUX_CONTAINER", False)
        assert (environment["image"], environment["computeType"]) == (
            "aws/codebuild/amazonlinux-x86_64-standard:5.0",
            "BUILD_GENERAL1_SMALL",
        )


def test_projects_have_timeouts_cache_and_the_pipeline_key(projects: StackGraph) -> None:
    for project in projects.of_type("aws:codebuild/project:Project"):
        assert (project.inputs["buildTimeout"], project.inputs["queuedTimeout"]) == (30, 60)
        assert project.inputs["cache"] == {"type": "LOCAL", "modes": ["LOCAL_SOURCE_CACHE", "LOCAL_CUSTOM_CACHE"]}
        assert project.inputs["encryptionKey"] == KEY_ARN


def test_each_project_logs_to_its_own_retained_encrypted_group(projects: StackGraph) -> None:
    for step in ("build", "deploy"):
        project, group = (
            projects.one("aws:codebuild/project:Project", step),
            projects.one("aws:cloudwatch/logGroup:LogGroup", step),
        )
        assert group.inputs["name"] == f"/cicd-pipeline/dev/codebuild/{step}"
        assert (group.inputs["retentionInDays"], group.inputs["kmsKeyId"]) == (14, KEY_ARN)
        assert project.inputs["logsConfig"]["cloudwatchLogs"] == {
            "status": "ENABLED",
            "groupName": group.outputs["name"],
        }


def test_buildspecs_come_from_the_buildspecs_directory(projects: StackGraph) -> None:
    build, deploy = (
        projects.one("aws:codebuild/project:Project", "build"),
        projects.one("aws:codebuild/project:Project", "deploy"),
    )
    # The Build step's file gets the `reports:` section that names the service's folder.
    assert build.inputs["source"] == {
        "type": "CODEPIPELINE",
        "buildspec": read_buildspec("build.yml") + reports_section("", None),
    }
    assert deploy.inputs["source"]["buildspec"] == read_buildspec("deploy.yml")
    assert "pulumi preview" in read_buildspec("build.yml")
    assert "pulumi up" in read_buildspec("deploy.yml")
    assert "--yes" in read_buildspec("deploy.yml")


def test_secrets_reach_builds_only_as_references(projects: StackGraph) -> None:
    variables = env_vars(projects.one("aws:codebuild/project:Project", "deploy"))
    assert variables["PULUMI_ACCESS_TOKEN"] == ("SECRETS_MANAGER", SECRET_ARN)
    assert variables["PULUMI_CONFIG_PASSPHRASE"] == ("PARAMETER_STORE", "/ci/passphrase")
    assert variables["LOG_LEVEL"] == ("PLAINTEXT", "debug")
    assert variables["PULUMI_STACK"] == ("PLAINTEXT", "dev")


def test_each_step_assumes_only_its_own_bootstrap_role(projects: StackGraph) -> None:
    build, deploy = (
        projects.one("aws:codebuild/project:Project", "build"),
        projects.one("aws:codebuild/project:Project", "deploy"),
    )
    assert env_vars(deploy)["ASSUME_ROLE_ARN"] == ("PLAINTEXT", DEPLOY_ROLE)
    assert env_vars(build)["ASSUME_ROLE_ARN"] == ("PLAINTEXT", PREVIEW_ROLE)
    deploy_policy = statements_by_sid(policy(projects.one("aws:iam/rolePolicy:RolePolicy", "deploy").inputs["policy"]))
    build_policy = statements_by_sid(policy(projects.one("aws:iam/rolePolicy:RolePolicy", "build").inputs["policy"]))
    assert deploy_policy["AssumeStepRole"]["Resource"] == [DEPLOY_ROLE]
    assert build_policy["AssumeStepRole"]["Resource"] == [PREVIEW_ROLE]


def test_both_steps_log_in_to_the_configured_backend(projects: StackGraph) -> None:
    for project in projects.of_type("aws:codebuild/project:Project"):
        assert env_vars(project)["PULUMI_BACKEND_URL"] == ("PLAINTEXT", "s3://cicd-state-123456789012-eu-west-1")


def test_role_policy_is_scoped_to_its_log_group_the_bucket_the_key_and_its_secrets(projects: StackGraph) -> None:
    group = projects.one("aws:cloudwatch/logGroup:LogGroup", "build").outputs["arn"]
    statements = statements_by_sid(policy(projects.one("aws:iam/rolePolicy:RolePolicy", "build").inputs["policy"]))
    assert {sid: s["Resource"] for sid, s in statements.items()} == {
        "WriteOwnLogs": [group, f"{group}:log-stream:*"],
        "ReadWritePipelineArtifacts": [f"{BUCKET_ARN}/*"],
        "LocateArtifactBucket": [BUCKET_ARN],
        "UsePipelineKey": [KEY_ARN],
        "AssumeStepRole": [PREVIEW_ROLE],
        "ReadBuildSecrets": [SECRET_ARN],
        "ReadBuildParameters": ["arn:aws:ssm:eu-west-1:123456789012:parameter/ci/passphrase"],
        "PublishTestReports": [projects.one(REPORT_GROUP, "build").outputs["arn"]],
    }


def test_roles_trust_only_codebuild_in_this_account(projects: StackGraph) -> None:
    for role in projects.of_type("aws:iam/role:Role"):
        (statement,) = policy(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Principal"] == {"Service": "codebuild.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_a_monorepo_services_steps_run_in_its_folder_and_log_to_its_own_groups() -> None:
    service = {"name": "api", "repository": "my-org/monorepo", "directory": "services/api"}
    graph = evaluate_component(build_projects, {"repository": None, "services": [service]})
    for step in ("build", "deploy"):
        project = graph.one("aws:codebuild/project:Project", step)
        assert env_vars(project)["SERVICE_DIRECTORY"] == ("PLAINTEXT", "services/api")
        group = graph.one("aws:cloudwatch/logGroup:LogGroup", step)
        assert group.inputs["name"] == f"/cicd-pipeline/dev/api/codebuild/{step}"
        role_policy = statements_by_sid(policy(graph.one("aws:iam/rolePolicy:RolePolicy", step).inputs["policy"]))
        assert role_policy["WriteOwnLogs"]["Resource"][0] == group.outputs["arn"]


def test_without_a_directory_the_steps_run_at_the_root(projects: StackGraph) -> None:
    for project in projects.of_type("aws:codebuild/project:Project"):
        assert DIRECTORY_VARIABLE not in env_vars(project)


def test_no_configured_variable_may_move_the_build_to_another_folder() -> None:
    """The buildspecs `cd "$SERVICE_DIRECTORY"`: a configured value would move every service's steps."""
    with pytest.raises(pulumi.RunError, match="SERVICE_DIRECTORY is already set by the stack"):
        settings_for({"buildEnvironment": ["SERVICE_DIRECTORY=elsewhere"]})


# --- Test reports -------------------------------------------------------------------------------------


def projects_with_coverage(coverage: CoverageFormat | None, directory: str = "") -> StackGraph:
    """The two projects, the Build step's tests producing coverage in `coverage` (None: none)."""

    def build(settings: Settings, account: AwsAccount) -> None:
        foundation = fixed_foundation(account)
        for args in program().build_project_args(settings):
            config = dataclasses.replace(args.config, coverage_format=coverage, directory=directory)
            each = dataclasses.replace(args, config=config)
            BuildProject(f"p-{each.step.name}", each, foundation, opts=account.component_options())

    return evaluate_component(build)


def test_the_build_step_names_its_own_test_report_group_by_arn(projects: StackGraph) -> None:
    """By ARN: a bare name in `reports:` would make CodeBuild create `<project>-<name>` outside the stack."""
    (group,) = projects.of_type(REPORT_GROUP)
    assert group.inputs["type"] == "TEST"
    build, deploy = (
        projects.one("aws:codebuild/project:Project", "build"),
        projects.one("aws:codebuild/project:Project", "deploy"),
    )
    assert env_vars(build)[TEST_REPORT_GROUP_VARIABLE] == ("PLAINTEXT", group.outputs["arn"])
    assert group.urn in build.dependencies
    assert f"${TEST_REPORT_GROUP_VARIABLE}:" in build.inputs["source"]["buildspec"]
    # The Deploy step runs no tests: no group, variable, section or grant.
    assert {TEST_REPORT_GROUP_VARIABLE, COVERAGE_REPORT_GROUP_VARIABLE} & set(env_vars(deploy)) == set()
    assert "reports:" not in deploy.inputs["source"]["buildspec"]
    deploy_policy = statements_by_sid(policy(projects.one("aws:iam/rolePolicy:RolePolicy", "deploy").inputs["policy"]))
    assert "PublishTestReports" not in deploy_policy


def test_without_coverage_there_is_no_coverage_group_grant_or_variable(projects: StackGraph) -> None:
    build = projects.one("aws:codebuild/project:Project", "build")
    assert COVERAGE_REPORT_GROUP_VARIABLE not in env_vars(build)
    assert "PublishCoverageReports" not in statements_by_sid(
        policy(projects.one("aws:iam/rolePolicy:RolePolicy", "build").inputs["policy"])
    )


def test_coverage_goes_to_a_group_of_its_own_with_its_own_grant() -> None:
    """A report group holds one kind of report: test cases into the TEST group, coverage into the other."""
    graph = projects_with_coverage("COBERTURAXML")
    tests, coverage = graph.one(REPORT_GROUP, "tests"), graph.one(REPORT_GROUP, "coverage")
    assert (tests.inputs["type"], coverage.inputs["type"]) == ("TEST", "CODE_COVERAGE")
    build = graph.one("aws:codebuild/project:Project", "build")
    assert env_vars(build)[COVERAGE_REPORT_GROUP_VARIABLE] == ("PLAINTEXT", coverage.outputs["arn"])
    assert build.inputs["source"]["buildspec"].endswith(reports_section("", "COBERTURAXML"))
    statements = statements_by_sid(policy(graph.one("aws:iam/rolePolicy:RolePolicy", "build").inputs["policy"]))
    assert (statements["PublishTestReports"]["Action"], statements["PublishTestReports"]["Resource"]) == (
        sorted(TEST_REPORT_ACTIONS),
        [tests.outputs["arn"]],
    )
    assert (statements["PublishCoverageReports"]["Action"], statements["PublishCoverageReports"]["Resource"]) == (
        sorted(COVERAGE_REPORT_ACTIONS),
        [coverage.outputs["arn"]],
    )


def test_a_monorepo_services_reports_are_read_from_its_folder() -> None:
    """`base-directory` is relative to the checkout's root, not to the folder the commands `cd` into."""
    graph = projects_with_coverage(None, directory="services/api")
    buildspec = graph.one("aws:codebuild/project:Project", "build").inputs["source"]["buildspec"]
    assert buildspec.endswith(reports_section("services/api", None))
    assert 'base-directory: "services/api/reports"' in buildspec
