"""The GitHub Actions roles: who may assume them, and what they may do to which resources.

What `pulumi up` (the deploy role) and `pulumi preview --refresh` (the preview role) call, per resource
type, is pipeline/github_calls.py's catalogue. harness/run_simulation.py resolves it against the stack's
graph and judges every call with principalmapper: the role's inline policy with its explicit Deny
statements, the key policy, bucket and topic policies, and their conditions against the request context
AWS sends (the boundary a role carries, the tags of a key, the service a role is passed to). Requests
outside the catalogue, such as what only the administrator may do, are judged the same way.

Who may assume the roles stays a structural check of their trust policies: principalmapper matches
`AWS` and `Service` principals only, not `Federated` ones, so it cannot judge GitHub's
AssumeRoleWithWebIdentity or its subject claims.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import secrets
from types import MappingProxyType
from typing import Any, NamedTuple

import parliament
import pulumi
import pytest

from harness.capture import RegisteredResource, StackGraph, evaluate, evaluate_once
from harness.fake_aws import ACCOUNT_ID
from harness.run_simulation import AccessModel, ContextValue, Simulation, describe, refusals_of_call, resolve
from harness.stack_config import qualify
from pipeline.github import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST
from pipeline.github_calls import A_CONFIG_TAG, GITHUB_CALLS, github_calls_by_id
from pipeline.github_grants import NOT_GRANTED_CREATES, UNSCOPABLE_ACTIONS, UNSCOPABLE_READS
from pipeline.run_calls import Actor
from tests.security.policies import RequestContext, actions, allowed, resources
from tests.support import settings_for

REPOSITORY = "my-org/my-service"
REGION = "eu-west-1"
EXISTING_PROVIDER = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{GITHUB_OIDC_HOST}"
STATE_BUCKET = "my-pulumi-state"
TOKEN_KEY = "pulumiAccessToken"
TOKEN = "pul-" + secrets.token_hex(20)  # made up per run: a literal token would be a committed secret
# IAM's limit on the inline policies of one role, white space not counted.
INLINE_POLICY_LIMIT = 10_240
READ_ONLY_LEVELS = {"Read", "List"}

Document = dict[str, Any]


@functools.cache
def github_graph(stack: str, *options: tuple[str, str | None]) -> StackGraph:
    """`stack` with GitHub access for REPOSITORY, plus `options` as (key, value) config pairs."""
    overrides = {"githubRepository": REPOSITORY, **dict(options)}
    secret = [qualify(TOKEN_KEY)] if TOKEN_KEY in overrides else []
    return evaluate_once(stack, overrides, secret_keys=secret)


SLACK = (("slackWorkspaceId", "T07EA123LEP"), ("slackChannelId", "C07EZ1ABC23"))


def every_option(stack: str) -> StackGraph:
    """GitHub access, a self-managed state bucket, a stored Pulumi token and Slack: every resource type."""
    return github_graph(stack, ("githubStateBucket", STATE_BUCKET), (TOKEN_KEY, TOKEN), ("backendUrl", None), *SLACK)


EXISTING_CONNECTION = f"arn:aws:codeconnections:{REGION}:{ACCOUNT_ID}:connection/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"
# The source settings change which connection grants the deploy role gets; services, which resources there are.
SOURCE_VARIANTS: dict[str, tuple[str, tuple[tuple[str, str | None], ...]]] = {
    "dev-existing-connection": ("dev", (("codestarConnectionArn", EXISTING_CONNECTION),)),
    "prod-s3-source": ("prod", (("sourceType", "s3"), ("sourceBucket", "my-source-bucket"))),
    # Three services' pipelines (Pulumi.platform.yaml): the grants must reach every service's resources.
    "platform-services": ("platform", ()),
    # A service whose names start like the GitHub roles' (`cicd-dev-github-actions-...`): the denials that
    # keep the deploy role off the GitHub roles must not keep it off this service's roles too.
    "service-named-like-the-github-roles": (
        "dev",
        (
            ("repository", None),
            ("services", json.dumps([{"name": "github-actions", "repository": "my-org/my-service"}])),
        ),
    ),
}


def variant_graph(variant: str) -> StackGraph:
    if variant in STACKS:
        return every_option(variant)
    stack, options = SOURCE_VARIANTS[variant]
    return github_graph(stack, *options)


def role(graph: StackGraph, kind: str) -> RegisteredResource:
    return graph.one("aws:iam/role:Role", f"-github-actions-{kind}")


def trust(graph: StackGraph, kind: str) -> Document:
    document: Document = json.loads(role(graph, kind).inputs["assumeRolePolicy"])
    return document


def permissions(graph: StackGraph, kind: str) -> Document:
    document: Document = json.loads(
        graph.one("aws:iam/rolePolicy:RolePolicy", f"-github-actions-{kind}-policy").inputs["policy"]
    )
    return document


def privilege(action: str) -> dict[str, Any]:
    """The Service Authorization Reference's entry for `action`, from parliament's offline copy."""
    prefix, name = action.split(":")
    service = next(s for s in parliament.iam_definition if s["prefix"] == prefix)
    found: dict[str, Any] = next(p for p in service["privileges"] if p["privilege"].lower() == name.lower())
    return found


def expanded(pattern: str) -> list[str]:
    return [f"{item['service']}:{item['action']}" for item in parliament.expand_action(pattern)]


# ---------------------------------------------------------------------------------------------
# What the roles call: pipeline/github_calls.py, judged by harness/run_simulation.py's engine.

SLACK_CHANNEL = "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration"
DEPLOY: Actor = "GitHub deploy role"
PREVIEW: Actor = "GitHub preview role"


@functools.cache
def simulation(variant: str) -> Simulation:
    """The catalogue resolved against the variant's graph, and the graph's policies for judging it."""
    return Simulation.of([variant_graph(variant)], GITHUB_CALLS)


def role_arn(graph: StackGraph, kind: str) -> str:
    return str(role(graph, kind).outputs["arn"])


class Need(NamedTuple):
    """A request outside the catalogue, for a test to ask of the engine."""

    action: str
    resource: str
    context: RequestContext = MappingProxyType({})


def _regional(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


def _role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"


def tags_of(resource: RegisteredResource, graph: StackGraph) -> dict[str, str]:
    """`aws:ResourceTag/...` of a resource: its provider's default tags and its own."""
    provider = graph.by_urn(resource.provider.rpartition("::")[0])
    tags = {**json.loads(provider.inputs["defaultTags"])["tags"], **(resource.inputs.get("tags") or {})}
    return {f"aws:ResourceTag/{key}": value for key, value in tags.items()}


