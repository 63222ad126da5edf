"""GitHub Actions' way into AWS: the OIDC identity provider and the two roles the workflows assume.

No workflow holds an AWS key. A job asks GitHub for an OIDC token and trades it with STS for a
role whose trust policy names the exact `sub` claim it accepts:

- the deploy role (`pulumi up`) trusts pushes to `main` for a non-production stack, and only jobs
  in the `production` GitHub environment for a production stack. Trusting both on one role would
  let any job on main deploy production without the environment's required reviewers.
- the preview role (`pulumi preview`) trusts the repository's pull requests and can only read.
  A pull request can change the workflow it runs, so this role is what a PR author gets.

Both roles are scoped to the resources this stack names (the `cicd-<environment>-` prefix), not
to the account. tests/test_github_roles.py checks that every resource the program registers is
inside that scope, so a new resource type fails a test instead of the first CI deploy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from pipeline.iam import Statement, policy_document, statement
from pipeline.provider import AwsAccount
from pipeline.settings import GITHUB_OIDC_HOST, Settings

GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
DEPLOY_BRANCH = "main"
PRODUCTION_ENVIRONMENT = "production"
SESSION_SECONDS = 3600

# Actions whose "Resource types" column in the Service Authorization Reference is empty: IAM
# accepts them only with "Resource": "*". Each maps to the page that says so; the tests check
# each against parliament's offline copy of that reference.
_KMS = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html"
_LOGS = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html"
_SNS = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html"
_CONNECTIONS = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodestarconnections.html"
UNSCOPABLE_READS: Mapping[str, str] = {
    "kms:ListAliases": _KMS,
    "logs:DescribeLogGroups": _LOGS,
    "sns:GetSubscriptionAttributes": _SNS,
}
UNSCOPABLE_WRITES: Mapping[str, str] = {
    "kms:CreateKey": _KMS,
    "sns:SetSubscriptionAttributes": _SNS,
    "sns:Unsubscribe": _SNS,
}
# Only when the stack creates the source connection itself.
CREATE_CONNECTION = "codestar-connections:CreateConnection"
UNSCOPABLE_ACTIONS: Mapping[str, str] = {**UNSCOPABLE_READS, **UNSCOPABLE_WRITES, CREATE_CONNECTION: _CONNECTIONS}

# The services CodeBuild projects and the pipeline hand their roles to.
_PASSED_TO_SERVICES = ["codebuild.amazonaws.com", "codepipeline.amazonaws.com"]


def deploy_subject(settings: Settings) -> str:
    """The OIDC `sub` of the jobs that may run `pulumi up` on this stack."""
    repository = settings.github.repository
    if settings.is_production:
        return f"repo:{repository}:environment:{PRODUCTION_ENVIRONMENT}"
    return f"repo:{repository}:ref:refs/heads/{DEPLOY_BRANCH}"


def preview_subject(settings: Settings) -> str:
    """The OIDC `sub` GitHub gives every pull-request job of the repository."""
    return f"repo:{settings.github.repository}:pull_request"


def web_identity_trust_policy(provider_arn: pulumi.Input[str], subject: str) -> pulumi.Output[str]:
    """Trust GitHub's tokens for exactly one subject, minted for STS (no wildcards, no StringLike).

    https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
    """
    return policy_document(
        [
            {
                "Sid": "TrustOneGitHubSubject",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": subject,
                    }
                },
            }
        ]
    )


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


def stack_grants(settings: Settings, account: AwsAccount, key_arn: pulumi.Input[str]) -> list[Grant]:
    """What managing this stack takes, resource by resource, scoped by the names the stack gives.

    STS's GetCallerIdentity, which the provider and `get_caller_identity` call, needs no permission.
    Auto-named resources carry their logical name, `cicd-<environment>-...`, as a prefix; the log
    groups and the key alias are named `/<project>/<environment>/...` and `alias/<project>-<environment>`.
    """
    prefix = settings.name_prefix
    named = f"{settings.project}/{settings.environment}"
    bucket = pulumi.Output.concat("arn:", account.partition, ":s3:::", prefix, "-*")
    grants = [
        Grant(
            "StackRoles",
            [account.arn("iam", f"role/{prefix}-*", regional=False)],
            reads=(
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListRolePolicies",
                "iam:ListRoleTags",
            ),
            writes=(
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:DeleteRolePolicy",
                "iam:ListInstanceProfilesForRole",
                "iam:PutRolePolicy",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
            ),
        ),
        Grant(
            "PassStackRolesToPipelineServices",
            [account.arn("iam", f"role/{prefix}-*", regional=False)],
            writes=("iam:PassRole",),
            condition={"StringEquals": {"iam:PassedToService": _PASSED_TO_SERVICES}},
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
            # Key ARNs are random ids, so no name can scope them; a tag condition would race the
            # first deploy (KMS takes up to five minutes to honour a new key's tags).
            "StackKeys",
            [account.arn("kms", "key/*")],
            reads=("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"),
            writes=(
                "kms:CancelKeyDeletion",
                "kms:DisableKey",
                "kms:DisableKeyRotation",
                "kms:EnableKey",
                "kms:EnableKeyRotation",
                "kms:PutKeyPolicy",
                "kms:ScheduleKeyDeletion",
                "kms:TagResource",
                "kms:UntagResource",
                "kms:UpdateKeyDescription",
            ),
        ),
        Grant(
            # An alias operation is authorized on the alias and on the key it points to.
            "StackKeyAlias",
            [account.arn("kms", f"alias/{settings.project}-{settings.environment}"), account.arn("kms", "key/*")],
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
            condition={"StringEquals": {"kms:ViaService": f"secretsmanager.{settings.region}.amazonaws.com"}},
        ),
    ]
    return [
        *grants,
        *_connection_grants(settings, account),
        *_oidc_provider_grants(settings, account),
        *_state_grants(settings, account),
    ]


def _connection_grants(settings: Settings, account: AwsAccount) -> list[Grant]:
    """Handing the source connection to CodePipeline, and managing it where the stack creates it."""
    source = settings.source
    if source.type != "codestar":
        return []
    if source.connection_arn:
        service = source.connection_arn.split(":")[2]  # codestar-connections, or codeconnections for newer ARNs
        connections: pulumi.Input[str] = source.connection_arn
    else:
        service = "codestar-connections"
        # Connection ARNs are random ids too.
        connections = account.arn(service, "connection/*")
    passing = Grant(
        "PassSourceConnectionToPipeline",
        [connections],
        writes=(f"{service}:PassConnection",),
        condition={"StringEquals": {f"{service}:PassedToService": "codepipeline.amazonaws.com"}},
    )
    if source.connection_arn:
        return [passing]
    return [
        passing,
        Grant("CreateSourceConnection", ["*"], writes=(CREATE_CONNECTION,)),
        Grant(
            "SourceConnections",
            [connections],
            reads=(f"{service}:GetConnection", f"{service}:ListTagsForResource"),
            writes=(f"{service}:DeleteConnection", f"{service}:TagResource", f"{service}:UntagResource"),
        ),
    ]


def _oidc_provider_grants(settings: Settings, account: AwsAccount) -> list[Grant]:
    """The account's GitHub OIDC provider, where this stack is the one that created it."""
    if settings.github.oidc_provider_arn:
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


