"""Who may assume each role: its one service, or GitHub Actions runs of the named repository.

parliament cannot lint trust policies (they have no Resource), so these rules are ours.
Mirrors CKV_AWS_60 (only specific principals), CKV_AWS_61 (no account-wide assume), and
CKV_AWS_358 / CKV_AWS_393 (GitHub OIDC trust limited by `sub` to a known repository).
"""

from __future__ import annotations

import parliament

from harness.capture import RegisteredResource, StackGraph
from tests.security.conftest import ACCOUNT_ID, GITHUB_REPOSITORY, VARIANTS, every, graph_of
from tests.security.policies import (
    actions,
    as_list,
    identity_policies,
    is_github_role,
    principal_values,
    roles_holding,
    trust_policies,
)

GITHUB_ISSUER = "token.actions.githubusercontent.com"
OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"

# Which service uses a role, by the input that hands the role to it.
SERVICE_BY_CONSUMER = {
    ("aws:codebuild/project:Project", "serviceRole"): "codebuild.amazonaws.com",
    ("aws:codepipeline/pipeline:Pipeline", "roleArn"): "codepipeline.amazonaws.com",
    ("aws:cloudwatch/eventTarget:EventTarget", "roleArn"): "events.amazonaws.com",
    ("aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration", "iamRoleArn"): "chatbot.amazonaws.com",
}
# Services that document no confused-deputy condition key they send when assuming a role: a trust
# condition on aws:SourceAccount could refuse them. AWS Chatbot's channel role (pipeline/chatbot.py).
WITHOUT_SOURCE_KEYS = frozenset({"chatbot.amazonaws.com"})


def consumers(graph: StackGraph, role: RegisteredResource) -> set[str]:
    """The services this stack hands `role` to."""
    return {
        service
        for (token, prop), service in SERVICE_BY_CONSUMER.items()
        for resource in graph.of_type(token)
        if resource.inputs.get(prop) == role.outputs["arn"]
    }


def test_every_role_has_a_trust_policy(graph: StackGraph) -> None:
    roles = every(graph, "aws:iam/role:Role")
    assert {role.urn for role in roles} == {policy.resource.urn for policy in trust_policies(graph)}


def test_ckv_aws_60_ckv_aws_61_trust_only_one_specific_principal(graph: StackGraph) -> None:
    """Each statement allows exactly one service or federated principal: never "*", an account, or a user."""
    for policy in trust_policies(graph):
        for statement in policy.statements:
            principals = principal_values(statement)
            assert statement["Effect"] == "Allow", policy.label
            assert "NotPrincipal" not in statement, policy.label
            assert len(principals) == 1, f"{policy.label}: {principals}"
            kind, value = principals[0]
            assert kind in ("Service", "Federated"), f"{policy.label}: {principals}"
            assert "*" not in value, f"{policy.label}: {principals}"


def test_service_roles_trust_only_the_service_that_uses_them(graph: StackGraph) -> None:
    """One statement, the service the stack hands the role to, on behalf of this account only
    (aws:SourceAccount, AWS's confused-deputy guard)."""
    service_policies = [policy for policy in trust_policies(graph) if not is_github_role(policy)]
    assert service_policies
    for policy in service_policies:
        (statement,) = policy.statements
        (service,) = as_list(statement["Principal"]["Service"])
        assert consumers(graph, policy.resource) == {service}, f"{policy.label} trusts {service}"
        assert as_list(statement["Action"]) == ["sts:AssumeRole"], policy.label
        guard = None if service in WITHOUT_SOURCE_KEYS else {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
        assert statement.get("Condition") == guard, policy.label


def github_provider_arns(graph: StackGraph) -> set[str]:
    created = {provider.outputs["arn"] for provider in graph.of_type(OIDC_PROVIDER)}
    return created or {f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{GITHUB_ISSUER}"}


def test_ckv_aws_358_github_roles_trust_only_the_named_repository(graph: StackGraph) -> None:
    """GitHub's OIDC tokens, audience sts.amazonaws.com, subject `repo:<githubRepository>:...` and nothing wider."""
    for policy in filter(is_github_role, trust_policies(graph)):
        for statement in policy.statements:
            assert statement["Principal"] == {"Federated": statement["Principal"]["Federated"]}, policy.label
            assert statement["Principal"]["Federated"] in github_provider_arns(graph), policy.label
            assert as_list(statement["Action"]) == ["sts:AssumeRoleWithWebIdentity"], policy.label
            conditions = statement["Condition"]
            assert set(conditions) == {"StringEquals"}, f"{policy.label}: {sorted(conditions)} could match patterns"
            assert as_list(conditions["StringEquals"].get(f"{GITHUB_ISSUER}:aud")) == ["sts.amazonaws.com"]
            subjects = [
                subject
                for operator in conditions.values()
                for subject in as_list(operator.get(f"{GITHUB_ISSUER}:sub", []))
            ]
            assert subjects, f"{policy.label}: no sub condition, so any repository could assume it"
            prefix = f"repo:{GITHUB_REPOSITORY}:"
            for subject in subjects:
                assert subject.startswith(prefix), f"{policy.label}: {subject}"
                assert subject.removeprefix(prefix), f"{policy.label}: {subject} names no ref"
                assert not set(subject) & set("*?"), f"{policy.label}: {subject} is a pattern"


def access_levels(action: str) -> set[str]:
    """What the Service Authorization Reference (parliament's offline copy) calls each action `action` covers."""
    levels = set()
    for expanded in parliament.expand_action(action):
        service = next(s for s in parliament.iam_definition if s["prefix"] == expanded["service"])
        levels |= {p["access_level"] for p in service["privileges"] if p["privilege"] == expanded["action"]}
    return levels


def test_pull_request_roles_only_read(graph: StackGraph) -> None:
    """A pull request can change the workflow it runs, so the role its jobs get must not write."""
    pull_requests = {
        policy.resource.id for policy in filter(is_github_role, trust_policies(graph)) if ":pull_request" in policy.text
    }
    for policy in identity_policies(graph):
        if roles_holding(graph, policy) & pull_requests:
            for statement in policy.statements:
                for action in actions(statement):
                    assert access_levels(action) <= {"Read", "List"}, f"{policy.label}: {action}"


def test_github_oidc_provider_is_githubs_for_sts(graph: StackGraph) -> None:
    for provider in graph.of_type(OIDC_PROVIDER):
        assert provider.inputs["url"] == f"https://{GITHUB_ISSUER}", provider.name
        assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"], provider.name


def test_github_roles_are_covered() -> None:
    """Some variants set `githubRepository`, and each of them has GitHub roles for the checks above to judge."""
    github = [name for name, (_, overrides) in VARIANTS.items() if "githubRepository" in overrides]
    assert github
    for name in github:
        assert any(map(is_github_role, trust_policies(graph_of(name)))), f"{name} has no GitHub role"
