"""The GitHub Actions roles: who may assume them, and what they may do to which resources.

The permission checks evaluate the resolved policy documents the way IAM matches a request:
Action and Resource (wildcards, case-insensitive actions), the conditions the program uses
against the request's context (the boundary a role carries, the tags of a key, the service a
role is passed to), and explicit Deny statements.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from collections.abc import Callable
from types import MappingProxyType
from typing import Any, NamedTuple

import parliament
import pulumi
import pytest

from harness.capture import RegisteredResource, StackGraph, evaluate
from harness.fake_aws import ACCOUNT_ID
from harness.stack_config import qualify
from pipeline.github import (
    GITHUB_OIDC_AUDIENCE,
    NOT_GRANTED_CREATES,
    UNSCOPABLE_ACTIONS,
    UNSCOPABLE_READS,
)
from pipeline.settings import GITHUB_OIDC_HOST
from tests.security.policies import RequestContext, actions, allows, resources
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
    return evaluate(stack, overrides, secret_keys=secret)


def every_option(stack: str) -> StackGraph:
    """GitHub access, a self-managed state bucket, and a stored Pulumi token: every resource type."""
    return github_graph(stack, ("githubStateBucket", STATE_BUCKET), (TOKEN_KEY, TOKEN), ("backendUrl", None))


EXISTING_CONNECTION = f"arn:aws:codeconnections:{REGION}:{ACCOUNT_ID}:connection/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"
# The source settings change which connection grants the deploy role gets.
SOURCE_VARIANTS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "dev-existing-connection": ("dev", (("codestarConnectionArn", EXISTING_CONNECTION),)),
    "prod-s3-source": ("prod", (("sourceType", "s3"), ("sourceBucket", "my-source-bucket"))),
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
# What each resource type needs, the ARN IAM authorizes it against, and the request's context.


NO_CONTEXT: RequestContext = MappingProxyType({})


class Need(NamedTuple):
    action: str
    resource: str
    context: RequestContext = NO_CONTEXT


Needs = list[Need]
NeedsFor = Callable[[RegisteredResource, StackGraph], Needs]

PASSED_TO = "PassedToService"
# A tag the stack's config adds (Pulumi.<stack>.yaml `tags`): changing it retags every resource.
EXTRA_TAG = "Team"


def _regional(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


def _role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"


def _bucket_arn(resource: RegisteredResource) -> str:
    return f"arn:aws:s3:::{resource.inputs['bucket']}"


def _bucket_setting(put: str, get: str) -> tuple[NeedsFor, NeedsFor]:
    return (lambda r, g: [Need(put, _bucket_arn(r))], lambda r, g: [Need(get, _bucket_arn(r))])


def tags_of(resource: RegisteredResource, graph: StackGraph) -> dict[str, str]:
    """`aws:ResourceTag/...` of a resource: its provider's default tags and its own."""
    provider = graph.by_urn(resource.provider.rpartition("::")[0])
    tags = {**json.loads(provider.inputs["defaultTags"])["tags"], **(resource.inputs.get("tags") or {})}
    return {f"aws:ResourceTag/{key}": value for key, value in tags.items()}


def retagged(resource: RegisteredResource, graph: StackGraph, *keys: str) -> dict[str, str | list[str]]:
    """The context of TagResource/UntagResource on `resource` for the tag `keys`."""
    return {**tags_of(resource, graph), "aws:TagKeys": list(keys)}


def _role_named(graph: StackGraph, name: str) -> RegisteredResource:
    return next(role for role in graph.of_type("aws:iam/role:Role") if role.outputs["name"] == name)


def within_boundary(role: RegisteredResource) -> dict[str, str]:
    return {"iam:PermissionsBoundary": role.inputs["permissionsBoundary"]}


def _role_needs(role: RegisteredResource, _: StackGraph) -> Needs:
    arn = role.outputs["arn"]
    tagging = [Need("iam:TagRole", arn), Need("iam:UntagRole", arn)]
    if not role.inputs.get("permissionsBoundary"):
        return tagging  # a GitHub role: its trust and policy are the administrator's (administrator_only)
    return [
        *tagging,
        Need("iam:CreateRole", arn, within_boundary(role)),
        Need("iam:PutRolePermissionsBoundary", arn, within_boundary(role)),
        Need("iam:UpdateAssumeRolePolicy", arn),
        Need("iam:DeleteRole", arn),
    ]


