"""pipeline.iam: policy documents are pure functions of their inputs."""

from __future__ import annotations

import json

import pulumi
import pytest

from harness.capture import StackGraph
from pipeline.iam import (
    ServiceRole,
    ServiceRoleArgs,
    merged_statements,
    policy_document,
    service_trust_policy,
    statement,
)
from tests.support import BOUNDARY_ARN, evaluate_component, policy


@pulumi.runtime.test
def test_policy_document_resolves_outputs_into_plain_json() -> pulumi.Output[None]:
    arn = pulumi.Output.from_input("arn:aws:s3:::bucket")
    document = policy_document([statement("Read", ["s3:GetObject", "s3:GetBucketAcl"], [arn])])

    def check(text: str) -> None:
        assert json.loads(text) == {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Read",
                    "Effect": "Allow",
                    "Action": ["s3:GetBucketAcl", "s3:GetObject"],
                    "Resource": ["arn:aws:s3:::bucket"],
                }
            ],
        }

    return document.apply(check, run_with_unknowns=True)


@pulumi.runtime.test
def test_merged_statements_keep_one_statement_per_sid_with_each_resource_once() -> pulumi.Output[None]:
    build_logs = pulumi.Output.from_input("arn:aws:logs:eu-west-1:123456789012:log-group:/build")
    merged = merged_statements(
        [
            statement("WriteOwnLogs", ["logs:PutLogEvents"], [build_logs]),
            statement("UseKey", ["kms:Decrypt"], ["arn:aws:kms:eu-west-1:123456789012:key/k"]),
            statement("WriteOwnLogs", ["logs:PutLogEvents"], ["arn:aws:logs:eu-west-1:123456789012:log-group:/deploy"]),
            statement("WriteOwnLogs", ["logs:PutLogEvents"], [build_logs]),
        ]
    )

    def check(text: str) -> None:
        assert [(s["Sid"], s["Resource"]) for s in json.loads(text)["Statement"]] == [
            (
                "WriteOwnLogs",
                [
                    "arn:aws:logs:eu-west-1:123456789012:log-group:/build",
                    "arn:aws:logs:eu-west-1:123456789012:log-group:/deploy",
                ],
            ),
            ("UseKey", ["arn:aws:kms:eu-west-1:123456789012:key/k"]),
        ]

    return policy_document(merged).apply(check, run_with_unknowns=True)


def test_merged_statements_refuse_one_sid_with_different_actions() -> None:
    with pytest.raises(ValueError, match="statements Read differ in more than their resources"):
        merged_statements([statement("Read", ["s3:GetObject"], ["a"]), statement("Read", ["s3:PutObject"], ["b"])])


@pulumi.runtime.test
def test_trust_policy_names_one_service_and_guards_against_confused_deputies() -> pulumi.Output[None]:
    def check(text: str) -> None:
        (trust,) = json.loads(text)["Statement"]
        assert trust["Principal"] == {"Service": "codebuild.amazonaws.com"}
        assert trust["Action"] == "sts:AssumeRole"
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}

    return service_trust_policy("codebuild.amazonaws.com", "123456789012").apply(check, run_with_unknowns=True)


def test_statement_adds_a_condition_only_when_given() -> None:
    assert "Condition" not in statement("A", ["s3:GetObject"], ["arn:aws:s3:::b/*"])
    conditioned = statement("A", ["s3:GetObject"], ["*"], condition={"Bool": {"aws:SecureTransport": "true"}})
    assert conditioned["Condition"] == {"Bool": {"aws:SecureTransport": "true"}}


@pytest.fixture(scope="module")
def service_role() -> StackGraph:
    return evaluate_component(
        lambda settings, account: ServiceRole(
            "svc",
            ServiceRoleArgs(
                service="codepipeline.amazonaws.com",
                account_id=account.account_id,
                statements=[statement("Read", ["s3:GetObject"], ["arn:aws:s3:::b/*"])],
                permissions_boundary=BOUNDARY_ARN,
                description="test role",
            ),
            opts=account.component_options(),
        )
    )


def test_service_role_attaches_its_policy_to_its_role(service_role: StackGraph) -> None:
    role, attached = service_role.one("aws:iam/role:Role"), service_role.one("aws:iam/rolePolicy:RolePolicy")
    assert attached.inputs["role"] == role.outputs["name"]
    assert attached.depends_on("role", role)
    assert policy(attached.inputs["policy"])["Statement"][0]["Resource"] == ["arn:aws:s3:::b/*"]


def test_service_role_sessions_last_at_most_an_hour(service_role: StackGraph) -> None:
    assert service_role.one("aws:iam/role:Role").inputs["maxSessionDuration"] == 3600


def test_service_role_carries_the_permissions_boundary(service_role: StackGraph) -> None:
    assert service_role.one("aws:iam/role:Role").inputs["permissionsBoundary"] == BOUNDARY_ARN
