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
(`/<project>/<environment>/codebuild/*`, or `/<project>/<environment>/*/codebuild/*` for the
services of a stack with `services`). The patterns also keep the document's size independent of
the number of services: one boundary caps every service's roles, and a managed policy holds at
most 6,144 characters (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
The deploy role may not change the boundary; a change needs the administrator's `pulumi up`
(README, CI: one-time bootstrap).

With Slack alerts on, the union also holds what the Slack channel's role is given (pipeline/chatbot.py,
`notification_statements`): that role carries the boundary too, so the deploy role can write its policy
only within it, and what the boundary adds is read-only CloudWatch.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from pipeline.build import BuildProjectArgs, build_role_statements, log_group_pattern
from pipeline.chatbot import notification_statements
from pipeline.delivery import DeliveryPipelineArgs, pipeline_role_statements
from pipeline.iam import merged_statements, policy_document
from pipeline.shared import SharedResources, StackNames


@dataclass(frozen=True)
class PermissionsBoundaryArgs:
    """Whose roles it caps, and the args of every build project and pipeline whose roles carry it."""

    names: StackNames
    builds: tuple[BuildProjectArgs, ...]
    pipelines: tuple[DeliveryPipelineArgs, ...]
    # Whether a Slack channel's role (pipeline/chatbot.py) carries the boundary too.
    chat_notifications: bool = False


class PermissionsBoundary(pulumi.ComponentResource):
    """A customer-managed policy that every ServiceRole of the stack carries as its permissions boundary."""

    policy: aws.iam.Policy
    arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: PermissionsBoundaryArgs,
        shared: SharedResources,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cicd:iam:PermissionsBoundary", name, None, opts)
        account, names = shared.account, args.names
        # Every statement the service roles get, from the functions that build the roles' own, merged by Sid.
        granted = [
            each
            for build in args.builds
            for each in build_role_statements(
                build, shared, log_group_arn=account.arn("logs", f"log-group:{log_group_pattern(build.names)}")
            )
        ]
        every_project = [account.arn("codebuild", f"project/{names.prefix}-*")]
        granted += [
            each
            for pipeline in args.pipelines
            for each in pipeline_role_statements(pipeline, shared, project_arns=every_project)
        ]
        if args.chat_notifications:
            granted += notification_statements()
        self.policy = aws.iam.Policy(
            name,
            description=f"Permissions boundary of the service roles of {names.label}",
            policy=policy_document(merged_statements(granted)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.policy.arn
        self.register_outputs({"arn": self.arn})