def _role_policy_needs(policy: RegisteredResource, graph: StackGraph) -> Needs:
    role = _role_named(graph, policy.inputs["role"])
    if not role.inputs.get("permissionsBoundary"):
        return []  # a GitHub role's policy: the administrator's
    return [Need(a, role.outputs["arn"], within_boundary(role)) for a in ("iam:PutRolePolicy", "iam:DeleteRolePolicy")]


def _secret_key(resource: RegisteredResource, graph: StackGraph) -> str:
    secret = next(
        s for s in graph.of_type("aws:secretsmanager/secret:Secret") if s.outputs["arn"] == resource.inputs["secretId"]
    )
    return str(secret.inputs["kmsKeyId"])


def _key_of_alias(alias: RegisteredResource, graph: StackGraph) -> RegisteredResource:
    return next(key for key in graph.of_type("aws:kms/key:Key") if key.outputs["keyId"] == alias.inputs["targetKeyId"])


def _pipeline_passes(resource: RegisteredResource, graph: StackGraph) -> Needs:
    passed = [Need("iam:PassRole", str(resource.inputs["roleArn"]), {f"iam:{PASSED_TO}": "codepipeline.amazonaws.com"})]
    created = {c.outputs["arn"]: c for c in graph.of_type("aws:codestarconnections/connection:Connection")}
    for stage in resource.inputs["stages"]:
        for action in stage["actions"]:
            if "ConnectionArn" in (action.get("configuration") or {}):
                arn = action["configuration"]["ConnectionArn"]
                service = arn.split(":")[2]
                tags = tags_of(created[arn], graph) if arn in created else {}
                context = {f"{service}:{PASSED_TO}": "codepipeline.amazonaws.com", **tags}
                passed.append(Need(f"{service}:PassConnection", arn, context))
    return passed


def _with_tags(*names: str) -> NeedsFor:
    """`names` on the resource itself, a key or connection the stack's tags bring into reach."""
    return lambda r, g: [Need(a, r.outputs["arn"], tags_of(r, g)) for a in names]


