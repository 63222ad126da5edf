"""The bootstrap (bootstrap/), evaluated under mocks for its two shipped stacks.

dev bootstraps the account its pipeline runs in; prod bootstraps a production account
(210987654321) for the pipeline in the tooling account 123456789012, so its mocks answer as that
account. Each test reads what the program registered: names other stacks rely on, trust, the deploy
boundary, the state bucket's controls, the outputs, and refusals of bad config.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import parliament
import pulumi
import pytest

from harness.capture import ProgramFailedError, RegisteredResource, StackGraph, evaluate
from harness.fake_aws import ACCOUNT_ID, FakeAws
from harness.graph_checks import on_default_provider
from harness.stack_config import BOOTSTRAP_DIR, PROJECT_DIR, project_file, project_name, qualify, stack_config
from tests.support import policy, statements_by_sid

REGION = "eu-west-1"
PIPELINE_ACCOUNT = ACCOUNT_ID  # where the pipelines run (both shipped stacks)
PROD_ACCOUNT = "210987654321"  # the account prod bootstraps, as the root Pulumi.prod.yaml names it
TARGET_ACCOUNT = {"dev": ACCOUNT_ID, "prod": PROD_ACCOUNT}

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
MANAGED_POLICY = "aws:iam/policy:Policy"
BUCKET = "aws:s3/bucket:Bucket"

EXPORTS = {
    "previewRoleArn",
    "deployRoleArn",
    "backendUrl",
    "secretsProvider",
    "stateBucket",
    "secretsKeyArn",
    "deployBoundaryArn",
}


def bootstrap(stack: str, overrides: dict[str, Any] | None = None) -> StackGraph:
    """The bootstrap program for `stack`, with AWS answering as the account that stack bootstraps."""
    mocks = FakeAws(region=REGION, account_id=TARGET_ACCOUNT[stack])
    return evaluate(stack, overrides, mocks=mocks, project_dir=BOOTSTRAP_DIR)


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> str:
    stack: str = request.param
    return stack


@pytest.fixture(scope="module")
def graph(stack: str) -> StackGraph:
    return bootstrap(stack)


def role(graph: StackGraph, kind: str) -> RegisteredResource:
    return graph.one(ROLE, f"cicd-bootstrap-{kind}-")


def inline_policy(graph: StackGraph, name: str) -> dict[str, Any]:
    return policy(graph.one(ROLE_POLICY, name).inputs["policy"])


def boundary_statements(graph: StackGraph) -> dict[str, dict[str, Any]]:
    return statements_by_sid(policy(graph.one(MANAGED_POLICY).inputs["policy"]))


def arn_like(pattern: str, value: str) -> bool:
    """IAM's ArnLike for one value: `*` any run of characters, `?` exactly one, case-sensitive.

    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
    """
    return fnmatchcase(value, pattern)


def actions_of(statement: dict[str, Any]) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


# --- names other stacks rely on ---------------------------------------------------------------------


def test_fixed_names(graph: StackGraph, stack: str) -> None:
    account = TARGET_ACCOUNT[stack]
    assert role(graph, "preview").inputs["name"] == f"cicd-bootstrap-preview-{REGION}"
    assert role(graph, "deploy").inputs["name"] == f"cicd-bootstrap-deploy-{REGION}"
    assert graph.one(BUCKET).inputs["bucket"] == f"cicd-state-{account}-{REGION}"
    assert graph.one("aws:kms/alias:Alias").inputs["name"] == "alias/cicd-state"
    assert graph.one(MANAGED_POLICY).inputs["name"] == f"cicd-bootstrap-deploy-boundary-{REGION}"


def test_components_and_their_children(graph: StackGraph) -> None:
    components = {r.type: r for r in graph.components()}
    state, identity = components["cicd:bootstrap:StateBackend"], components["cicd:bootstrap:DeployIdentity"]
    assert {r.type for r in graph.custom() if r.parent == state.urn} >= {BUCKET, "aws:kms/key:Key"}
    assert {r.type for r in graph.custom() if r.parent == identity.urn} == {
        ROLE,
        ROLE_POLICY,
        ATTACHMENT,
        MANAGED_POLICY,
    }


# --- trust ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "step_role"), [("preview", "build-role"), ("deploy", "deploy-role")])
def test_each_role_trusts_only_the_pipeline_accounts_matching_step_role(
    graph: StackGraph, kind: str, step_role: str
) -> None:
    (trust,) = policy(role(graph, kind).inputs["assumeRolePolicy"])["Statement"]
    assert trust["Effect"] == "Allow"
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Principal"] == {"AWS": f"arn:aws:iam::{PIPELINE_ACCOUNT}:root"}
    assert trust["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{PIPELINE_ACCOUNT}:role/cicd-*-{step_role}-???????"}
    }
    # Not sent on a role-to-role AssumeRole, so a condition on it would refuse the pipeline itself.
    assert "aws:SourceAccount" not in json.dumps(trust)


def test_prod_is_bootstrapped_for_a_pipeline_in_another_account() -> None:
    prod = bootstrap("prod")
    assert prod.exports["deployRoleArn"].startswith(f"arn:aws:iam::{PROD_ACCOUNT}:role/")
    (trust,) = policy(role(prod, "deploy").inputs["assumeRolePolicy"])["Statement"]
    assert PIPELINE_ACCOUNT in trust["Principal"]["AWS"]
    assert PROD_ACCOUNT not in json.dumps(trust)


def test_trust_patterns_match_the_roles_the_pipeline_program_creates(dev_graph: StackGraph, graph: StackGraph) -> None:
    """The pattern against the CodeBuild role names the real pipeline program registers (dev stack)."""
    pipeline_roles = {
        r.name: f"arn:aws:iam::{PIPELINE_ACCOUNT}:role/{r.outputs['name']}" for r in dev_graph.of_type(ROLE)
    }
    build = next(arn for name, arn in pipeline_roles.items() if name.endswith("-build-role"))
    deploy = next(arn for name, arn in pipeline_roles.items() if name.endswith("-deploy-role"))
    preview_pattern, deploy_pattern = (
        policy(role(graph, kind).inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["ArnLike"]["aws:PrincipalArn"]
        for kind in ("preview", "deploy")
    )
    assert arn_like(preview_pattern, build)
    assert not arn_like(preview_pattern, deploy)
    assert arn_like(deploy_pattern, deploy)
    assert not arn_like(deploy_pattern, build)
    others = [arn for arn in pipeline_roles.values() if arn not in (build, deploy)]
    assert not [arn for arn in others if arn_like(preview_pattern, arn) or arn_like(deploy_pattern, arn)]
    # The Build step of an environment named `x-deploy-role` still cannot assume the deploy role.
    tricky_build = f"arn:aws:iam::{PIPELINE_ACCOUNT}:role/cicd-x-deploy-role-build-role-1a2b3c4"
    assert arn_like(preview_pattern, tricky_build)
    assert not arn_like(deploy_pattern, tricky_build)


def test_the_trust_pattern_is_importable_for_the_pipeline_side() -> None:
    from pipeline.deploy_identity import PIPELINE_ROLE_NAMES, trusted_pipeline_roles

    assert trusted_pipeline_roles.__doc__
    assert "cicd-<env>-build-role" in trusted_pipeline_roles.__doc__
    assert PIPELINE_ROLE_NAMES == {"preview": "cicd-*-build-role-???????", "deploy": "cicd-*-deploy-role-???????"}


# --- the deploy boundary ----------------------------------------------------------------------------


def test_deploy_role_carries_the_boundary_and_preview_role_none(graph: StackGraph) -> None:
    boundary = graph.one(MANAGED_POLICY)
    deploy = role(graph, "deploy")
    assert deploy.inputs["permissionsBoundary"] == boundary.outputs["arn"]
    assert deploy.depends_on("permissionsBoundary", boundary)
    assert not role(graph, "preview").inputs.get("permissionsBoundary")


def test_boundary_allows_everything_but_the_ways_out(graph: StackGraph, stack: str) -> None:
    statements = boundary_statements(graph)
    boundary_arn = graph.one(MANAGED_POLICY).outputs["arn"]
    assert statements["AllowEverythingElse"] == {
        "Sid": "AllowEverythingElse", "Effect": "Allow", "Action": ["*"], "Resource": ["*"]
    }  # fmt: skip

    create = statements["DenyRolesAndUsersWithoutThisBoundary"]
    assert create["Effect"] == "Deny"
    assert {"iam:CreateRole", "iam:CreateUser", "iam:PutRolePermissionsBoundary"} <= actions_of(create)
    assert {"iam:PutRolePolicy", "iam:AttachRolePolicy"} <= actions_of(create)
    # Its own ARN, built from the fixed name, is the ARN IAM gives the policy.
    assert create["Condition"] == {"ArnNotEquals": {"iam:PermissionsBoundary": boundary_arn}}

    remove = statements["DenyRemovingAnyBoundary"]
    assert remove["Effect"] == "Deny"
    assert "Condition" not in remove
    assert actions_of(remove) == {"iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"}

    # An existing user without the boundary must not become the job's way out: its keys, login or groups.
    users = statements["DenyActingAsUsersOrThroughGroups"]
    assert users["Effect"] == "Deny"
    assert "Condition" not in users
    assert users["Resource"] == ["*"]
    assert {"iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"} <= actions_of(users)
    assert {"iam:AddUserToGroup", "iam:PutGroupPolicy", "iam:AttachGroupPolicy"} <= actions_of(users)

    edit = statements["DenyChangingTheBoundaries"]
    assert edit["Effect"] == "Deny"
    assert actions_of(edit) == {
        "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"
    }  # fmt: skip
    assert any(arn_like(resource, boundary_arn) for resource in edit["Resource"])

    roles = statements["DenyChangingTheBootstrapRoles"]
    assert roles["Effect"] == "Deny"
    assert {"iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRole"} <= actions_of(
        roles
    )
    for kind in ("preview", "deploy"):
        assert any(arn_like(resource, role(graph, kind).outputs["arn"]) for resource in roles["Resource"])


def test_boundary_keeps_the_deploy_role_off_the_state_bucket_and_key(graph: StackGraph) -> None:
    statements = boundary_statements(graph)
    bucket, key = graph.one(BUCKET), graph.one("aws:kms/key:Key")
    weaken = statements["DenyWeakeningTheStateBucket"]
    assert weaken["Effect"] == "Deny"
    assert weaken["Resource"] == [bucket.outputs["arn"]]
    assert {"s3:PutBucketPolicy", "s3:DeleteBucket", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration"} <= (
        actions_of(weaken)
    )
    history = statements["DenyDeletingStateHistory"]
    assert history["Resource"] == [bucket.outputs["arn"] + "/*"]
    assert actions_of(history) == {"s3:DeleteObjectVersion"}
    secrets_key = statements["DenyChangingTheSecretsKey"]
    assert secrets_key["Resource"] == [key.outputs["arn"]]
    assert {"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey"} <= actions_of(secrets_key)
    alias = statements["DenyMovingTheSecretsKeyAlias"]
    assert alias["Resource"] == [graph.one("aws:kms/alias:Alias").outputs["arn"]]


def _iam_actions_with_the_boundary_key() -> set[str]:
    """Every IAM action the Service Authorization Reference lists with iam:PermissionsBoundary."""
    iam = next(service for service in parliament.iam_definition if service["prefix"] == "iam")
    return {
        f"iam:{privilege['privilege']}"
        for privilege in iam["privileges"]
        if any("iam:PermissionsBoundary" in r["condition_keys"] for r in privilege["resource_types"])
    }


def test_boundary_condition_covers_every_action_that_takes_the_key(graph: StackGraph) -> None:
    """Each action the conditional deny names takes iam:PermissionsBoundary (else the condition never
    matches), and each action that takes it is either there or denied outright."""
    statements = boundary_statements(graph)
    conditional = actions_of(statements["DenyRolesAndUsersWithoutThisBoundary"])
    outright = actions_of(statements["DenyRemovingAnyBoundary"])
    supported = _iam_actions_with_the_boundary_key()
    assert conditional <= supported
    assert supported == conditional | outright


# --- the roles' own policies ------------------------------------------------------------------------


def test_preview_role_reads_state_and_decrypts_only(graph: StackGraph) -> None:
    bucket_arn, key_arn = graph.one(BUCKET).outputs["arn"], graph.one("aws:kms/key:Key").outputs["arn"]
    statements = statements_by_sid(inline_policy(graph, "cicd-bootstrap-preview-eu-west-1-state"))
    assert statements["ListState"]["Action"] == ["s3:ListBucket"]
    assert statements["ListState"]["Resource"] == [bucket_arn]
    assert statements["ReadState"]["Action"] == ["s3:GetObject"]
    assert statements["ReadState"]["Resource"] == [f"{bucket_arn}/*"]
    assert statements["DecryptStateAndSecrets"]["Action"] == ["kms:Decrypt"]
    assert statements["DecryptStateAndSecrets"]["Resource"] == [key_arn]
    # pulumi preview on an S3 backend takes no lock: nothing to write.
    written = {a for s in statements.values() for a in s["Action"] if a.split(":")[1].startswith(("Put", "Delete"))}
    assert written == set()


def test_deploy_role_reads_and_writes_state_and_uses_the_key(graph: StackGraph) -> None:
    bucket_arn, key_arn = graph.one(BUCKET).outputs["arn"], graph.one("aws:kms/key:Key").outputs["arn"]
    statements = statements_by_sid(inline_policy(graph, "cicd-bootstrap-deploy-eu-west-1-state"))
    assert statements["ReadAndWriteState"]["Action"] == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert statements["ReadAndWriteState"]["Resource"] == [f"{bucket_arn}/*"]
    assert statements["EncryptStateAndSecrets"]["Action"] == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    assert statements["EncryptStateAndSecrets"]["Resource"] == [key_arn]


def test_default_managed_policies(graph: StackGraph) -> None:
    attached = {(a.name.split("-eu-west-1-")[0], a.inputs["policyArn"]) for a in graph.of_type(ATTACHMENT)}
    assert attached == {
        ("cicd-bootstrap-preview", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        ("cicd-bootstrap-deploy", "arn:aws:iam::aws:policy/AdministratorAccess"),
    }
    for attachment in graph.of_type(ATTACHMENT):
        owner = role(graph, "preview" if "-preview-" in attachment.name else "deploy")
        assert attachment.depends_on("role", owner)


def test_configured_deploy_permissions() -> None:
    statement = {"Sid": "Queues", "Effect": "Allow", "Action": ["sqs:*"], "Resource": "arn:aws:sqs:*:*:svc-*"}
    graph = bootstrap(
        "dev",
        {
            "deployPolicyArns": ["arn:aws:iam::aws:policy/PowerUserAccess", f"arn:aws:iam::{ACCOUNT_ID}:policy/svc"],
            "deployStatements": [statement],
        },
    )
    deploy_policies = {a.inputs["policyArn"] for a in graph.of_type(ATTACHMENT) if "-deploy-" in a.name}
    assert deploy_policies == {"arn:aws:iam::aws:policy/PowerUserAccess", f"arn:aws:iam::{ACCOUNT_ID}:policy/svc"}
    assert inline_policy(graph, "cicd-bootstrap-deploy-eu-west-1-statements")["Statement"] == [statement]


# --- the state bucket -------------------------------------------------------------------------------


def _on_bucket(graph: StackGraph, token: str) -> list[RegisteredResource]:
    bucket = graph.one(BUCKET)
    return [r for r in graph.of_type(token) if r.depends_on("bucket", bucket)]


def test_state_bucket_controls(graph: StackGraph) -> None:
    bucket, key = graph.one(BUCKET), graph.one("aws:kms/key:Key")
    assert not bucket.inputs.get("forceDestroy")
    (versioning,) = _on_bucket(graph, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    (encryption,) = _on_bucket(
        graph, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    (rule,) = encryption.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key.outputs["arn"],
    }
    assert rule["bucketKeyEnabled"] is True
    (public_access,) = _on_bucket(graph, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert all(public_access.inputs[flag] is True for flag in flags)
    (ownership,) = _on_bucket(graph, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"


def test_state_bucket_is_tls_only(graph: StackGraph) -> None:
    bucket = graph.one(BUCKET)
    (bucket_policy,) = _on_bucket(graph, "aws:s3/bucketPolicy:BucketPolicy")
    (deny,) = policy(bucket_policy.inputs["policy"])["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == "*"
    assert deny["Action"] == "s3:*"
    assert deny["Resource"] == [bucket.outputs["arn"], bucket.outputs["arn"] + "/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_state_never_expires(graph: StackGraph) -> None:
    assert graph.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration") == []
    assert "lifecycleRules" not in graph.one(BUCKET).inputs


def test_state_bucket_and_key_are_protected(graph: StackGraph) -> None:
    assert graph.one(BUCKET).protect
    assert graph.one("aws:kms/key:Key").protect


def test_secrets_key(graph: StackGraph) -> None:
    key, alias = graph.one("aws:kms/key:Key"), graph.one("aws:kms/alias:Alias")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert alias.inputs["targetKeyId"] == key.outputs["keyId"]
    assert alias.depends_on("targetKeyId", key)
    (root,) = policy(key.inputs["policy"])["Statement"]
    assert root["Principal"] == {"AWS": f"arn:aws:iam::{graph.exports['secretsKeyArn'].split(':')[4]}:root"}


# --- outputs ----------------------------------------------------------------------------------------


def test_outputs(graph: StackGraph, stack: str) -> None:
    exports = graph.exports
    assert set(exports) == EXPORTS
    account = TARGET_ACCOUNT[stack]
    assert exports["stateBucket"] == f"cicd-state-{account}-{REGION}"
    assert exports["backendUrl"] == f"s3://cicd-state-{account}-{REGION}"
    assert exports["secretsProvider"] == f"awskms://alias/cicd-state?region={REGION}"
    assert exports["previewRoleArn"] == f"arn:aws:iam::{account}:role/cicd-bootstrap-preview-{REGION}"
    assert exports["deployRoleArn"] == f"arn:aws:iam::{account}:role/cicd-bootstrap-deploy-{REGION}"
    assert exports["deployBoundaryArn"] == f"arn:aws:iam::{account}:policy/cicd-bootstrap-deploy-boundary-{REGION}"
    assert exports["secretsKeyArn"] == graph.one("aws:kms/key:Key").outputs["arn"]


def test_the_pipeline_stack_files_name_the_bootstrap_outputs() -> None:
    """The root stack files point at what these two bootstraps export (dev in its own account)."""
    for stack in ("dev", "prod"):
        pipeline = stack_config(stack)
        exports = bootstrap(stack).exports
        for key in ("previewRoleArn", "deployRoleArn", "backendUrl"):
            assert pipeline[qualify(key)] == exports[key], (stack, key)


# --- provider ---------------------------------------------------------------------------------------


def test_every_resource_is_on_the_explicit_provider(graph: StackGraph, stack: str) -> None:
    assert list(graph.custom())
    assert on_default_provider(graph) == []
    (provider,) = graph.of_type("pulumi:providers:aws")
    assert {r.provider.rsplit("::", 1)[0] for r in graph.custom()} == {provider.urn}
    assert provider.inputs["region"] == REGION
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    assert tags == {"Project": "cicd-bootstrap", "ManagedBy": "pulumi", "Stack": stack}


def test_default_provider_check_catches_a_stray_resource() -> None:
    import pulumi_aws as aws

    stray = evaluate("dev", program=lambda: aws.s3.Bucket("stray"), project_dir=BOOTSTRAP_DIR)
    assert on_default_provider(stray) == [stray.one(BUCKET).urn]


# --- config -----------------------------------------------------------------------------------------


def test_project_file_declares_each_key_typed_described_and_defaulted() -> None:
    project = project_file(BOOTSTRAP_DIR)
    assert project["name"] == "cicd-bootstrap"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == "../venv"
    for key, spec in project["config"].items():
        assert {"type", "description", "default"} <= set(spec), key
    from bootstrap.settings import _KEYS

    # deployStatements is read but left undeclared (a list of objects has no project config type).
    assert set(project["config"]) == set(_KEYS) - {"aws:region", "deployStatements"}


@pytest.mark.parametrize(
    ("overrides", "key", "value", "allowed", "command"),
    [
        ({"pipelineAccountId": "12345"}, "cicd-bootstrap:pipelineAccountId", "'12345'", "12-digit",
         "`pulumi config set cicd-bootstrap:pipelineAccountId <value>`"),
        ({"aws:region": None}, "aws:region", "<unset>", "an AWS region",
         "`pulumi config set aws:region <value>`"),
        ({"aws:region": "Ireland"}, "aws:region", "'Ireland'", "an AWS region",
         "`pulumi config set aws:region <value>`"),
        ({"deployPolicyArns": [f"arn:aws:iam::{ACCOUNT_ID}:policy/ok", "AdministratorAccess"]},
         "cicd-bootstrap:deployPolicyArns[1]", "'AdministratorAccess'", "managed policy ARN",
         "`pulumi config set --path 'cicd-bootstrap:deployPolicyArns[1]' <value>`"),
        ({"deployPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"] * 2},
         "cicd-bootstrap:deployPolicyArns", '["arn:aws:iam::aws:policy/ReadOnlyAccess"', "may appear once",
         "`pulumi config set --path 'cicd-bootstrap:deployPolicyArns[0]' <value>`"),
        ({"deployPolicyArns": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
         "cicd-bootstrap:deployPolicyArns", "'arn:aws:iam::aws:policy/ReadOnlyAccess'", "JSON list",
         "`pulumi config set --path 'cicd-bootstrap:deployPolicyArns[0]' <value>`"),
        ({"previewPolicyArns": ["arn:aws:s3:::my-bucket"]},
         "cicd-bootstrap:previewPolicyArns[0]", "'arn:aws:s3:::my-bucket'", "managed policy ARN",
         "`pulumi config set --path 'cicd-bootstrap:previewPolicyArns[0]' <value>`"),
        ({"deployStatements": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}},
         "cicd-bootstrap:deployStatements", '{"Effect":"Allow"', "expected a list",
         "`pulumi config set --path 'cicd-bootstrap:deployStatements[0]' <value>`"),
        ({"deployStatements": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"}]},
         "cicd-bootstrap:deployStatements[0].Principal", "'*'", "no Principal",
         "`pulumi config rm --path 'cicd-bootstrap:deployStatements[0].Principal'`"),
        ({"deployStatements": [{"Effect": "Permit", "Action": "s3:*", "Resource": "*"}]},
         "cicd-bootstrap:deployStatements[0].Effect", "'Permit'", "expected 'Allow' or 'Deny'",
         "`pulumi config set --path 'cicd-bootstrap:deployStatements[0].Effect' <value>`"),
        ({"deployStatements": [{"Action": "s3:*", "Resource": "*"}]},
         "cicd-bootstrap:deployStatements[0].Effect", "<unset>", "Allow or Deny",
         "`pulumi config set --path 'cicd-bootstrap:deployStatements[0].Effect' <value>`"),
        ({"deployStatements": [{"Effect": "Allow", "Resource": "*"}]},
         "cicd-bootstrap:deployStatements[0]", '{"Effect":"Allow","Resource":"*"}', "exactly one of Action and NotAction",
         "`pulumi config set --path 'cicd-bootstrap:deployStatements[0]' <value>`"),
        ({"deployStatements": [{"Effect": "Allow", "Action": "s3 GetObject", "Resource": "*"}]},
         "cicd-bootstrap:deployStatements[0].Action", "'s3 GetObject'", "an action such as s3:GetObject",
         "`pulumi config set --path 'cicd-bootstrap:deployStatements[0].Action' <value>`"),
        ({"deployStatements": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{'b' * 60}/{i}"}
                               for i in range(150)]},
         "cicd-bootstrap:deployStatements", "[", "customer-managed policy",
         "`pulumi config set --path 'cicd-bootstrap:deployStatements[0]' <value>`"),
    ],
    ids=lambda value: str(value)[:40] if not isinstance(value, dict) else None,
)  # fmt: skip
def test_bad_config_is_refused_before_any_resource(
    overrides: dict[str, Any], key: str, value: str, allowed: str, command: str
) -> None:
    with pytest.raises(ProgramFailedError) as raised:
        bootstrap("dev", overrides)
    failure = raised.value
    assert isinstance(failure.cause, pulumi.RunError), repr(failure.cause)
    message = str(failure.cause)
    assert message.startswith(f"Invalid config {key}={value}"), message
    assert allowed in message, message
    assert command in message, message
    assert failure.graph.resources == [], [r.name for r in failure.graph.resources]


# --- the harness and the program's imports ----------------------------------------------------------


def test_harness_reads_each_projects_own_name_and_config() -> None:
    assert project_name() == "cicd-pipeline"
    assert project_name(PROJECT_DIR) == "cicd-pipeline"
    assert project_name(BOOTSTRAP_DIR) == "cicd-bootstrap"
    config = stack_config("prod", {"deployPolicyArns": ["x"]}, project_dir=BOOTSTRAP_DIR)
    assert config["cicd-bootstrap:pipelineAccountId"] == PIPELINE_ACCOUNT
    assert config["cicd-bootstrap:deployPolicyArns"] == '["x"]'
    assert config["cicd-bootstrap:previewPolicyArns"] == '["arn:aws:iam::aws:policy/ReadOnlyAccess"]'
    assert not any(key.startswith("cicd-pipeline:") for key in config)
    seen: list[str] = []
    evaluate("dev", program=lambda: seen.append(pulumi.get_project()), project_dir=BOOTSTRAP_DIR)
    evaluate("dev", program=lambda: seen.append(pulumi.get_project()))
    assert seen == ["cicd-bootstrap", "cicd-pipeline"]


def test_program_runs_from_bootstrap_dir_with_only_that_dir_on_sys_path(tmp_path: Path) -> None:
    """As `cd bootstrap && pulumi up` runs it: the script's own directory on sys.path, not the repository.

    Without an engine it gets as far as reading its config, so a failed import would show first.
    """
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    completed = subprocess.run(
        [sys.executable, str(BOOTSTRAP_DIR / "__main__.py")],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "ModuleNotFoundError" not in completed.stderr, completed.stderr
    assert "Invalid config aws:region=<unset>" in completed.stderr, completed.stderr


def test_readme_documents_every_output() -> None:
    readme = (BOOTSTRAP_DIR / "README.md").read_text(encoding="utf-8")
    assert [name for name in sorted(EXPORTS) if f"`{name}`" not in readme] == []


def test_parliament_finds_nothing_in_the_shipped_policies(graph: StackGraph) -> None:
    """parliament's offline lint of every identity policy and the boundary (types, actions, resources)."""
    documents = [*graph.of_type(ROLE_POLICY), *graph.of_type(MANAGED_POLICY)]
    assert len(documents) == 3
    findings = {
        document.name: [
            finding.issue for finding in parliament.analyze_policy_string(document.inputs["policy"]).findings
        ]
        for document in documents
    }
    assert findings == {document.name: [] for document in documents}