def retagged(resource: RegisteredResource, graph: StackGraph, *keys: str) -> dict[str, ContextValue]:
    """The context of TagResource/UntagResource on `resource` for the tag `keys`."""
    return {**tags_of(resource, graph), "aws:TagKeys": list(keys)}


def within_boundary(role: RegisteredResource) -> dict[str, ContextValue]:
    return {"iam:PermissionsBoundary": role.inputs["permissionsBoundary"]}


def unmet(variant: str, actor: Actor) -> list[str]:
    """Every registered type without an entry for `actor`, and every call of `actor` the engine refuses or
    cannot judge in full (only the connection the config names, which the stack does not hold, may be)."""
    covered = {call.registered for call in GITHUB_CALLS if call.actor == actor}
    missing = [
        f"{r.type} {r.name}: no entry for the {actor} in pipeline/github_calls.py"
        for r in variant_graph(variant).custom()
        if r.type not in covered
    ]
    found = simulation(variant)
    judgements = [found.model.judge(request) for request in found.requests if request.call.actor == actor]
    assert len(judgements) >= 30  # resolved against the graph, not vacuously empty
    return missing + [
        describe(j) for j in judgements if not j.allowed or (j.unjudged and j.request.resource != EXISTING_CONNECTION)
    ]


ADMINISTRATOR_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def administrator_only(graph: StackGraph, stack: str) -> dict[str, Need]:
    """What CI's deploy role must never be able to do; each is the administrator's `pulumi up` (README, CI)."""
    roles = graph.of_type("aws:iam/role:Role")
    service_role = next(role for role in roles if role.inputs.get("permissionsBoundary"))
    service_arn = service_role.outputs["arn"]
    boundary = graph.one("aws:iam/policy:Policy", "-boundary").outputs["arn"]
    key = graph.one("aws:kms/key:Key")
    stack_tags = tags_of(key, graph)
    requested = {name.replace("ResourceTag", "RequestTag"): value for name, value in stack_tags.items()}
    new_role = _role_arn(f"cicd-{stack}-new-role")
    forbidden = {
        "create a role without the boundary": Need("iam:CreateRole", new_role),
        "create a role with another boundary": Need(
            "iam:CreateRole", new_role, {"iam:PermissionsBoundary": ADMINISTRATOR_POLICY}
        ),
        "swap a role's boundary": Need(
            "iam:PutRolePermissionsBoundary", service_arn, {"iam:PermissionsBoundary": ADMINISTRATOR_POLICY}
        ),
        "lift a role's boundary": Need("iam:DeleteRolePermissionsBoundary", service_arn, within_boundary(service_role)),
        # A step role trusting the job would take it, through the bootstrap's trust, into the target account.
        "change whom a service role trusts": Need("iam:UpdateAssumeRolePolicy", service_arn),
        "attach a managed policy": Need(
            "iam:AttachRolePolicy",
            service_arn,
            {**within_boundary(service_role), "iam:PolicyARN": ADMINISTRATOR_POLICY},
        ),
        "create a policy": Need("iam:CreatePolicy", f"arn:aws:iam::{ACCOUNT_ID}:policy/cicd-{stack}-new-policy"),
        "create a key": Need("kms:CreateKey", "*", requested),
        # Tagging at creation is authorized on every key; the same request on someone else's key
        # would bring it into the deploy role's reach.
        "tag a key into the stack": Need(
            "kms:TagResource",
            _regional("kms", "key/someone-elses"),
            {**requested, "aws:TagKeys": ["Project", "Environment"]},
        ),
        "retag the stack's key out of its environment": Need(
            "kms:TagResource", key.outputs["arn"], retagged(key, graph, "Environment")
        ),
        "drop the stack's key from its project": Need(
            "kms:UntagResource", key.outputs["arn"], retagged(key, graph, "Project")
        ),
        "change another environment's key": Need(
            "kms:PutKeyPolicy",
            _regional("kms", "key/staging"),
            {**stack_tags, "aws:ResourceTag/Environment": "staging"},
        ),
        "change an untagged key": Need("kms:ScheduleKeyDeletion", _regional("kms", "key/untagged")),
        "create a connection": Need("codestar-connections:CreateConnection", "*", requested),
        "delete someone else's connection": Need(
            "codestar-connections:DeleteConnection", _regional("codestar-connections", "connection/someone-elses")
        ),
    }
    for action in (
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicyVersion",
        "iam:DeletePolicy",
    ):
        forbidden[f"{action} on the boundary"] = Need(action, boundary)
    for role in roles:
        if not role.inputs.get("permissionsBoundary"):
            name, arn, capped = role.name, role.outputs["arn"], {"iam:PermissionsBoundary": boundary}
            forbidden[f"rewrite {name}'s policy"] = Need("iam:PutRolePolicy", arn)
            forbidden[f"rewrite {name}'s policy once it carries the boundary"] = Need("iam:PutRolePolicy", arn, capped)
            forbidden[f"put the boundary on {name}"] = Need("iam:PutRolePermissionsBoundary", arn, capped)
            forbidden[f"change whom {name} trusts"] = Need("iam:UpdateAssumeRolePolicy", arn)
            forbidden[f"delete {name}'s policy"] = Need("iam:DeleteRolePolicy", arn, capped)
    return forbidden


