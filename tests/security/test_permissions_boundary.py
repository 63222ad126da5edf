"""The permissions boundary, and what holds the GitHub deploy role to it.

The deploy role writes IAM roles and their policies; without more, a job holding it could give a
role (and so itself) anything in the account. Four things together prevent that, each checked here
on every variant: every service role carries the stack's boundary; the boundary allows nothing
beyond what those roles are granted, with no wildcard action; the deploy role may create a role or
write a role's permissions only with that boundary on it; and explicit Deny statements keep it from
undoing the boundary, changing it, or changing the GitHub roles themselves. Keys and connections,
named by random ids, are reached only through the stack's tags.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.capture import RegisteredResource, StackGraph
from harness.run_simulation import AccessModel
from pipeline.chatbot import NOTIFICATION_PERMISSIONS
from pipeline.github_grants import NOT_GRANTED_CREATES
from tests.security.conftest import ACCOUNT_ID, ACTIVE_VARIANTS, VARIANTS, every, graph_of
from tests.security.policies import (
    BOUNDARY_KEY,
    PolicyDocument,
    actions,
    allowed,
    asked,
    identity_policies,
    is_github_role,
    resources,
    roles_holding,
    takes_the_boundary_condition,
    trust_policies,
)

POLICY = "aws:iam/policy:Policy"
ROLE = "aws:iam/role:Role"
# IAM's limit on a managed policy's document, white space not counted.
MANAGED_POLICY_LIMIT = 6_144

GITHUB_VARIANTS = [name for name in ACTIVE_VARIANTS if "githubRepository" in VARIANTS[name][1]]


@pytest.fixture(scope="module", params=GITHUB_VARIANTS)
def github_graph(request: pytest.FixtureRequest) -> StackGraph:
    return graph_of(str(request.param))


def boundary_of(graph: StackGraph) -> RegisteredResource:
    """The stack's boundary: the policy its roles carry (with Slack on, the channel's guardrail is a policy too)."""
    carried = {role.inputs.get("permissionsBoundary") for role in every(graph, ROLE)}
    (boundary,) = [policy for policy in every(graph, POLICY) if policy.outputs["arn"] in carried]
    return boundary


def boundary_document(graph: StackGraph) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(boundary_of(graph).inputs["policy"])
    return document


def github_role_ids(graph: StackGraph) -> set[str]:
    return {policy.resource.id for policy in trust_policies(graph) if is_github_role(policy)}


def service_roles(graph: StackGraph) -> list[RegisteredResource]:
    return [role for role in every(graph, ROLE) if role.id not in github_role_ids(graph)]


def policies_of(graph: StackGraph, role: RegisteredResource) -> list[PolicyDocument]:
    return [policy for policy in identity_policies(graph) if role.id in roles_holding(graph, policy)]


def deploy_policy(graph: StackGraph) -> PolicyDocument:
    """The GitHub role that runs `pulumi up`: the one not trusted by pull requests."""
    (role,) = [
        policy.resource
        for policy in trust_policies(graph)
        if is_github_role(policy) and ":pull_request" not in policy.text
    ]
    (policy,) = policies_of(graph, role)
    return policy


def stack_tags(graph: StackGraph) -> dict[str, str]:
    """The default tags of the stack's providers (with Slack on, Chatbot's has the same ones)."""
    (tags_json,) = {provider.inputs["defaultTags"] for provider in graph.of_type("pulumi:providers:aws")}
    tags: dict[str, str] = json.loads(tags_json)["tags"]
    return tags


# ---------------------------------------------------------------------------------------------
# The boundary and the roles that carry it


def test_every_service_role_carries_the_stacks_boundary(graph: StackGraph) -> None:
    """Only the GitHub roles do not: the deploy role needs more than the boundary allows, so they
    are kept from CI by the Deny statements below instead."""
    boundary = boundary_of(graph)
    roles = service_roles(graph)
    assert len(roles) >= 3
    for role in roles:
        assert role.inputs.get("permissionsBoundary") == boundary.outputs["arn"], role.name
        assert role.depends_on("permissionsBoundary", boundary), role.name
    assert {role.id for role in every(graph, ROLE)} - {role.id for role in roles} == github_role_ids(graph)


def test_the_boundary_allows_no_wildcard_action(graph: StackGraph) -> None:
    for statement in boundary_document(graph)["Statement"]:
        assert statement["Effect"] == "Allow", statement["Sid"]
        assert not {"NotAction", "NotResource"} & set(statement), statement["Sid"]
        if statement["Sid"] == "ChatbotNotificationsOnly":
            # The Slack channel role's grant, AWS's read-only "Notification permissions" template as AWS
            # writes it (pipeline/chatbot.py): nothing else may use a pattern or "*".
            assert sorted(actions(statement)) == sorted(NOTIFICATION_PERMISSIONS)
            continue
        for action in actions(statement):
            # Neither "*" nor "service:*", nor any other pattern: each action by its name.
            assert "*" not in action, f"{statement['Sid']}: {action}"
        assert "*" not in resources(statement), statement["Sid"]


def test_the_boundary_allows_exactly_what_the_service_roles_are_granted(graph: StackGraph) -> None:
    """Every grant of every service role fits inside it (or the role would fail at run time), and it
    allows no action none of them is granted. Whether the boundary allows a grant is principalmapper's
    reading of the role's boundary (harness/run_simulation.py)."""
    document, model = boundary_document(graph), AccessModel.of([graph])
    granted: set[str] = set()
    cut = []
    for role in service_roles(graph):
        for policy in policies_of(graph, role):
            for statement in policy.statements:
                granted |= set(actions(statement))
                cut += [
                    f"{role.name}: {action} on {resource}"
                    for action in actions(statement)
                    for resource in resources(statement)
                    if not model.granting(asked(role.outputs["arn"], action, resource))["boundary"]
                ]
    assert cut == []
    assert {a for s in document["Statement"] for a in actions(s)} == granted


