"""What GitHub Actions' roles may do, as data: the deploy role's grants and denials, resource by resource.

pipeline/github.py creates the roles and says who may assume them; this module says what they may
do. Each `Grant` names one group of resources; the deploy role gets its reads and writes, the
preview role its reads alone.

Both roles are scoped to the resources this stack names (the `cicd-<environment>-` prefix, which
every service's names start with too), or, for KMS keys and CodeStar connections, whose ids are
random, that carry this stack's `Project` and `Environment` tags. tests/test_github_roles.py checks
that every resource the program registers is inside that scope, so a new resource type fails a test
instead of the first CI deploy.

The deploy role writes IAM roles, so it could give itself anything; it is held back by the stack's
permissions boundary (pipeline/boundary.py): it may create a role, or write a role's policy, only
when the role carries that boundary, and it may change neither the boundary nor the GitHub roles
(which carry none): `deploy_denials`. Those changes, like creating the key and the connection, are
the administrator's `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi

from pipeline.chatbot import CHATBOT_PRINCIPAL, GUARDRAIL_SUFFIX, ROLE_SUFFIX, slack_alerts_name
from pipeline.deploy_identity import AUTONAME_SUFFIX
from pipeline.iam import Statement, statement
from pipeline.provider import AwsAccount
from pipeline.shared import Foundation
from pipeline.source import connection_service

if TYPE_CHECKING:  # the component's args; github.py imports this module, so only for the type
    from pipeline.github import GitHubActionsArgs

# GitHub's OIDC issuer: the provider the deploy role may manage (named by it), and whose tokens the
# roles trust (pipeline/github.py).
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"


# Actions whose "Resource types" column in the Service Authorization Reference is empty: IAM
# accepts them only with "Resource": "*". Each maps to the page that says so; the tests check
# each against parliament's offline copy of that reference.
_KMS = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html"
_LOGS = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html"
_SNS = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html"
_CONNECTIONS = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodestarconnections.html"
_CHATBOT = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awschatbot.html"
UNSCOPABLE_READS: Mapping[str, str] = {
    "chatbot:DescribeSlackChannelConfigurations": _CHATBOT,
    "chatbot:ListTagsForResource": _CHATBOT,
    "kms:ListAliases": _KMS,
    "logs:DescribeLogGroups": _LOGS,
    "sns:GetSubscriptionAttributes": _SNS,
}
UNSCOPABLE_WRITES: Mapping[str, str] = {
    "chatbot:CreateSlackChannelConfiguration": _CHATBOT,
    "chatbot:TagResource": _CHATBOT,
    "chatbot:UntagResource": _CHATBOT,
    "sns:SetSubscriptionAttributes": _SNS,
    "sns:Unsubscribe": _SNS,
}
UNSCOPABLE_ACTIONS: Mapping[str, str] = {**UNSCOPABLE_READS, **UNSCOPABLE_WRITES}

# Not granted at all: kms:CreateKey and codestar-connections:CreateConnection. Both would carry the
# provider's default tags, and a tag given at creation is authorized as TagResource on every key
# (connection) of the account: "the permission must cover all KMS keys in the account and Region"
# (https://docs.aws.amazon.com/kms/latest/developerguide/manage-tags-api.html; AWS's example for
# connections grants TagResource with CreateConnection on "*":
# https://docs.aws.amazon.com/dtconsole/latest/userguide/connections-tag-based-access-control.html).
# Only aws:RequestTag could narrow that, and it would let the role tag anyone's key or connection
# into the reach of the statements below. The administrator's first `pulumi up` creates both.
NOT_GRANTED_CREATES: Mapping[str, str] = {
    "kms:CreateKey": _KMS,
    "codestar-connections:CreateConnection": _CONNECTIONS,
}

# The tags that put a key or connection in this stack's reach; the provider puts them on everything.
SCOPING_TAGS = ("Project", "Environment")

# The services CodeBuild projects and the pipeline hand their roles to.
_PIPELINE_SERVICE = "codepipeline.amazonaws.com"
_PASSED_TO_SERVICES = ["codebuild.amazonaws.com", _PIPELINE_SERVICE]


@dataclass(frozen=True)
class Grant:
    """One group of resources: what a preview may read there, and what `pulumi up` also writes.

    The deploy role gets the statement `sid` with reads and writes; the preview role gets
    `<sid>ReadOnly` with the reads alone, and nothing where there are none.
    """

    sid: str
    resources: Sequence[pulumi.Input[str]]
    reads: Sequence[str] = ()
    writes: Sequence[str] = ()
    condition: Mapping[str, Mapping[str, Any]] | None = None

    def deploy_statement(self) -> Statement:
        return statement(self.sid, [*self.reads, *self.writes], self.resources, condition=self.condition)

    def preview_statement(self) -> Statement | None:
        if not self.reads:
            return None
        return statement(f"{self.sid}ReadOnly", self.reads, self.resources, condition=self.condition)


def tagged_by_this_stack(account: AwsAccount) -> dict[str, str]:
    """`aws:ResourceTag` conditions that hold only for resources carrying this stack's scoping tags,
    as the account's provider puts them on every resource."""
    tags = account.default_tags
    missing = [key for key in SCOPING_TAGS if key not in tags]
    if missing:
        raise ValueError(f"the account's provider must tag every resource with {', '.join(missing)}")
    return {f"aws:ResourceTag/{key}": tags[key] for key in SCOPING_TAGS}