STACKS = ["dev", "prod"]
VARIANTS = [*STACKS, *SOURCE_VARIANTS]


# ---------------------------------------------------------------------------------------------
# Switched off by default


def test_no_github_access_without_a_repository(stack_graph: StackGraph) -> None:
    assert stack_graph.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    assert [r.name for r in stack_graph.resources if "github-actions" in r.name] == []
    assert [name for name in stack_graph.exports if name.startswith("github")] == []


# ---------------------------------------------------------------------------------------------
# Who may assume the roles


@pytest.mark.parametrize("stack", STACKS)
def test_the_stack_creates_githubs_oidc_provider(stack: str) -> None:
    graph = github_graph(stack)
    provider = graph.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == f"https://{GITHUB_OIDC_HOST}"
    assert provider.inputs["clientIdLists"] == [GITHUB_OIDC_AUDIENCE]
    # IAM validates GitHub's certificate against its own CAs; a pinned thumbprint only goes stale.
    assert "thumbprintLists" not in provider.inputs
    assert graph.exports["githubOidcProviderArn"] == provider.outputs["arn"]
    for kind in ("deploy", "preview"):
        assert trust(graph, kind)["Statement"][0]["Principal"] == {"Federated": provider.outputs["arn"]}
        assert role(graph, kind).depends_on("assumeRolePolicy", provider)