def test_the_boundary_fits_iams_managed_policy_limit(graph: StackGraph) -> None:
    assert len(json.dumps(boundary_document(graph), separators=(",", ":"))) <= MANAGED_POLICY_LIMIT


# ---------------------------------------------------------------------------------------------
# The deploy role


def test_the_deploy_role_writes_roles_only_with_the_boundary_on_them(github_graph: StackGraph) -> None:
    """Each granted action that IAM can condition on iam:PermissionsBoundary (per the Service
    Authorization Reference) is conditioned on exactly this stack's boundary."""
    boundary = boundary_of(github_graph).outputs["arn"]
    conditioned = []
    for statement in deploy_policy(github_graph).statements:
        bounded = [action for action in actions(statement) if takes_the_boundary_condition(action)]
        if statement["Effect"] == "Allow" and bounded:
            assert statement.get("Condition") == {"ArnEquals": {BOUNDARY_KEY: boundary}}, statement["Sid"]
            conditioned += bounded
    assert {"iam:CreateRole", "iam:PutRolePolicy"} <= set(conditioned)


def denied(policy: PolicyDocument, action: str, resource: str) -> bool:
    """An unconditional Deny: nothing in the request can make it lapse."""
    return any(
        statement["Effect"] == "Deny"
        and "Condition" not in statement
        and action in actions(statement)
        and resource in resources(statement)
        for statement in policy.statements
    )


def test_the_deploy_role_cannot_undo_or_change_the_boundary(github_graph: StackGraph) -> None:
    deploy = deploy_policy(github_graph)
    boundary = boundary_of(github_graph).outputs["arn"]
    stack_roles = f"arn:aws:iam::{ACCOUNT_ID}:role/cicd-{stack_tags(github_graph)['Environment']}-*"
    assert denied(deploy, "iam:DeleteRolePermissionsBoundary", stack_roles)
    for action in (
        "iam:CreatePolicyVersion",
        "iam:DeletePolicy",
        "iam:DeletePolicyVersion",
        "iam:SetDefaultPolicyVersion",
    ):
        assert denied(deploy, action, boundary), action


def test_the_deploy_role_cannot_change_the_github_roles(github_graph: StackGraph) -> None:
    """They carry no boundary; were one put on them, the deploy role could write their policies."""
    model, deploy = AccessModel.of([github_graph]), deploy_policy(github_graph).resource.inputs["role"]
    deploy_arn = next(role.outputs["arn"] for role in every(github_graph, ROLE) if role.outputs["name"] == deploy)
    boundary = boundary_of(github_graph).outputs["arn"]
    github_roles = [role for role in every(github_graph, ROLE) if role.id in github_role_ids(github_graph)]
    assert len(github_roles) == 2
    for role in github_roles:
        arn = role.outputs["arn"]
        for action in ("iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"):
            assert not allowed(model, deploy_arn, action, arn, {BOUNDARY_KEY: boundary}), f"{action} on {role.name}"
        assert not allowed(model, deploy_arn, "iam:UpdateAssumeRolePolicy", arn), role.name


def test_keys_and_connections_are_reached_only_through_the_stacks_tags(github_graph: StackGraph) -> None:
    """Their ids are random, so their ARNs are `key/*` and `connection/*`: each such grant holds only for
    resources tagged with this stack's Project and Environment."""
    tags = stack_tags(github_graph)
    expected = {f"aws:ResourceTag/{key}": tags[key] for key in ("Project", "Environment")}
    checked = 0
    for policy in identity_policies(github_graph):
        for statement in policy.statements:
            if any(arn.endswith((":key/*", ":connection/*")) for arn in resources(statement)):
                condition = statement.get("Condition", {}).get("StringEquals", {})
                assert {key: condition.get(key) for key in expected} == expected, f"{policy.label} {statement['Sid']}"
                checked += 1
    assert checked >= 2


def test_nothing_is_granted_that_would_tag_a_new_key_or_connection(github_graph: StackGraph) -> None:
    """Tagging at creation is authorized on every key or connection (pipeline/github.py, NOT_GRANTED_CREATES)."""
    for policy in identity_policies(github_graph):
        granted = {a for s in policy.statements if s["Effect"] == "Allow" for a in actions(s)}
        assert granted.isdisjoint(NOT_GRANTED_CREATES), policy.label
