"""The permissions boundary: the most any service role this stack creates may ever do.

The GitHub deploy role runs `pulumi up`, so it writes the service roles' policies and trust, and
hands the roles to CodeBuild and CodePipeline. Without a cap, a job holding it could give such a
role (and so itself) any permission in the account. With one, it may create and change only roles
that carry this boundary (pipeline/github.py), and what a role may do is what both its own policy
and the boundary allow:
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html

The boundary is the union of the statements the build steps' and the pipeline's roles get, built
by the same functions, so it allows exactly their actions on their resources, except that two kinds
of resource are named by pattern, because they are created after the roles, which need the boundary
first: the build projects (`project/<prefix>-*`) and their log groups
(`/<project>/<environment>/codebuild/*`). The deploy role may not change the boundary; a change
needs the administrator's `pulumi up` (README, CI: one-time bootstrap).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from pipeline.build import build_role_statements, build_steps, log_group_name
from pipeline.delivery import pipeline_role_statements
from pipeline.iam import merged_statements, policy_document
from pipeline.provider import AwsAccount
from pipeline.settings import Settings


class PermissionsBoundary(pulumi.ComponentResource):
    """A customer-managed policy that every ServiceRole of the stack carries as its permissions boundary."""

    policy: aws.iam.Policy
    arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        settings: Settings,
        account: AwsAccount,
        artifact_bucket_arn: pulumi.Input[str],
        key_arn: pulumi.Input[str],
        topic_arn: pulumi.Input[str],
        connection_arn: pulumi.Input[str] | None,
        stored_secrets: Mapping[str, pulumi.Input[str]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cicd:iam:PermissionsBoundary", name, None, opts)
        # Every statement the service roles get, merged by Sid.
        granted = [
            each
            for step in build_steps(settings)
            for each in build_role_statements(
                settings,
                account,
                step,
                log_group_arn=account.arn("logs", f"log-group:{log_group_name(settings, '*')}"),
                artifact_bucket_arn=artifact_bucket_arn,
                key_arn=key_arn,
                stored_secrets=stored_secrets,
            )
        ]
        granted += pipeline_role_statements(
            settings,
            account,
            artifact_bucket_arn=artifact_bucket_arn,
            key_arn=key_arn,
            project_arns=[account.arn("codebuild", f"project/{settings.name_prefix}-*")],
            topic_arn=topic_arn,
            connection_arn=connection_arn,
        )
        self.policy = aws.iam.Policy(
            name,
            description=f"Permissions boundary of the service roles of {settings.project} {settings.environment}",
            policy=policy_document(merged_statements(granted)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.policy.arn
        self.register_outputs({"arn": self.arn})