def test_an_existing_oidc_provider_is_trusted_not_created() -> None:
    graph = github_graph("prod", ("githubOidcProviderArn", EXISTING_PROVIDER))
    assert graph.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    assert graph.exports["githubOidcProviderArn"] == EXISTING_PROVIDER
    for kind in ("deploy", "preview"):
        assert trust(graph, kind)["Statement"][0]["Principal"] == {"Federated": EXISTING_PROVIDER}
    # Nor may the roles manage a provider the stack does not own.
    deploy = role_arn(graph, "deploy")
    assert not allowed(AccessModel.of([graph]), deploy, "iam:DeleteOpenIDConnectProvider", EXISTING_PROVIDER)


@pytest.mark.parametrize(
    ("stack", "kind", "subject"),
    [
        ("dev", "deploy", f"repo:{REPOSITORY}:ref:refs/heads/main"),
        ("dev", "preview", f"repo:{REPOSITORY}:pull_request"),
        # Production is deployed only by jobs of the `production` environment (its reviewers approve
        # them); a job on main outside it must not be able to assume the prod deploy role.
        ("prod", "deploy", f"repo:{REPOSITORY}:environment:production"),
        ("prod", "preview", f"repo:{REPOSITORY}:pull_request"),
    ],
)
def test_each_role_trusts_exactly_one_github_subject(stack: str, kind: str, subject: str) -> None:
    (statement,) = trust(github_graph(stack), kind)["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Allow", "sts:AssumeRoleWithWebIdentity")
    # StringEquals only: no StringLike, no wildcard, no ForAllValues that an absent claim satisfies.
    assert statement["Condition"] == {
        "StringEquals": {
            f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
            f"{GITHUB_OIDC_HOST}:sub": subject,
        }
    }


def test_immutable_subject_claims_name_the_repository_by_id() -> None:
    repository = "my-org@1234567/my-service@7654321"
    graph = evaluate("dev", {"githubRepository": repository})
    subject = trust(graph, "deploy")["Statement"][0]["Condition"]["StringEquals"][f"{GITHUB_OIDC_HOST}:sub"]
    assert subject == f"repo:{repository}:ref:refs/heads/main"


@pytest.mark.parametrize("stack", STACKS)
def test_the_role_arns_are_exported_for_the_workflow_variables(stack: str) -> None:
    graph = github_graph(stack)
    assert graph.exports["githubDeployRoleArn"] == role(graph, "deploy").outputs["arn"]
    assert graph.exports["githubPreviewRoleArn"] == role(graph, "preview").outputs["arn"]
    for kind in ("deploy", "preview"):
        assert role(graph, kind).inputs["maxSessionDuration"] == 3600
        policy = graph.one("aws:iam/rolePolicy:RolePolicy", f"-github-actions-{kind}-policy")
        assert policy.depends_on("role", role(graph, kind))


# ---------------------------------------------------------------------------------------------
# What the roles may do


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_deploy_role_can_manage_every_resource_the_stack_registers(variant: str) -> None:
    assert unmet(variant, DEPLOY) == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_preview_role_can_read_every_resource_the_stack_registers(variant: str) -> None:
    assert unmet(variant, PREVIEW) == []


def test_each_catalogue_entry_cites_the_aws_documentation() -> None:
    github_calls_by_id()  # ids are unique
    for call in GITHUB_CALLS:
        assert call.doc.startswith("https://docs.aws.amazon.com/"), call.id
        assert all(url.startswith("https://") for url in call.see), call.id
        assert call.why, call.id
        assert call.registered, call.id
        assert call.context.get("aws:SecureTransport") == "true", call.id


@pytest.mark.parametrize("call_id", [call.id for call in GITHUB_CALLS])
def test_each_call_is_refused_when_its_grant_is_removed(call_id: str) -> None:
    """As for the run's calls (tests/security/test_run_simulation.py): taking away each statement that
    grants it, in the role's policy or in the key policy, leaves the call refused."""
    checked, failures = refusals_of_call(call_id, ((variant, simulation(variant)) for variant in VARIANTS))
    assert checked, f"{call_id} applies in no variant"
    assert failures == []


