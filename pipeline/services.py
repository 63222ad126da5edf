"""One service's pipeline: its two CodeBuild projects and the CodePipeline that runs them, composed flat.

A stack builds one of these per service, on the resources the stack shares (the `Foundation`); the
failure rules of all of them live in one `FailureAlerts`, beside the topic policy that names them all.

Flat, not a ComponentResource per service: the projects and the pipeline are top-level components
named `<prefix>-<service>-build`, `-deploy` and `-pipeline`. A URN holds its parent's type
(`...::cicd:codebuild:BuildProject$aws:iam/role:Role::cicd-dev-build-role`), so a wrapper component
would give every resource of a stack deployed with one pipeline a new URN: `pulumi up` would create
the log groups again while the old ones still hold their fixed names (AlreadyExists), unless every
one of those resources declared an alias to its old URN. Flat, the implicit service of a stack
without `services` keeps the names and URNs it always had (tests/test_urns.py) without any alias,
and a named service's resources differ from them only by the service in their names. What a
wrapper would add, a tree node per service in `pulumi stack`, is not worth an alias on every
resource of every deployed stack.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from pipeline.build import BuildProject, BuildProjectArgs
from pipeline.delivery import DeliveryPipeline, DeliveryPipelineArgs
from pipeline.notifications import WatchedPipeline
from pipeline.shared import Foundation, StackNames


@dataclass(frozen=True)
class ServicePipelineArgs:
    """One service's Build and Deploy projects, and its pipeline: all named by the pipeline's names."""

    builds: tuple[BuildProjectArgs, BuildProjectArgs]
    delivery: DeliveryPipelineArgs

    @property
    def names(self) -> StackNames:
        return self.delivery.names


@dataclass(frozen=True)
class ServicePipeline:
    """What one service's pipeline registered."""

    args: ServicePipelineArgs
    build: BuildProject
    deploy: BuildProject
    delivery: DeliveryPipeline

    def watched(self) -> WatchedPipeline:
        """The pipeline as its failure rule watches it: by its name output, so the rule waits for it."""
        return WatchedPipeline(names=self.args.names, pipeline_name=self.delivery.pipeline_name)


def service_pipeline(
    args: ServicePipelineArgs, shared: Foundation, opts: pulumi.ResourceOptions | None = None
) -> ServicePipeline:
    """The service's projects and pipeline, named `<names.service_prefix>-build`, `-deploy` and `-pipeline`."""
    prefix = args.names.service_prefix
    build, deploy = (BuildProject(f"{prefix}-{each.step.name}", each, shared, opts=opts) for each in args.builds)
    delivery = DeliveryPipeline(f"{prefix}-pipeline", args.delivery, shared, build=build, deploy=deploy, opts=opts)
    return ServicePipeline(args, build, deploy, delivery)
