"""GitHub Actions' way into AWS: the OIDC identity provider and the two roles the workflows assume.

No workflow holds an AWS key. A job asks GitHub for an OIDC token and trades it with STS for a
role whose trust policy names the exact `sub` claim it accepts:

- the deploy role (`pulumi up`) trusts pushes to `main` for a non-production stack, and only jobs
  in the `production` GitHub environment for a production stack. Trusting both on one role would
  let any job on main deploy production without the environment's required reviewers.
- the preview role (`pulumi preview`) trusts the repository's pull requests and can only read.
  A pull request can change the workflow it runs, so this role is what a PR author gets.

What each role may do is pipeline/github_grants.py's data: scoped to the resources this stack
names, and held back by the stack's permissions boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from pipeline.github_grants import GITHUB_OIDC_HOST, deploy_denials, stack_grants
from pipeline.iam import Statement, policy_document
from pipeline.shared import Foundation, StackNames
from pipeline.source import SourceConnectionArgs

__all__ = [
    "DEPLOY_BRANCH",
    "GITHUB_OIDC_AUDIENCE",
    "GITHUB_OIDC_HOST",
    "PRODUCTION_ENVIRONMENT",
    "GitHubActionsAccess",
    "GitHubActionsArgs",
    "deploy_subject",
    "preview_subject",
    "web_identity_trust_policy",
]

GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
DEPLOY_BRANCH = "main"
PRODUCTION_ENVIRONMENT = "production"
SESSION_SECONDS = 3600


@dataclass(frozen=True)
class GitHubActionsArgs:
    """Which repository's workflows may manage the stack, and what of the stack's they reach.

    The roles' grants follow the stack's names and the source connection it uses; the resources
    they reach are the shared ones (the `Foundation` the component also takes).
    """

    names: StackNames
    # owner/repo exactly as GitHub spells it, or owner@<org id>/repo@<repo id> (immutable OIDC subjects).
    repository: str
    # A production stack deploys only from jobs in the repository's `production` environment.
    production: bool = False
    # The account's GitHub OIDC provider, where one exists already; "" creates it.
    oidc_provider_arn: str = ""
    # The S3 bucket of the stack's own Pulumi backend, which the roles then read and write; "" for none.
    state_bucket: str = ""
    # The source connection as the stack's SourceConnection is given it; None where no pipeline reads a repository.
    connection: SourceConnectionArgs | None = None


def deploy_subject(args: GitHubActionsArgs) -> str:
    """The OIDC `sub` of the jobs that may run `pulumi up` on this stack."""
    repository = args.repository
    if args.production:
        return f"repo:{repository}:environment:{PRODUCTION_ENVIRONMENT}"
    return f"repo:{repository}:ref:refs/heads/{DEPLOY_BRANCH}"


def preview_subject(args: GitHubActionsArgs) -> str:
    """The OIDC `sub` GitHub gives every pull-request job of the repository."""
    return f"repo:{args.repository}:pull_request"


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


class GitHubActionsAccess(pulumi.ComponentResource):
    """The OIDC provider (or the account's existing one), the deploy role and the preview role."""

    deploy_role: aws.iam.Role
    preview_role: aws.iam.Role
    oidc_provider_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: GitHubActionsArgs, shared: Foundation, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("cicd:github:ActionsAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if args.oidc_provider_arn:
            self.oidc_provider_arn = pulumi.Output.from_input(args.oidc_provider_arn)
        else:
            # IAM checks GitHub's certificate against its own trusted CAs; no thumbprint needed.
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-oidc",
                url=f"https://{GITHUB_OIDC_HOST}",
                client_id_lists=[GITHUB_OIDC_AUDIENCE],
                opts=child,
            )
            self.oidc_provider_arn = provider.arn

        grants = stack_grants(args, shared)
        deploy_role, preview_role = f"{name}-deploy", f"{name}-preview"
        denials = deploy_denials(args, shared, github_roles=(deploy_role, preview_role))
        who = f"{args.repository} for {args.names.label}"
        self.deploy_role = self._role(
            deploy_role,
            description=f"pulumi up from GitHub Actions of {who}",
            subject=deploy_subject(args),
            statements=[*(grant.deploy_statement() for grant in grants), *denials],
        )
        self.preview_role = self._role(
            preview_role,
            description=f"read-only pulumi preview from pull requests of {who}",
            subject=preview_subject(args),
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