@pytest.mark.parametrize("stack", STACKS)
def test_the_deploy_role_cannot_do_what_is_left_to_the_administrator(stack: str) -> None:
    graph, model = every_option(stack), simulation(stack).model
    deploy = role_arn(graph, "deploy")
    forbidden = administrator_only(graph, stack)
    assert [name for name, need in forbidden.items() if allowed(model, deploy, *need)] == []
    # Not vacuous: each forbidden change has a permitted twin, within the stack's own reach.
    key, role = graph.one("aws:kms/key:Key"), graph.one("aws:iam/role:Role", "-build-role")
    assert allowed(model, deploy, "kms:TagResource", key.outputs["arn"], retagged(key, graph, A_CONFIG_TAG))
    assert allowed(model, deploy, "iam:PutRolePolicy", role.outputs["arn"], within_boundary(role))


def test_what_is_not_granted_is_not_granted_for_a_documented_reason() -> None:
    granted = {a for s in permissions(every_option("dev"), "deploy")["Statement"] for a in actions(s)}
    for action, page in NOT_GRANTED_CREATES.items():
        assert action not in granted
        assert page.startswith("https://docs.aws.amazon.com/service-authorization/latest/reference/list_")
    assert {need.action for need in administrator_only(every_option("dev"), "dev").values()} >= set(NOT_GRANTED_CREATES)


def test_every_resource_type_in_the_catalogue_is_still_registered() -> None:
    """An entry no stack registers any more is dead weight that hides a renamed type."""
    registered = {r.type for stack in STACKS for r in every_option(stack).custom()}
    assert {call.registered for call in GITHUB_CALLS} == registered


def test_connection_grants_follow_the_source_config() -> None:
    model, given = (
        simulation("dev-existing-connection").model,
        role_arn(variant_graph("dev-existing-connection"), "deploy"),
    )
    to_pipeline = {"codeconnections:PassedToService": "codepipeline.amazonaws.com"}
    assert allowed(model, given, "codeconnections:PassConnection", EXISTING_CONNECTION, to_pipeline)
    assert not allowed(model, given, "codeconnections:PassConnection", EXISTING_CONNECTION, {})
    other = _regional("codestar-connections", "connection/0a1b2c3d-0000-0000-0000-0a1b2c3d4e5f")
    to_pipeline = {"codestar-connections:PassedToService": "codepipeline.amazonaws.com"}
    assert not allowed(model, given, "codestar-connections:PassConnection", other, to_pipeline)
    assert not allowed(model, given, "codestar-connections:CreateConnection", "*")
    without_connection = permissions(variant_graph("prod-s3-source"), "deploy")
    assert [a for s in without_connection["Statement"] for a in actions(s) if "connection" in a.lower()] == []


@pytest.mark.parametrize("stack", STACKS)
def test_the_preview_role_can_change_nothing(stack: str) -> None:
    statements = permissions(every_option(stack), "preview")["Statement"]
    granted = {action for statement in statements for pattern in actions(statement) for action in expanded(pattern)}
    levels = {action: privilege(action)["access_level"] for action in granted}
    assert {action: level for action, level in levels.items() if level not in READ_ONLY_LEVELS} == {}
    assert len(granted) >= 20  # the wildcard expanded: a broken expansion would pass vacuously


@pytest.mark.parametrize("stack", STACKS)
def test_a_pull_request_reads_neither_secrets_nor_artifacts(stack: str) -> None:
    graph, model = every_option(stack), simulation(stack).model
    preview = role_arn(graph, "preview")
    secret = graph.one("aws:secretsmanager/secret:Secret").outputs["arn"]
    bucket = graph.one("aws:s3/bucket:Bucket").outputs["arn"]
    assert not allowed(model, preview, "secretsmanager:GetSecretValue", secret)
    assert not allowed(model, preview, "s3:GetObject", f"{bucket}/source/build.zip")
    assert allowed(model, role_arn(graph, "deploy"), "secretsmanager:GetSecretValue", secret)