def retagging_within_the_stack(account: AwsAccount) -> Mapping[str, Mapping[str, Any]]:
    """Tag and untag this stack's resources, but never the scoping tags themselves, so no resource
    moves into or out of a stack's reach."""
    return {
        "StringEquals": tagged_by_this_stack(account),
        "ForAllValues:StringNotEquals": {"aws:TagKeys": list(SCOPING_TAGS)},
    }


def stack_grants(args: GitHubActionsArgs, shared: Foundation) -> list[Grant]:
    """What managing this stack takes, resource by resource, scoped by the names the stack gives.

    STS's GetCallerIdentity, which the provider and `get_caller_identity` call, needs no permission.
    Auto-named resources carry their logical name, `cicd-<environment>-...`, as a prefix; the log
    groups and the key alias are named `/<project>/<environment>/...` and `alias/<project>-<environment>`.
    """
    account, key_arn, boundary_arn = shared.account, shared.key_arn, shared.permissions_boundary_arn
    prefix = args.names.prefix
    named = f"{args.names.project}/{args.names.environment}"
    bucket = pulumi.Output.concat("arn:", account.partition, ":s3:::", prefix, "-*")
    roles = account.arn("iam", f"role/{prefix}-*", regional=False)
    keys = account.arn("kms", "key/*")
    grants = [
        Grant(
            # Role actions the Service Authorization Reference lists without the iam:PermissionsBoundary
            # key; none changes what a role may do or who may assume it. iam:UpdateAssumeRolePolicy is
            # not granted: a job could point a step role's trust at itself and, through the bootstrap
            # role that trusts that name, reach the target account. The service roles' trust never
            # changes with the stack (one service, this account), so a change is the administrator's.
            "StackRoles",
            [roles],
            reads=(
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListRolePolicies",
                "iam:ListRoleTags",
            ),
            writes=(
                "iam:DeleteRole",
                "iam:ListInstanceProfilesForRole",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
            ),
        ),
        Grant(
            # A role is created, and its permissions written, only with the boundary on it, so no
            # role this job touches can do more than the boundary allows. These four are the role
            # actions granted here that take iam:PermissionsBoundary, an ARN-typed key (hence
            # ArnEquals); the stack attaches no managed policy, so AttachRolePolicy is not granted.
            # https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
            "StackRolesWithinTheBoundary",
            [roles],
            writes=("iam:CreateRole", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"),
            condition={"ArnEquals": {"iam:PermissionsBoundary": boundary_arn}},
        ),
        Grant(
            "PassStackRolesToPipelineServices",
            [roles],
            writes=("iam:PassRole",),
            condition={"StringEquals": {"iam:PassedToService": _PASSED_TO_SERVICES}},
        ),
        Grant(
            # Reading and tagging only: every change of its document is denied (deploy_denials).
            "PermissionsBoundary",
            [boundary_arn],
            reads=("iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags", "iam:ListPolicyVersions"),
            writes=("iam:TagPolicy", "iam:UntagPolicy"),
        ),
        Grant(
            "ArtifactBuckets",
            [bucket],
            # Bucket configuration only: a preview has no business reading the artifacts.
            reads=(
                "s3:GetAccelerateConfiguration",
                "s3:GetBucket*",
                "s3:GetEncryptionConfiguration",
                "s3:GetLifecycleConfiguration",
                "s3:GetReplicationConfiguration",
                "s3:ListBucket",
            ),
            writes=(
                "s3:CreateBucket",
                "s3:DeleteBucket",
                "s3:DeleteBucketPolicy",
                "s3:ListBucketVersions",
                "s3:PutBucketOwnershipControls",
                "s3:PutBucketPolicy",
                "s3:PutBucketPublicAccessBlock",
                "s3:PutBucketTagging",
                "s3:PutBucketVersioning",
                "s3:PutEncryptionConfiguration",
                "s3:PutLifecycleConfiguration",
            ),
        ),
        Grant(
            # forceDestroyArtifacts empties the bucket before deleting it.
            "EmptyArtifactBuckets",
            [pulumi.Output.concat(bucket, "/*")],
            writes=("s3:DeleteObject", "s3:DeleteObjectVersion"),
        ),
        Grant(
            "ActionsWithoutResourceTypes",
            ["*"],
            reads=tuple(UNSCOPABLE_READS),
            writes=tuple(UNSCOPABLE_WRITES),
        ),
        Grant(
            # Key ARNs are random ids, so the key's tags scope them (the `key` resource type takes
            # aws:ResourceTag). An alias operation is authorized on the alias and on the key it
            # points to; the key's side is here. The key is created by the administrator's first
            # `pulumi up` (NOT_GRANTED_CREATES), so KMS's few minutes before it honours a new key's
            # tags never fall inside a CI run.
            "StackKeys",
            [keys],
            reads=("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"),
            writes=(
                "kms:CancelKeyDeletion",
                "kms:CreateAlias",
                "kms:DeleteAlias",
                "kms:DisableKey",
                "kms:DisableKeyRotation",
                "kms:EnableKey",
                "kms:EnableKeyRotation",
                "kms:PutKeyPolicy",
                "kms:ScheduleKeyDeletion",
                "kms:UpdateAlias",
                "kms:UpdateKeyDescription",
            ),
            condition={"StringEquals": tagged_by_this_stack(account)},
        ),
        Grant(
            "TagStackKeys",
            [keys],
            writes=("kms:TagResource", "kms:UntagResource"),
            condition=retagging_within_the_stack(account),
        ),
        Grant(
            # The alias's side of an alias operation, in its own statement as AWS documents it:
            # https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html
            # Aliases carry no tags, but a name.
            "StackKeyAlias",
            [account.arn("kms", f"alias/{args.names.slug}")],
            writes=("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"),
        ),
        Grant(
            "BuildLogGroups",
            [account.arn("logs", f"log-group:/{named}/*")],
            reads=("logs:ListTagsForResource", "logs:ListTagsLogGroup"),
            writes=(
                "logs:AssociateKmsKey",
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:DeleteRetentionPolicy",
                "logs:DisassociateKmsKey",
                "logs:PutRetentionPolicy",
                "logs:TagLogGroup",
                "logs:TagResource",
                "logs:UntagLogGroup",
                "logs:UntagResource",
            ),
        ),
        Grant(
            "BuildProjects",
            [account.arn("codebuild", f"project/{prefix}-*")],
            reads=("codebuild:BatchGetProjects",),
            writes=("codebuild:CreateProject", "codebuild:DeleteProject", "codebuild:UpdateProject"),
        ),
        Grant(
            "ReportGroups",
            [account.arn("codebuild", f"report-group/{prefix}-*")],
            reads=("codebuild:BatchGetReportGroups",),
            writes=("codebuild:CreateReportGroup", "codebuild:DeleteReportGroup", "codebuild:UpdateReportGroup"),
        ),
        Grant(
            "Pipelines",
            [account.arn("codepipeline", f"{prefix}-*")],
            reads=("codepipeline:GetPipeline", "codepipeline:ListTagsForResource"),
            writes=(
                "codepipeline:CreatePipeline",
                "codepipeline:DeletePipeline",
                "codepipeline:TagResource",
                "codepipeline:UntagResource",
                "codepipeline:UpdatePipeline",
            ),
        ),
        Grant(
            "AlertTopics",
            [account.arn("sns", f"{prefix}-*")],
            reads=("sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic", "sns:ListTagsForResource"),
            writes=(
                "sns:CreateTopic",
                "sns:DeleteTopic",
                "sns:SetTopicAttributes",
                "sns:Subscribe",
                "sns:TagResource",
                "sns:UntagResource",
            ),
        ),
        Grant(
            "FailureRules",
            [account.arn("events", f"rule/{prefix}-*")],
            reads=("events:DescribeRule", "events:ListTagsForResource", "events:ListTargetsByRule"),
            writes=(
                "events:DeleteRule",
                "events:DisableRule",
                "events:EnableRule",
                "events:PutRule",
                "events:PutTargets",
                "events:RemoveTargets",
                "events:TagResource",
                "events:UntagResource",
            ),
        ),
        Grant(
            "StackSecrets",
            [account.arn("secretsmanager", f"secret:{prefix}-*")],
            # The value stays with the deploy role: a pull request must never read it.
            reads=(
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetResourcePolicy",
                "secretsmanager:ListSecretVersionIds",
            ),
            writes=(
                "secretsmanager:CreateSecret",
                "secretsmanager:DeleteSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:TagResource",
                "secretsmanager:UntagResource",
                "secretsmanager:UpdateSecret",
            ),
        ),
        Grant(
            # Secrets Manager encrypts a value under the pipeline key as the caller, so writing or
            # reading a stored secret needs the key too; only through Secrets Manager, only that key.
            "StackSecretsEncryption",
            [key_arn],
            writes=("kms:Decrypt", "kms:GenerateDataKey"),
            condition={"StringEquals": {"kms:ViaService": f"secretsmanager.{account.region}.amazonaws.com"}},
        ),
    ]
    return [
        *grants,
        *_slack_grants(args, account),
        *_connection_grants(args, account),
        *_oidc_provider_grants(args, account),
        *_state_grants(args, account),
    ]


def _slack_grants(args: GitHubActionsArgs, account: AwsAccount) -> list[Grant]:
    """The Slack channel (pipeline/chatbot.py): its Chatbot configuration, guardrail policy and role.

    By the exact names the stack gives them, `slack_alerts_name` (the configuration) and that name with
    ROLE_SUFFIX and GUARDRAIL_SUFFIX plus Pulumi's seven-character suffix (the role and the policy): no
    other policy or role of the account is in reach, the boundary least of all.

    Granted whether or not the stack has Slack on, since the GitHub roles' args do not say: without it the
    names match nothing the stack has, and the one unscoped create (CreateSlackChannelConfiguration has
    no resource type, UNSCOPABLE_WRITES) can hand Chatbot only a role of the Slack role's name, which the
    deploy role can create only under the stack's boundary: nothing it could not already reach itself.

    Per the Service Authorization Reference for AWS Chatbot
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_chatbot.html, "API
    operations"), CreateSlackChannelConfiguration also authorizes chatbot:TagResource (the provider's tags)
    and iam:PassRole with iam:PassedToService chatbot.amazonaws.com; Update and Delete are authorized on
    the configuration (resource type ChatbotConfiguration,
    arn:${Partition}:chatbot::${Account}:chat-configuration/${ConfigurationType}/${ChatbotConfigurationName}).
    Describe, ListTagsForResource, TagResource and UntagResource have no resource type in parliament's copy
    of the reference (UNSCOPABLE_READS/WRITES).
    """
    name = slack_alerts_name(args.names)
    return [
        Grant(
            "SlackChannelConfiguration",
            [account.arn("chatbot", f"chat-configuration/slack-channel/{name}", regional=False)],
            writes=("chatbot:DeleteSlackChannelConfiguration", "chatbot:UpdateSlackChannelConfiguration"),
        ),
        Grant(
            # The channel's guardrail: a customer-managed policy no role carries, read by Chatbot only.
            # Created and deleted; a changed document replaces it (pipeline/chatbot.py), so no version is
            # ever written: iam:CreatePolicyVersion is granted on no policy at all.
            "SlackGuardrailPolicy",
            [account.arn("iam", f"policy/{name}{GUARDRAIL_SUFFIX}-{AUTONAME_SUFFIX}", regional=False)],
            reads=("iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags", "iam:ListPolicyVersions"),
            writes=("iam:CreatePolicy", "iam:DeletePolicy", "iam:TagPolicy", "iam:UntagPolicy"),
        ),
        Grant(
            "PassSlackRoleToChatbot",
            [account.arn("iam", f"role/{name}{ROLE_SUFFIX}-{AUTONAME_SUFFIX}", regional=False)],
            writes=("iam:PassRole",),
            condition={"StringEquals": {"iam:PassedToService": CHATBOT_PRINCIPAL}},
        ),
    ]


def _connection_grants(args: GitHubActionsArgs, account: AwsAccount) -> list[Grant]:
    """Handing the source connection to CodePipeline, and managing it where the stack creates it."""
    connection = args.connection
    if connection is None:
        return []
    if connection.existing_arn:
        service = connection_service(connection.existing_arn)
        return [
            Grant(
                "PassSourceConnectionToPipeline",
                [connection.existing_arn],
                writes=(f"{service}:PassConnection",),
                condition={"StringEquals": {f"{service}:PassedToService": _PIPELINE_SERVICE}},
            )
        ]
    # Connection ARNs are random ids too: the connection's tags scope them, as they do the keys.
    service = "codestar-connections"
    connections = account.arn(service, "connection/*")
    stack_tags = tagged_by_this_stack(account)
    return [
        Grant(
            "PassSourceConnectionToPipeline",
            [connections],
            writes=(f"{service}:PassConnection",),
            condition={"StringEquals": {f"{service}:PassedToService": _PIPELINE_SERVICE, **stack_tags}},
        ),
        Grant(
            "SourceConnections",
            [connections],
            reads=(f"{service}:GetConnection", f"{service}:ListTagsForResource"),
            writes=(f"{service}:DeleteConnection",),
            condition={"StringEquals": stack_tags},
        ),
        Grant(
            "TagSourceConnections",
            [connections],
            writes=(f"{service}:TagResource", f"{service}:UntagResource"),
            condition=retagging_within_the_stack(account),
        ),
    ]


def _oidc_provider_grants(args: GitHubActionsArgs, account: AwsAccount) -> list[Grant]:
    """The account's GitHub OIDC provider, where this stack is the one that created it."""
    if args.oidc_provider_arn:
        return []
    return [
        Grant(
            "GitHubOidcProvider",
            [account.arn("iam", f"oidc-provider/{GITHUB_OIDC_HOST}", regional=False)],
            reads=("iam:GetOpenIDConnectProvider", "iam:ListOpenIDConnectProviderTags"),
            writes=(
                "iam:AddClientIDToOpenIDConnectProvider",
                "iam:CreateOpenIDConnectProvider",
                "iam:DeleteOpenIDConnectProvider",
                "iam:RemoveClientIDFromOpenIDConnectProvider",
                "iam:TagOpenIDConnectProvider",
                "iam:UntagOpenIDConnectProvider",
                "iam:UpdateOpenIDConnectProviderThumbprint",
            ),
        )
    ]


def _state_grants(args: GitHubActionsArgs, account: AwsAccount) -> list[Grant]:
    """A self-managed backend's bucket: previews read the state; only `pulumi up` writes it and takes the lock."""
    if not args.state_bucket:
        return []
    bucket = pulumi.Output.concat("arn:", account.partition, ":s3:::", args.state_bucket)
    return [
        Grant("PulumiStateBucket", [bucket], reads=("s3:GetBucketLocation", "s3:ListBucket")),
        Grant(
            "PulumiState",
            [pulumi.Output.concat(bucket, "/*")],
            reads=("s3:GetObject",),
            writes=("s3:DeleteObject", "s3:PutObject"),
        ),
    ]


def deploy_denials(args: GitHubActionsArgs, shared: Foundation, *, github_roles: Sequence[str]) -> list[Statement]:
    """What the deploy role may never do, whatever another policy allows: an explicit Deny wins.

    Changing the boundary, taking it off a role, or changing the GitHub roles themselves (which
    carry no boundary: the deploy role needs more than it allows) would undo the cap, so each is
    left to the administrator's `pulumi up`.

    `github_roles` are the GitHub roles' logical names; Pulumi names each role `<logical name>-<7
    characters>`, so seven `?` match exactly those two roles. A `*` there would also match the roles
    of a service named `github-actions` (`cicd-dev-github-actions-deploy-role-1a2b3c4`), whose policies
    the deploy role must be able to write.
    """
    account, boundary_arn = shared.account, shared.permissions_boundary_arn
    return [
        statement(
            "KeepTheBoundaryOnStackRoles",
            ["iam:DeleteRolePermissionsBoundary"],
            [account.arn("iam", f"role/{args.names.prefix}-*", regional=False)],
            effect="Deny",
        ),
        statement(
            "LeaveTheBoundaryToTheAdministrator",
            ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"],
            [boundary_arn],
            effect="Deny",
        ),
        statement(
            "LeaveTheGitHubRolesToTheAdministrator",
            [
                "iam:DeleteRolePolicy",
                "iam:PutRolePermissionsBoundary",
                "iam:PutRolePolicy",
                "iam:UpdateAssumeRolePolicy",
            ],
            [account.arn("iam", f"role/{role}-{AUTONAME_SUFFIX}", regional=False) for role in github_roles],
            effect="Deny",
        ),
    ]
