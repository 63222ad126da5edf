"""The explicit AWS provider every resource uses, and the account facts policies need."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AwsAccountArgs:
    """The region every resource lands in, and the tags the provider puts on each of them."""

    region: str
    default_tags: Mapping[str, str] = field(default_factory=dict)


class AwsAccount(pulumi.ComponentResource):
    """An `aws.Provider` pinned to the stack's region with default tags, plus account facts.

    Handing this provider to every component (instead of relying on the default provider)
    means a resource can never land in whatever region or account the shell happens to
    point at.
    """

    provider: aws.Provider
    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]
    region: str
    default_tags: Mapping[str, str]

    def __init__(self, name: str, args: AwsAccountArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("cicd:aws:Account", name, None, opts)
        self.region = args.region
        # Policies that scope resources by their tags read them here (pipeline/github.py).
        self.default_tags = dict(args.default_tags)
        self.provider = aws.Provider(
            name,
            region=args.region,
            default_tags=aws.ProviderDefaultTagsArgs(tags=self.default_tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        invoke = pulumi.InvokeOutputOptions(provider=self.provider, parent=self)
        self.account_id = aws.get_caller_identity_output(opts=invoke).account_id
        self.partition = aws.get_partition_output(opts=invoke).partition
        self.register_outputs({"accountId": self.account_id, "region": self.region})

    def arn(self, service: str, resource: str, *, regional: bool = True) -> pulumi.Output[str]:
        """An ARN in this account, e.g. `arn("logs", "log-group:/aws/codebuild/x:*")`."""
        region = self.region if regional else ""
        return pulumi.Output.concat(
            "arn:", self.partition, ":", service, ":", region, ":", self.account_id, ":", resource
        )

    def component_options(self) -> pulumi.ResourceOptions:
        """Options for a top-level component: its children inherit this provider."""
        return pulumi.ResourceOptions(providers={"aws": self.provider})