def test_a_stacks_roles_cannot_touch_another_stacks_named_resources() -> None:
    dev, prod = github_graph("dev"), github_graph("prod")
    # Both stacks in one account: prod's key policy and the rest judge what dev's deploy role asks.
    model, dev_deploy = AccessModel.of([dev, prod]), role_arn(dev, "deploy")
    # Keys and connections, named by random ids, are told apart by their Environment tag.
    reached = [
        f"{request.scope}: {request.action} on {request.resource}"
        for request in resolve([prod], GITHUB_CALLS)
        if request.call.actor == DEPLOY
        and request.resource != "*"
        and model.judge(dataclasses.replace(request, principal=dev_deploy)).allowed
    ]
    # The one exception is the account's single OIDC provider, which whichever stack created it owns.
    assert reached == [
        f"{DEPLOY} for cicd-prod-github-actions-oidc: {action} on "
        f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{GITHUB_OIDC_HOST}"
        for action in ("iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider")
    ]


@pytest.mark.parametrize("kind", ["deploy", "preview"])
def test_resource_star_only_for_actions_iam_cannot_scope(kind: str) -> None:
    document = permissions(every_option("dev"), kind)
    on_everything = {a for s in document["Statement"] if "*" in resources(s) for a in actions(s)}
    assert on_everything == set(UNSCOPABLE_ACTIONS if kind == "deploy" else UNSCOPABLE_READS)
    for action, page in UNSCOPABLE_ACTIONS.items():
        assert {t["resource_type"] for t in privilege(action)["resource_types"]} == {""}, f"{action} can be scoped"
        assert page.startswith("https://docs.aws.amazon.com/service-authorization/latest/reference/list_")


def test_roles_and_connections_are_passed_only_to_the_pipeline_services() -> None:
    statements = permissions(every_option("dev"), "deploy")["Statement"]
    passing = {
        s["Sid"]: s for s in statements if {"iam:PassRole", "codestar-connections:PassConnection"} & set(actions(s))
    }
    assert sorted(passing) == [
        "PassSlackRoleToChatbot",
        "PassSourceConnectionToPipeline",
        "PassStackRolesToPipelineServices",
    ]
    assert passing["PassStackRolesToPipelineServices"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": ["codebuild.amazonaws.com", "codepipeline.amazonaws.com"]}
    }
    # The Slack channel's role, by its exact name, to Chatbot only.
    assert passing["PassSlackRoleToChatbot"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "chatbot.amazonaws.com"}
    }
    assert resources(passing["PassSlackRoleToChatbot"]) == [
        f"arn:aws:iam::{ACCOUNT_ID}:role/cicd-dev-slack-role-???????"
    ]
    # The stack's own connection, told from others by its tags.
    assert passing["PassSourceConnectionToPipeline"]["Condition"] == {
        "StringEquals": {
            "codestar-connections:PassedToService": "codepipeline.amazonaws.com",
            "aws:ResourceTag/Project": "cicd-pipeline",
            "aws:ResourceTag/Environment": "dev",
        }
    }
    assert all(len(actions(s)) == 1 for s in passing.values())


@pytest.mark.parametrize("stack", STACKS)
def test_the_deploy_role_reaches_only_this_stacks_slack_channel_guardrail_and_role(stack: str) -> None:
    graph, model = every_option(stack), simulation(stack).model
    deploy = role_arn(graph, "deploy")
    guardrail = graph.one("aws:iam/policy:Policy", "-slack-guardrail").outputs["arn"]
    boundary = graph.one("aws:iam/policy:Policy", "-boundary").outputs["arn"]
    slack_role = graph.one("aws:iam/role:Role", "-slack-role").outputs["arn"]
    build_role = graph.one("aws:iam/role:Role", "-build-role").outputs["arn"]
    channel = graph.one(SLACK_CHANNEL).outputs["chatConfigurationArn"]
    to_chatbot = {"iam:PassedToService": "chatbot.amazonaws.com"}
    # What `pulumi up` does (the catalogue judges these too) ...
    assert allowed(model, deploy, "iam:PassRole", slack_role, to_chatbot)
    assert allowed(model, deploy, "chatbot:UpdateSlackChannelConfiguration", channel)
    assert all(allowed(model, deploy, action, guardrail) for action in ("iam:CreatePolicy", "iam:DeletePolicy"))
    # ... and nothing beside it: no other role to Chatbot, the Slack role to no other service, no policy
    # version anywhere (the guardrail is replaced instead), no other policy, no other channel.
    refused = {
        "pass a build role to Chatbot": Need("iam:PassRole", build_role, to_chatbot),
        "pass the Slack role to Lambda": Need(
            "iam:PassRole", slack_role, {"iam:PassedToService": "lambda.amazonaws.com"}
        ),
        "version the guardrail": Need("iam:CreatePolicyVersion", guardrail),
        "version the boundary": Need("iam:CreatePolicyVersion", boundary),
        "delete the boundary": Need("iam:DeletePolicy", boundary),
        "create another policy": Need("iam:CreatePolicy", f"arn:aws:iam::{ACCOUNT_ID}:policy/cicd-{stack}-slack-admin"),
        "change another channel": Need(
            "chatbot:UpdateSlackChannelConfiguration",
            f"arn:aws:chatbot::{ACCOUNT_ID}:chat-configuration/slack-channel/someone-elses",
        ),
    }
    assert [name for name, need in refused.items() if allowed(model, deploy, *need)] == []