def _state_grants(settings: Settings, account: AwsAccount) -> list[Grant]:
    """A self-managed backend's bucket: previews read the state; only `pulumi up` writes it and takes the lock."""
    if not settings.github.state_bucket:
        return []
    bucket = pulumi.Output.concat("arn:", account.partition, ":s3:::", settings.github.state_bucket)
    return [
        Grant("PulumiStateBucket", [bucket], reads=("s3:GetBucketLocation", "s3:ListBucket")),
        Grant(
            "PulumiState",
            [pulumi.Output.concat(bucket, "/*")],
            reads=("s3:GetObject",),
            writes=("s3:DeleteObject", "s3:PutObject"),
        ),
    ]


class GitHubActionsAccess(pulumi.ComponentResource):
    """The OIDC provider (or the account's existing one), the deploy role and the preview role."""

    deploy_role: aws.iam.Role
    preview_role: aws.iam.Role
    oidc_provider_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        settings: Settings,
        account: AwsAccount,
        key_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cicd:github:ActionsAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if settings.github.oidc_provider_arn:
            self.oidc_provider_arn = pulumi.Output.from_input(settings.github.oidc_provider_arn)
        else:
            # IAM checks GitHub's certificate against its own trusted CAs; no thumbprint needed.
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-oidc",
                url=f"https://{GITHUB_OIDC_HOST}",
                client_id_lists=[GITHUB_OIDC_AUDIENCE],
                opts=child,
            )
            self.oidc_provider_arn = provider.arn

        grants = stack_grants(settings, account, key_arn)
        who = f"{settings.github.repository} for {settings.project} {settings.environment}"
        self.deploy_role = self._role(
            f"{name}-deploy",
            description=f"pulumi up from GitHub Actions of {who}",
            subject=deploy_subject(settings),
            statements=[grant.deploy_statement() for grant in grants],
        )
        self.preview_role = self._role(
            f"{name}-preview",
            description=f"read-only pulumi preview from pull requests of {who}",
            subject=preview_subject(settings),
            statements=[s for s in (grant.preview_statement() for grant in grants) if s is not None],
        )
        self.register_outputs(
            {
                "oidcProviderArn": self.oidc_provider_arn,
                "deployRoleArn": self.deploy_role.arn,
                "previewRoleArn": self.preview_role.arn,
            }
        )

    def _role(self, name: str, *, description: str, subject: str, statements: list[Statement]) -> aws.iam.Role:
        role = aws.iam.Role(
            name,
            description=description,
            assume_role_policy=web_identity_trust_policy(self.oidc_provider_arn, subject),
            max_session_duration=SESSION_SECONDS,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.name,
            policy=policy_document(statements),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return role
