"""The explicit AWS provider every resource uses, and the account facts policies need."""

from __future__ import annotations

from typing import Protocol

import pulumi
import pulumi_aws as aws


class ProviderSettings(Protocol):
    """What the provider needs from a program's settings: the pipeline's `Settings` and the
    bootstrap's `BootstrapSettings` both have it."""

    @property
    def region(self) -> str: ...

    def default_tags(self) -> dict[str, str]: ...


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

    def __init__(self, name: str, settings: ProviderSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("cicd:aws:Account", name, None, opts)
        self.region = settings.region
        self.provider = aws.Provider(
            name,
            region=settings.region,
            default_tags=aws.ProviderDefaultTagsArgs(tags=settings.default_tags()),
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
