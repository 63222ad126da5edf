"""The identities a pipeline's build steps assume in a target account: a preview role and a deploy role.

Like `cdk bootstrap`'s lookup and cloudformation-execution roles, they are created once per target
account and region by an administrator (bootstrap/), not by the pipeline stack: the GitHub deploy
role that runs the pipeline stack could otherwise grant itself anything through them.

- The preview role (`pulumi preview` in the Build step) reads: its managed policies
  (ReadOnlyAccess by default), the state and the secrets key's Decrypt.
- The deploy role (`pulumi up` in the Deploy step) gets its managed policies (AdministratorAccess by
  default, as `cdk bootstrap` gives its execution role) and configured statements, read/write state
  and the secrets key, all under the deploy permissions boundary below.

Each role trusts only the pipeline account's matching CodeBuild role (`trusted_pipeline_roles`).

Every document here is a pure function of outputs, so a test or the run simulation can evaluate it
without AWS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from pipeline.iam import Statement, policy_document, statement

StepRole = Literal["preview", "deploy"]
STEP_ROLES: tuple[StepRole, ...] = ("preview", "deploy")

BOOTSTRAP_PREFIX = "cicd-bootstrap"

# The names the pipeline stack gives its CodeBuild roles: the logical names `cicd-<environment>-build-role`
# and `cicd-<environment>-deploy-role` (pipeline/build.py), or `cicd-<environment>-<service>-build-role`
# and `-deploy-role` for each service of a stack with `services` (pipeline/services.py), auto-named by
# Pulumi with a 7-character random suffix. The `*` covers the environment and the service alike. Seven
# `?` match exactly that suffix; a `*` there would let the build role of an environment (or service)
# named like `x-deploy-role` (`cicd-x-deploy-role-build-role-1a2b3c4`) match the deploy pattern.
AUTONAME_SUFFIX = "???????"
PIPELINE_ROLE_NAMES: Mapping[StepRole, str] = {
    "preview": f"cicd-*-build-role-{AUTONAME_SUFFIX}",
    "deploy": f"cicd-*-deploy-role-{AUTONAME_SUFFIX}",
}

SESSION_SECONDS = 3600

# The role actions the Service Authorization Reference lists with the iam:PermissionsBoundary condition
# key (the IAM section, checked against parliament's offline copy of it in tests/test_bootstrap.py):
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
# For CreateRole, CreateUser and Put*PermissionsBoundary the key is the boundary in the request; for
# the policy actions the boundary the role or user carries (AWS's delegation example conditions them
# this way: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).
# UpdateAssumeRolePolicy, PassRole, DeleteRole and the tagging actions take no
# such key (bootstrap/README.md: residual risks).
BOUNDARY_CHECKED_ROLE_ACTIONS = (
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
)
BOUNDARY_CHECKED_USER_ACTIONS = (
    "iam:AttachUserPolicy",
    "iam:CreateUser",
    "iam:DeleteUserPolicy",
    "iam:DetachUserPolicy",
    "iam:PutUserPermissionsBoundary",
    "iam:PutUserPolicy",
)
REMOVE_BOUNDARY_ACTIONS = ("iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary")
# Ways to act as an existing user or through a group, none of which iam:PermissionsBoundary can
# condition (the IAM page of the Service Authorization Reference above lists no such key for them):
# with AdministratorAccess they would hand the job an existing, unbounded user's access outright.
# A stack that manages users' keys, logins or groups is the administrator's to deploy.
USER_AND_GROUP_ESCAPE_ACTIONS = (
    "iam:AddUserToGroup",
    "iam:AttachGroupPolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:PutGroupPolicy",
    "iam:UpdateAccessKey",
    "iam:UpdateLoginProfile",
)
POLICY_VERSION_ACTIONS = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
)
# Everything that changes a role itself, what it may do or who may assume it.
ROLE_CHANGE_ACTIONS = (
    "iam:AttachRolePolicy",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)
# What would weaken the state bucket, or destroy its history.
STATE_BUCKET_CHANGE_ACTIONS = (
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
)
# What would lock every stack out of its state and secrets, or hand them to another key. An alias
# operation is authorized on both the alias and its key: https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html
SECRETS_KEY_CHANGE_ACTIONS = (
    "kms:CreateGrant",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
)
KEY_ALIAS_CHANGE_ACTIONS = ("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias")


def bootstrap_role_name(role: StepRole, region: str) -> str:
    """`cicd-bootstrap-preview-<region>` / `cicd-bootstrap-deploy-<region>`: fixed, so a pipeline
    stack file can name the role before the bootstrap has run."""
    return f"{BOOTSTRAP_PREFIX}-{role}-{region}"


def deploy_boundary_name(region: str) -> str:
    return f"{BOOTSTRAP_PREFIX}-deploy-boundary-{region}"


def iam_arn(partition: pulumi.Input[str], account_id: pulumi.Input[str], resource: str) -> pulumi.Output[str]:
    return pulumi.Output.concat("arn:", partition, ":iam::", account_id, ":", resource)


def trusted_pipeline_roles(
    partition: pulumi.Input[str], pipeline_account_id: pulumi.Input[str], role: StepRole
) -> pulumi.Output[str]:
    """Which pipeline roles may assume the bootstrap role `role`: an ArnLike pattern for aws:PrincipalArn.

    The pipeline stack names its CodeBuild roles `cicd-<env>-build-role-<7 chars>` (the Build step,
    `pulumi preview`) and `cicd-<env>-deploy-role-<7 chars>` (the Deploy step, `pulumi up`), with the
    service after the environment in a stack with `services` (`cicd-<env>-<service>-build-role-...`),
    so the preview role trusts `role/cicd-*-build-role-???????` and the deploy role
    `role/cicd-*-deploy-role-???????` in the pipeline account. A Build step can therefore never
    assume the deploy role. Any environment's pipeline in that account matches: one bootstrap serves
    every pipeline that deploys into this account.

    For a role session aws:PrincipalArn is the ARN of the role, not of the session, and it is in
    the request context of every signed request:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
    """
    return iam_arn(partition, pipeline_account_id, f"role/{PIPELINE_ROLE_NAMES[role]}")


def trust_policy(
    partition: pulumi.Input[str], pipeline_account_id: pulumi.Input[str], role: StepRole
) -> pulumi.Output[str]:
    """Trust the pipeline account, narrowed by aws:PrincipalArn to its matching CodeBuild role.

    Naming the account (`:root`) hands the decision to that account's IAM: its CodeBuild role must
    also be allowed sts:AssumeRole on this role. aws:SourceAccount cannot be the guard here: it is in
    the request context only when an AWS service principal makes the call, and a CodeBuild role
    calling AssumeRole is a role session, not the service
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceaccount).
    """
    return policy_document(
        [
            {
                "Sid": "TrustThePipelineStepRole",
                "Effect": "Allow",
                "Principal": {"AWS": iam_arn(partition, pipeline_account_id, "root")},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "ArnLike": {"aws:PrincipalArn": trusted_pipeline_roles(partition, pipeline_account_id, role)}
                },
            }
        ]
    )


def _state_objects(bucket_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.concat(bucket_arn, "/*")


def preview_state_statements(bucket_arn: pulumi.Input[str], key_arn: pulumi.Input[str]) -> list[Statement]:
    """What `pulumi preview` needs of the backend, as the assumed preview role: reads only.

    A preview on a self-managed backend takes no lock and writes no history or checkpoint:
    pulumi/pulumi pkg/backend/diy/backend.go `Preview` calls `apply` with DryRun and no `Lock`, and
    `apply` writes history and backups only when not DryRun (`Update`, `Refresh`, `Destroy` and
    `Import` lock). So no s3:PutObject or s3:DeleteObject on `.pulumi/locks/*`.
    s3:ListBucket makes S3 answer 404 rather than 403 for a stack file that is not there:
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (Permissions).
    kms:Decrypt both reads the SSE-KMS state objects and unwraps the stack's secrets data key
    (pipeline/state_backend.py).
    """
    return [
        statement("ListState", ["s3:ListBucket"], [bucket_arn]),
        statement("ReadState", ["s3:GetObject"], [_state_objects(bucket_arn)]),
        statement("DecryptStateAndSecrets", ["kms:Decrypt"], [key_arn]),
    ]


def deploy_state_statements(bucket_arn: pulumi.Input[str], key_arn: pulumi.Input[str]) -> list[Statement]:
    """What `pulumi up` needs of the backend, as the assumed deploy role.

    It writes the checkpoint, history and backups, and takes and releases the stack's lock file in
    `.pulumi/locks/` (Put and Delete). kms:GenerateDataKey writes SSE-KMS objects, kms:Encrypt wraps
    the secrets data key of a stack it creates, kms:Decrypt reads both back.
    """
    return [
        statement("ListState", ["s3:ListBucket"], [bucket_arn]),
        statement(
            "ReadAndWriteState", ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], [_state_objects(bucket_arn)]
        ),
        statement("EncryptStateAndSecrets", ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], [key_arn]),
    ]


def deploy_boundary_statements(
    *,
    partition: pulumi.Input[str],
    account_id: pulumi.Input[str],
    region: str,
    state_bucket_arn: pulumi.Input[str],
    secrets_key_arn: pulumi.Input[str],
    secrets_key_alias_arn: pulumi.Input[str],
) -> list[Statement]:
    """The deploy role's permissions boundary: everything, except the ways out of the boundary.

    Modelled on `cdk bootstrap`'s example boundary (CdkBoostrapPermissionsBoundaryPolicy in
    aws-cdk-cli packages/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml, documented at
    https://docs.aws.amazon.com/cdk/v2/guide/customize-permissions-boundaries.html): allow all; deny
    creating a role or user, or setting a boundary, unless it is this boundary; deny changing this
    boundary; deny removing any boundary. Two additions: the denial also covers writing or attaching
    the policies of a role or user that does not carry this boundary (those actions take
    iam:PermissionsBoundary too), and it keeps the deploy role away from what the administrator owns
    here: the bootstrap's roles, the state bucket's protections and the secrets key.

    The boundary's own ARN is built from its fixed name: a policy cannot refer to its own output.
    """
    boundary = iam_arn(partition, account_id, f"policy/{deploy_boundary_name(region)}")
    # iam:PermissionsBoundary is ARN-typed, hence ArnNotEquals (CDK's template uses StringNotEquals). A
    # negated operator holds when the key is absent, so CreateRole without any boundary is denied too:
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    not_this_boundary = {"ArnNotEquals": {"iam:PermissionsBoundary": boundary}}
    return [
        statement("AllowEverythingElse", ["*"], ["*"]),
        statement(
            "DenyRolesAndUsersWithoutThisBoundary",
            [*BOUNDARY_CHECKED_ROLE_ACTIONS, *BOUNDARY_CHECKED_USER_ACTIONS],
            ["*"],
            condition=not_this_boundary,
            effect="Deny",
        ),
        statement("DenyRemovingAnyBoundary", REMOVE_BOUNDARY_ACTIONS, ["*"], effect="Deny"),
        statement("DenyActingAsUsersOrThroughGroups", USER_AND_GROUP_ESCAPE_ACTIONS, ["*"], effect="Deny"),
        statement(
            "DenyChangingTheBoundaries",
            POLICY_VERSION_ACTIONS,
            [iam_arn(partition, account_id, f"policy/{BOOTSTRAP_PREFIX}-deploy-boundary-*")],
            effect="Deny",
        ),
        statement(
            "DenyChangingTheBootstrapRoles",
            ROLE_CHANGE_ACTIONS,
            [iam_arn(partition, account_id, f"role/{BOOTSTRAP_PREFIX}-*")],
            effect="Deny",
        ),
        statement("DenyWeakeningTheStateBucket", STATE_BUCKET_CHANGE_ACTIONS, [state_bucket_arn], effect="Deny"),
        # Versioning keeps every earlier state; deleting a version would lose it for good.
        statement(
            "DenyDeletingStateHistory", ["s3:DeleteObjectVersion"], [_state_objects(state_bucket_arn)], effect="Deny"
        ),
        statement("DenyChangingTheSecretsKey", SECRETS_KEY_CHANGE_ACTIONS, [secrets_key_arn], effect="Deny"),
        statement("DenyMovingTheSecretsKeyAlias", KEY_ALIAS_CHANGE_ACTIONS, [secrets_key_alias_arn], effect="Deny"),
    ]


@dataclass(frozen=True)
class DeployIdentityArgs:
    """Where the roles live, whom they trust, what state they reach and what the deploy role may do."""

    region: str
    partition: pulumi.Input[str]
    # The account being bootstrapped, and the account whose pipeline assumes the roles (often the same).
    account_id: pulumi.Input[str]
    pipeline_account_id: pulumi.Input[str]
    state_bucket_arn: pulumi.Input[str]
    secrets_key_arn: pulumi.Input[str]
    secrets_key_alias_arn: pulumi.Input[str]
    preview_policy_arns: tuple[str, ...]
    deploy_policy_arns: tuple[str, ...]
    deploy_statements: tuple[Mapping[str, Any], ...] = ()


def attachment_name(role_name: str, policy_arn: str) -> str:
    """A stable logical name per (role, managed policy): reordering the config list replaces nothing."""
    return f"{role_name}-{policy_arn.rsplit('/', 1)[-1]}-{hashlib.sha256(policy_arn.encode()).hexdigest()[:6]}"


class DeployIdentity(pulumi.ComponentResource):
    """The preview role, the deploy role and the deploy role's permissions boundary."""

    boundary: aws.iam.Policy
    preview_role: aws.iam.Role
    deploy_role: aws.iam.Role

    def __init__(self, name: str, args: DeployIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("cicd:bootstrap:DeployIdentity", name, None, opts)
        self._args = args
        self.boundary = aws.iam.Policy(
            f"{name}-deploy-boundary",
            name=deploy_boundary_name(args.region),
            description="Permissions boundary of the pipeline deploy role and of every role it creates",
            policy=policy_document(
                deploy_boundary_statements(
                    partition=args.partition,
                    account_id=args.account_id,
                    region=args.region,
                    state_bucket_arn=args.state_bucket_arn,
                    secrets_key_arn=args.secrets_key_arn,
                    secrets_key_alias_arn=args.secrets_key_alias_arn,
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.preview_role = self._role(
            "preview",
            description="pulumi preview from a pipeline's Build step: read-only",
            state=preview_state_statements(args.state_bucket_arn, args.secrets_key_arn),
            managed=args.preview_policy_arns,
        )
        self.deploy_role = self._role(
            "deploy",
            description="pulumi up from a pipeline's Deploy step, within the deploy boundary",
            state=deploy_state_statements(args.state_bucket_arn, args.secrets_key_arn),
            managed=args.deploy_policy_arns,
            boundary=self.boundary.arn,
        )
        if args.deploy_statements:
            aws.iam.RolePolicy(
                f"{bootstrap_role_name('deploy', args.region)}-statements",
                role=self.deploy_role.name,
                policy=policy_document(list(args.deploy_statements)),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs(
            {
                "previewRoleArn": self.preview_role.arn,
                "deployRoleArn": self.deploy_role.arn,
                "deployBoundaryArn": self.boundary.arn,
            }
        )

    def _role(
        self,
        role: StepRole,
        *,
        description: str,
        state: Sequence[Statement],
        managed: Sequence[str],
        boundary: pulumi.Input[str] | None = None,
    ) -> aws.iam.Role:
        args = self._args
        name = bootstrap_role_name(role, args.region)
        child = pulumi.ResourceOptions(parent=self)
        created = aws.iam.Role(
            name,
            name=name,
            description=description,
            assume_role_policy=trust_policy(args.partition, args.pipeline_account_id, role),
            max_session_duration=SESSION_SECONDS,
            permissions_boundary=boundary,
            opts=child,
        )
        aws.iam.RolePolicy(f"{name}-state", role=created.name, policy=policy_document(state), opts=child)
        for policy_arn in managed:
            aws.iam.RolePolicyAttachment(
                attachment_name(name, policy_arn), role=created.name, policy_arn=policy_arn, opts=child
            )
        return created