# type -> (what `pulumi up` from CI does to it, what a preview with --refresh reads of it). What only
# the administrator's `pulumi up` may do (create the key, change the boundary, ...) is ADMINISTRATOR_ONLY.
NEEDS: dict[str, tuple[NeedsFor, NeedsFor]] = {
    "aws:iam/role:Role": (_role_needs, lambda r, g: [Need("iam:GetRole", r.outputs["arn"])]),
    "aws:iam/rolePolicy:RolePolicy": (
        _role_policy_needs,
        lambda r, g: [Need("iam:GetRolePolicy", _role_arn(r.inputs["role"]))],
    ),
    "aws:iam/policy:Policy": (
        lambda r, g: [Need(a, r.outputs["arn"]) for a in ("iam:TagPolicy", "iam:UntagPolicy")],
        lambda r, g: [Need(a, r.outputs["arn"]) for a in ("iam:GetPolicy", "iam:GetPolicyVersion")],
    ),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (
        lambda r, g: [
            Need(a, r.outputs["arn"]) for a in ("iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider")
        ],
        lambda r, g: [Need("iam:GetOpenIDConnectProvider", r.outputs["arn"])],
    ),
    "aws:kms/key:Key": (
        lambda r, g: (
            _with_tags("kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:ScheduleKeyDeletion")(r, g)
            + [Need(a, r.outputs["arn"], retagged(r, g, EXTRA_TAG)) for a in ("kms:TagResource", "kms:UntagResource")]
        ),
        _with_tags("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus"),
    ),
    "aws:kms/alias:Alias": (
        lambda r, g: [
            Need("kms:CreateAlias", r.outputs["arn"]),
            Need("kms:DeleteAlias", r.outputs["arn"]),
            Need("kms:CreateAlias", _key_of_alias(r, g).outputs["arn"], tags_of(_key_of_alias(r, g), g)),
        ],
        lambda r, g: [Need("kms:ListAliases", "*")],
    ),
    "aws:s3/bucket:Bucket": (
        lambda r, g: (
            [Need(a, r.outputs["arn"]) for a in ("s3:CreateBucket", "s3:PutBucketTagging", "s3:DeleteBucket")]
            + [Need(a, r.outputs["arn"] + "/some/artifact") for a in ("s3:DeleteObject", "s3:DeleteObjectVersion")]
        ),
        lambda r, g: [Need(a, r.outputs["arn"]) for a in ("s3:ListBucket", "s3:GetBucketTagging", "s3:GetBucketAcl")],
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_setting(
        "s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _bucket_setting(
        "s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": _bucket_setting("s3:PutBucketVersioning", "s3:GetBucketVersioning"),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _bucket_setting(
        "s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _bucket_setting(
        "s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"
    ),
    "aws:s3/bucketPolicy:BucketPolicy": _bucket_setting("s3:PutBucketPolicy", "s3:GetBucketPolicy"),
    "aws:cloudwatch/logGroup:LogGroup": (
        lambda r, g: (
            [Need("logs:DescribeLogGroups", "*")]
            + [
                Need(a, r.outputs["arn"] + suffix)
                for a in (
                    "logs:CreateLogGroup",
                    "logs:PutRetentionPolicy",
                    "logs:AssociateKmsKey",
                    "logs:DeleteLogGroup",
                )
                for suffix in ("", ":*")
            ]
        ),
        lambda r, g: [Need("logs:DescribeLogGroups", "*"), Need("logs:ListTagsForResource", r.outputs["arn"])],
    ),
    "aws:codebuild/project:Project": (
        lambda r, g: (
            [Need(a, r.outputs["arn"]) for a in ("codebuild:CreateProject", "codebuild:UpdateProject")]
            + [Need("codebuild:DeleteProject", r.outputs["arn"])]
            + [Need("iam:PassRole", str(r.inputs["serviceRole"]), {f"iam:{PASSED_TO}": "codebuild.amazonaws.com"})]
        ),
        lambda r, g: [Need("codebuild:BatchGetProjects", r.outputs["arn"])],
    ),
    "aws:codepipeline/pipeline:Pipeline": (
        lambda r, g: (
            [Need(a, r.outputs["arn"]) for a in ("codepipeline:CreatePipeline", "codepipeline:UpdatePipeline")]
            + [Need("codepipeline:DeletePipeline", r.outputs["arn"])]
            + _pipeline_passes(r, g)
        ),
        lambda r, g: [
            Need(a, r.outputs["arn"]) for a in ("codepipeline:GetPipeline", "codepipeline:ListTagsForResource")
        ],
    ),
    "aws:codestarconnections/connection:Connection": (
        lambda r, g: [
            *_with_tags("codestar-connections:DeleteConnection")(r, g),
            Need("codestar-connections:TagResource", r.outputs["arn"], retagged(r, g, EXTRA_TAG)),
        ],
        _with_tags("codestar-connections:GetConnection"),
    ),
    "aws:sns/topic:Topic": (
        lambda r, g: [
            Need(a, r.outputs["arn"]) for a in ("sns:CreateTopic", "sns:SetTopicAttributes", "sns:DeleteTopic")
        ],
        lambda r, g: [Need("sns:GetTopicAttributes", r.outputs["arn"])],
    ),
    "aws:sns/topicSubscription:TopicSubscription": (
        lambda r, g: [Need("sns:Subscribe", r.inputs["topic"]), Need("sns:Unsubscribe", "*")],
        lambda r, g: [
            Need("sns:GetSubscriptionAttributes", "*"),
            Need("sns:ListSubscriptionsByTopic", r.inputs["topic"]),
        ],
    ),
    "aws:sns/topicPolicy:TopicPolicy": (
        lambda r, g: [Need("sns:SetTopicAttributes", r.inputs["arn"])],
        lambda r, g: [Need("sns:GetTopicAttributes", r.inputs["arn"])],
    ),
    "aws:cloudwatch/eventRule:EventRule": (
        lambda r, g: [Need(a, r.outputs["arn"]) for a in ("events:PutRule", "events:TagResource", "events:DeleteRule")],
        lambda r, g: [Need("events:DescribeRule", r.outputs["arn"])],
    ),
    "aws:cloudwatch/eventTarget:EventTarget": (
        lambda r, g: [
            Need(a, _regional("events", f"rule/{r.inputs['rule']}"))
            for a in ("events:PutTargets", "events:RemoveTargets")
        ],
        lambda r, g: [Need("events:ListTargetsByRule", _regional("events", f"rule/{r.inputs['rule']}"))],
    ),
    "aws:secretsmanager/secret:Secret": (
        lambda r, g: [
            Need(a, r.outputs["arn"]) for a in ("secretsmanager:CreateSecret", "secretsmanager:DeleteSecret")
        ],
        lambda r, g: [Need("secretsmanager:DescribeSecret", r.outputs["arn"])],
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": (
        lambda r, g: (
            [Need(a, r.inputs["secretId"]) for a in ("secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue")]
            + [
                Need(a, _secret_key(r, g), {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"})
                for a in ("kms:GenerateDataKey", "kms:Decrypt")
            ]
        ),
        lambda r, g: [Need("secretsmanager:ListSecretVersionIds", r.inputs["secretId"])],
    ),
}


def unmet(document: Document, graph: StackGraph, needs: int) -> list[str]:
    """Every (resource, action, ARN) the document does not allow; `needs` 0 is up, 1 is preview."""
    missing = []
    for resource in graph.custom():
        if resource.type not in NEEDS:
            missing.append(f"{resource.type} {resource.name}: no entry in NEEDS; extend it and pipeline/github.py")
            continue
        for need in NEEDS[resource.type][needs](resource, graph):
            if not allows(document, *need):
                missing.append(f"{resource.type} {resource.name}: {need.action} on {need.resource} {need.context}")
    return missing


ADMINISTRATOR_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def administrator_only(graph: StackGraph, stack: str) -> dict[str, Need]:
    """What CI's deploy role must never be able to do; each is the administrator's `pulumi up` (README, CI)."""
    roles = graph.of_type("aws:iam/role:Role")
    service_role = next(role for role in roles if role.inputs.get("permissionsBoundary"))
    service_arn = service_role.outputs["arn"]
    boundary = graph.one("aws:iam/policy:Policy").outputs["arn"]
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
    assert not allows(permissions(graph, "deploy"), "iam:DeleteOpenIDConnectProvider", EXISTING_PROVIDER)


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


@pytest.mark.parametrize("variant", [*STACKS, *SOURCE_VARIANTS])
def test_the_deploy_role_can_manage_every_resource_the_stack_registers(variant: str) -> None:
    graph = variant_graph(variant)
    assert unmet(permissions(graph, "deploy"), graph, needs=0) == []


@pytest.mark.parametrize("variant", [*STACKS, *SOURCE_VARIANTS])
def test_the_preview_role_can_read_every_resource_the_stack_registers(variant: str) -> None:
    graph = variant_graph(variant)
    assert unmet(permissions(graph, "preview"), graph, needs=1) == []


@pytest.mark.parametrize("stack", STACKS)
def test_the_deploy_role_cannot_do_what_is_left_to_the_administrator(stack: str) -> None:
    graph = every_option(stack)
    deploy = permissions(graph, "deploy")
    forbidden = administrator_only(graph, stack)
    assert [name for name, need in forbidden.items() if allows(deploy, *need)] == []
    # Not vacuous: each forbidden change has a permitted twin, within the stack's own reach.
    key, role = graph.one("aws:kms/key:Key"), graph.one("aws:iam/role:Role", "-build-role")
    assert allows(deploy, "kms:TagResource", key.outputs["arn"], retagged(key, graph, EXTRA_TAG))
    assert allows(deploy, "iam:PutRolePolicy", role.outputs["arn"], within_boundary(role))


def test_what_is_not_granted_is_not_granted_for_a_documented_reason() -> None:
    granted = {a for s in permissions(every_option("dev"), "deploy")["Statement"] for a in actions(s)}
    for action, page in NOT_GRANTED_CREATES.items():
        assert action not in granted
        assert page.startswith("https://docs.aws.amazon.com/service-authorization/latest/reference/list_")
    assert {need.action for need in administrator_only(every_option("dev"), "dev").values()} >= set(NOT_GRANTED_CREATES)


def test_every_resource_type_in_needs_is_still_registered() -> None:
    """An entry no stack registers any more is dead weight that hides a renamed type."""
    registered = {r.type for stack in STACKS for r in every_option(stack).custom()}
    assert set(NEEDS) == registered


def test_connection_grants_follow_the_source_config() -> None:
    given = permissions(variant_graph("dev-existing-connection"), "deploy")
    to_pipeline = {f"codeconnections:{PASSED_TO}": "codepipeline.amazonaws.com"}
    assert allows(given, "codeconnections:PassConnection", EXISTING_CONNECTION, to_pipeline)
    assert not allows(given, "codeconnections:PassConnection", EXISTING_CONNECTION, {})
    other = _regional("codestar-connections", "connection/0a1b2c3d-0000-0000-0000-0a1b2c3d4e5f")
    to_pipeline = {f"codestar-connections:{PASSED_TO}": "codepipeline.amazonaws.com"}
    assert not allows(given, "codestar-connections:PassConnection", other, to_pipeline)
    assert not allows(given, "codestar-connections:CreateConnection", "*")
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
    graph = every_option(stack)
    preview = permissions(graph, "preview")
    secret = graph.one("aws:secretsmanager/secret:Secret").outputs["arn"]
    bucket = graph.one("aws:s3/bucket:Bucket").outputs["arn"]
    assert not allows(preview, "secretsmanager:GetSecretValue", secret)
    assert not allows(preview, "s3:GetObject", f"{bucket}/source/build.zip")
    assert allows(permissions(graph, "deploy"), "secretsmanager:GetSecretValue", secret)


def test_a_stacks_roles_cannot_touch_another_stacks_named_resources() -> None:
    dev_deploy = permissions(github_graph("dev"), "deploy")
    prod = github_graph("prod")
    # Keys and connections, named by random ids, are told apart by their Environment tag.
    reached = [
        f"{resource.name}: {need.action} on {need.resource}"
        for resource in prod.custom()
        for need in NEEDS[resource.type][0](resource, prod)
        if need.resource != "*" and allows(dev_deploy, *need)
    ]
    # The one exception is the account's single OIDC provider, which whichever stack created it owns.
    assert reached == [
        f"cicd-prod-github-actions-oidc: {action} on arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{GITHUB_OIDC_HOST}"
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
        a: s for s in statements for a in actions(s) if a in ("iam:PassRole", "codestar-connections:PassConnection")
    }
    assert passing["iam:PassRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": ["codebuild.amazonaws.com", "codepipeline.amazonaws.com"]}
    }
    # The stack's own connection, told from others by its tags.
    assert passing["codestar-connections:PassConnection"]["Condition"] == {
        "StringEquals": {
            "codestar-connections:PassedToService": "codepipeline.amazonaws.com",
            "aws:ResourceTag/Project": "cicd-pipeline",
            "aws:ResourceTag/Environment": "dev",
        }
    }
    assert all(len(actions(s)) == 1 for s in passing.values())


def test_secrets_are_encrypted_only_through_secrets_manager_with_the_pipeline_key() -> None:
    graph = every_option("dev")
    (statement,) = [s for s in permissions(graph, "deploy")["Statement"] if "kms:Decrypt" in actions(s)]
    assert resources(statement) == [graph.one("aws:kms/key:Key").outputs["arn"]]
    assert statement["Condition"] == {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}


def test_a_self_managed_state_bucket_is_writable_by_up_and_readable_by_previews() -> None:
    graph = every_option("dev")
    deploy, preview = permissions(graph, "deploy"), permissions(graph, "preview")
    bucket, checkpoint = f"arn:aws:s3:::{STATE_BUCKET}", f"arn:aws:s3:::{STATE_BUCKET}/.pulumi/stacks/dev.json"
    assert all(allows(deploy, a, checkpoint) for a in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"))
    assert allows(preview, "s3:GetObject", checkpoint)
    assert allows(preview, "s3:ListBucket", bucket)
    assert not any(allows(preview, a, checkpoint) for a in ("s3:PutObject", "s3:DeleteObject"))
    without = permissions(github_graph("dev"), "deploy")
    assert not allows(without, "s3:GetObject", checkpoint)


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