def test_secrets_are_encrypted_only_through_secrets_manager_with_the_pipeline_key() -> None:
    graph = every_option("dev")
    (statement,) = [s for s in permissions(graph, "deploy")["Statement"] if "kms:Decrypt" in actions(s)]
    assert resources(statement) == [graph.one("aws:kms/key:Key").outputs["arn"]]
    assert statement["Condition"] == {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}


def test_a_self_managed_state_bucket_is_writable_by_up_and_readable_by_previews() -> None:
    graph, model = every_option("dev"), simulation("dev").model
    deploy, preview = role_arn(graph, "deploy"), role_arn(graph, "preview")
    bucket, checkpoint = f"arn:aws:s3:::{STATE_BUCKET}", f"arn:aws:s3:::{STATE_BUCKET}/.pulumi/stacks/dev.json"
    assert all(allowed(model, deploy, a, checkpoint) for a in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"))
    assert allowed(model, preview, "s3:GetObject", checkpoint)
    assert allowed(model, preview, "s3:ListBucket", bucket)
    assert not any(allowed(model, preview, a, checkpoint) for a in ("s3:PutObject", "s3:DeleteObject"))
    without = github_graph("dev")
    assert not allowed(AccessModel.of([without]), role_arn(without, "deploy"), "s3:GetObject", checkpoint)


@pytest.mark.parametrize("kind", ["deploy", "preview"])
def test_each_policy_fits_iams_inline_policy_limit(kind: str) -> None:
    document = permissions(every_option("prod"), kind)
    assert len(json.dumps(document, separators=(",", ":"))) <= INLINE_POLICY_LIMIT


# ---------------------------------------------------------------------------------------------
# Config


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"githubRepository": "my-service"}, "githubRepository='my-service': expected owner/repo"),
        (
            {"githubRepository": "my-org/my-service:ref"},
            "githubRepository='my-org/my-service:ref': expected owner/repo",
        ),
        ({"githubRepository": "my-org@12/my-service"}, "githubRepository='my-org@12/my-service': expected owner/repo"),
        (
            {
                "githubRepository": REPOSITORY,
                "githubOidcProviderArn": f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/gitlab.com",
            },
            f"githubOidcProviderArn='arn:aws:iam::{ACCOUNT_ID}:oidc-provider/gitlab.com': "
            f"expected arn:aws:iam::<account>:oidc-provider/{GITHUB_OIDC_HOST}",
        ),
        (
            {"githubOidcProviderArn": EXISTING_PROVIDER},
            "githubOidcProviderArn='arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com': "
            "only used together with githubRepository",
        ),
        ({"githubStateBucket": STATE_BUCKET}, "githubStateBucket='my-pulumi-state': only used together with"),
        (
            {"githubRepository": REPOSITORY, "githubStateBucket": "Pulumi_State"},
            "githubStateBucket='Pulumi_State': expected the S3 bucket name",
        ),
    ],
)
def test_bad_github_config_is_refused_naming_key_value_and_what_is_allowed(
    overrides: dict[str, str], expected: str
) -> None:
    with pytest.raises(pulumi.RunError, match=re.escape(f"Invalid config cicd-pipeline:{expected}")):
        settings_for(overrides)


def test_github_config_is_read_into_the_settings() -> None:
    settings = settings_for(
        {"githubRepository": REPOSITORY, "githubOidcProviderArn": EXISTING_PROVIDER, "githubStateBucket": STATE_BUCKET}
    )
    assert (settings.github.repository, settings.github.oidc_provider_arn, settings.github.state_bucket) == (
        REPOSITORY,
        EXISTING_PROVIDER,
        STATE_BUCKET,
    )
    assert settings_for().github.repository == ""
