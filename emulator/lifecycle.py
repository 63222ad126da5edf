"""Deploy a real program into the emulator, destroy it in reverse dependency order, take stock.

Two programs live in this repository: the pipeline (the root's __main__.py, the default) and the
per-account bootstrap (bootstrap/__main__.py); `project_dir` says which one a deployment runs, and
`account` which emulated account its credentials sign in to.

`destroy` does what `pulumi destroy` does with the resource options it acts on
(https://www.pulumi.com/docs/iac/concepts/options/protect/, .../retainondelete/): a stack holding a
protected resource is refused before anything is deleted, unless it is first unprotected as
`pulumi state unprotect` would; a retained resource is dropped from the stack without a call to
AWS, so it stays in the account.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from emulator.backend import Emulator
from emulator.errors import EmulatorError
from emulator.mocks import MotoMocks, Progress, ReplayMocks, Step, describe, ignore_step
from emulator.resources import TRANSLATORS
from harness.capture import ProgramFailedError, RegisteredResource, StackGraph, evaluate
from harness.stack_config import PROJECT_DIR, project_name, stack_config

Program = Callable[[], Any] | Path


@dataclass
class Deployment:
    """A stack as deployed into the emulator: what the program registered and where it went."""

    stack: str
    config: dict[str, str]
    graph: StackGraph
    emulator: Emulator
    mocks: MotoMocks
    secret_keys: list[str] = field(default_factory=list)
    # Which program: the pipeline at the repository root, or harness.stack_config.BOOTSTRAP_DIR.
    project_dir: Path = PROJECT_DIR

    @property
    def project(self) -> str:
        return project_name(self.project_dir)

    @property
    def region(self) -> str:
        return self.config["aws:region"]

    @property
    def account_id(self) -> str:
        """The account the program's credentials signed in to (what getCallerIdentity answered it)."""
        return self.emulator.account_id(self.region, self.mocks.account)

    @property
    def outputs(self) -> dict[str, Any]:
        return self.graph.exports

    def client(self, service: str) -> Any:
        return self.emulator.client(service, self.region, self.mocks.account)


class DeployFailedError(Exception):
    """The deployment stopped part-way; `partial` is what had been created, `cause` what stopped it."""

    def __init__(self, cause: BaseException, partial: Deployment) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.partial = partial


def deploy(
    emulator: Emulator,
    stack: str = "dev",
    *,
    project_dir: Path = PROJECT_DIR,
    account: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    secret_keys: list[str] | None = None,
    program: Program | None = None,
    on_step: Progress = ignore_step,
) -> Deployment:
    """Run `program` (the project's __main__.py by default) for `stack` of the project in `project_dir`,
    signed in to `account` (moto's default one if None), creating each resource as its inputs resolve.

    Raises DeployFailedError if the program or a creation fails; its `partial` deployment holds
    what was created, for `destroy`.
    """
    config = stack_config(stack, overrides, project_dir)
    secrets = list(secret_keys or [])
    mocks = MotoMocks(emulator, region=config["aws:region"], account=account, on_step=on_step)
    try:
        graph = evaluate(
            stack, config=config, mocks=mocks, program=program, secret_keys=secrets, project_dir=project_dir
        )
    except ProgramFailedError as failure:
        partial = Deployment(stack, config, failure.graph, emulator, mocks, secrets, project_dir)
        # The SDK re-raises whichever failed registration it awaits first; the cause is the first to fail.
        cause = mocks.first_failure or failure.cause
        raise DeployFailedError(cause, partial) from cause
    return Deployment(stack, config, graph, emulator, mocks, secrets, project_dir)


def rerun(deployment: Deployment, program: Program | None = None) -> StackGraph:
    """The program run again against the deployment's state, as a second `pulumi up` would see it."""
    replay = ReplayMocks(deployment.graph, deployment.mocks)
    return evaluate(
        deployment.stack,
        config=deployment.config,
        mocks=replay,
        program=program,
        secret_keys=deployment.secret_keys,
        project_dir=deployment.project_dir,
    )


def changes(before: StackGraph, after: StackGraph) -> list[str]:
    """What a second `pulumi up` would change: resources added, removed, or with different inputs."""
    old = {resource.urn: resource for resource in before.resources}
    new = {resource.urn: resource for resource in after.resources}
    found = [f"+ {urn}" for urn in new.keys() - old.keys()] + [f"- {urn}" for urn in old.keys() - new.keys()]
    for urn in old.keys() & new.keys():
        differing = sorted(
            key
            for key in old[urn].inputs.keys() | new[urn].inputs.keys()
            if old[urn].inputs.get(key) != new[urn].inputs.get(key)
        )
        if differing:
            found.append(f"~ {urn}: {', '.join(differing)}")
    return sorted(found)


def _descendants(graph: StackGraph) -> dict[str, set[str]]:
    """Each component's custom resources, at any depth (a dependency on a component means on them)."""
    children: dict[str, list[str]] = {}
    for resource in graph.resources:
        children.setdefault(resource.parent, []).append(resource.urn)
    found: dict[str, set[str]] = {}

    def collect(urn: str) -> set[str]:
        if urn not in found:
            found[urn] = set()
            for child in children.get(urn, []):
                if graph.by_urn(child).custom:
                    found[urn].add(child)
                found[urn] |= collect(child)
        return found[urn]

    for component in graph.components():
        collect(component.urn)
    return found


def deletion_order(graph: StackGraph) -> list[RegisteredResource]:
    """Custom resources with every dependent before what it depends on, as `pulumi destroy` deletes.

    Edges come from the captured registrations: explicit dependencies, the resources each input
    was computed from, a custom parent and the provider. Among resources free to go at the same
    time, the later-created goes first.
    """
    custom = [resource for resource in graph.resources if resource.custom]
    urns = {resource.urn for resource in custom}
    components = _descendants(graph)

    def needs(resource: RegisteredResource) -> set[str]:
        direct = set(resource.dependencies)
        for urns_of_input in resource.property_dependencies.values():
            direct.update(urns_of_input)
        expanded = set().union(*(components.get(urn, {urn}) for urn in direct))
        # A custom parent outlives its children; a component parent only groups them.
        expanded |= {resource.parent, resource.provider.rpartition("::")[0]}
        return (expanded & urns) - {resource.urn}

    dependents: dict[str, set[str]] = {resource.urn: set() for resource in custom}
    for resource in custom:
        for dependency in needs(resource):
            dependents[dependency].add(resource.urn)
    position = {resource.urn: index for index, resource in enumerate(custom)}
    order: list[RegisteredResource] = []
    remaining = set(urns)
    while remaining:
        free = [urn for urn in remaining if not dependents[urn] & remaining]
        if not free:
            raise EmulatorError(f"dependency cycle among {sorted(remaining)}")
        chosen = max(free, key=position.__getitem__)
        order.append(graph.by_urn(chosen))
        remaining.remove(chosen)
    return order


class ProtectedResourcesError(EmulatorError):
    """`pulumi destroy` refused: the stack holds protected resources, and nothing was deleted."""

    def __init__(self, protected: list[RegisteredResource]) -> None:
        self.protected = protected
        # The engine's own words (pulumi/pulumi pkg/resource/deploy/step_generator.go), for the first one.
        urn = protected[0].urn
        super().__init__(
            f'resource "{urn}" cannot be deleted\nbecause it is protected. To unprotect the resource, either '
            "remove the `protect` flag from the resource in your Pulumi program and run `pulumi up`, or use the "
            f"command:\n`pulumi state unprotect '{urn}'`"
            + (
                f" ({len(protected) - 1} more protected: {', '.join(r.name for r in protected[1:])})"
                if protected[1:]
                else ""
            )
        )


def protected(graph: StackGraph) -> list[RegisteredResource]:
    """The custom resources `pulumi destroy` refuses to delete (the SDK copies a parent's protect to its children)."""
    return [resource for resource in graph.resources if resource.custom and resource.protect]


def retained(graph: StackGraph) -> list[RegisteredResource]:
    """The custom resources a destroy leaves in AWS: retainOnDelete set on them or on an ancestor.

    The engine, not the SDK, fills an unset retainOnDelete in from the parent; the captured request
    holds it as a plain bool, so an explicit False under a retained parent reads as retained here.
    """

    def kept(resource: RegisteredResource) -> bool:
        while True:
            if resource.retain_on_delete:
                return True
            if not resource.parent or resource.parent not in graph_urns:
                return False
            resource = graph.by_urn(resource.parent)

    graph_urns = {resource.urn for resource in graph.resources}
    return [resource for resource in graph.resources if resource.custom and kept(resource)]


def unprotect(deployment: Deployment) -> list[RegisteredResource]:
    """`pulumi state unprotect --all`: clear protect in the stack's state (AWS is untouched); what was protected."""
    found = protected(deployment.graph)
    for resource in found:
        resource.protect = False
    return found


RETAINED_NOTE = "retained: left in AWS, dropped from the stack (retainOnDelete)"


def destroy(deployment: Deployment, *, on_step: Progress = ignore_step) -> list[Step]:
    """Delete every resource through boto3, dependents first; return the steps taken.

    Like `pulumi destroy`: a protected resource anywhere in the stack refuses the whole destroy
    before anything is deleted (ProtectedResourcesError; `unprotect` first to go ahead), and a
    retained resource is not deleted from AWS.
    """
    refused = protected(deployment.graph)
    if refused:
        raise ProtectedResourcesError(refused)
    kept = {resource.urn for resource in retained(deployment.graph)}
    steps: list[Step] = []
    for resource in deletion_order(deployment.graph):
        started = time.perf_counter()
        note = ""
        if resource.is_provider:
            note = "nothing to delete"
        elif resource.urn in kept:
            note = RETAINED_NOTE
        else:
            translator = TRANSLATORS[resource.type]
            try:
                translator.delete(deployment.mocks.target_for(resource.provider), resource)
            except (ClientError, BotoCoreError) as error:
                raise EmulatorError(f"deleting {resource.type} {resource.name} failed: {describe(error)}") from error
            note = translator.placeholder
        step = Step("delete", resource.type, resource.name, (time.perf_counter() - started) * 1000, note)
        steps.append(step)
        on_step(step)
    return steps


@dataclass
class Inventory:
    """Everything of the kinds the program creates that exists in one region of the account."""

    items: dict[str, set[str]] = field(default_factory=dict)
    keys_pending_deletion: set[str] = field(default_factory=set)


def _every(client: Any, operation: str, key: str, **params: Any) -> list[Any]:
    if client.can_paginate(operation):
        return [item for page in client.get_paginator(operation).paginate(**params) for item in page.get(key, [])]
    return list(getattr(client, operation)(**params).get(key, []))


def take_inventory(emulator: Emulator, region: str, account: str | None = None) -> Inventory:
    """List, service by service, what a leftover of either program could be in `region` of `account`."""

    def client(service: str) -> Any:
        return emulator.client(service, region, account)

    iam, kms, events, sns = client("iam"), client("kms"), client("events"), client("sns")
    roles = [role["RoleName"] for role in _every(iam, "list_roles", "Roles")]
    rules = [rule["Name"] for rule in _every(events, "list_rules", "Rules")]
    keys = {
        key["KeyId"]: kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"] for key in _every(kms, "list_keys", "Keys")
    }
    customer_keys = {key_id: meta for key_id, meta in keys.items() if meta.get("KeyManager") == "CUSTOMER"}
    return Inventory(
        items={
            "s3 buckets": {bucket["Name"] for bucket in _every(client("s3"), "list_buckets", "Buckets")},
            "iam roles": set(roles),
            "iam role policies": {
                f"{role}:{policy}"
                for role in roles
                for policy in _every(iam, "list_role_policies", "PolicyNames", RoleName=role)
            },
            "iam attached policies": {
                f"{role}:{attached['PolicyArn']}"
                for role in roles
                for attached in _every(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role)
            },
            "kms keys": {key_id for key_id, meta in customer_keys.items() if meta["KeyState"] != "PendingDeletion"},
            "kms aliases": {
                alias["AliasName"]
                for alias in _every(kms, "list_aliases", "Aliases")
                if not alias["AliasName"].startswith("alias/aws/")
            },
            "logs log groups": {
                group["logGroupName"] for group in _every(client("logs"), "describe_log_groups", "logGroups")
            },
            "codebuild projects": set(_every(client("codebuild"), "list_projects", "projects")),
            "codepipeline pipelines": {
                pipeline["name"] for pipeline in _every(client("codepipeline"), "list_pipelines", "pipelines")
            },
            "sns topics": {topic["TopicArn"] for topic in _every(sns, "list_topics", "Topics")},
            "sns subscriptions": {
                subscription["SubscriptionArn"] for subscription in _every(sns, "list_subscriptions", "Subscriptions")
            },
            "iam policies": {policy["Arn"] for policy in _every(iam, "list_policies", "Policies", Scope="Local")},
            "iam oidc providers": {
                provider["Arn"]
                for provider in _every(iam, "list_open_id_connect_providers", "OpenIDConnectProviderList")
            },
            "secretsmanager secrets": {
                secret["ARN"] for secret in _every(client("secretsmanager"), "list_secrets", "SecretList")
            },
            "events rules": set(rules),
            "events targets": {
                f"{rule}:{entry['Id']}"
                for rule in rules
                for entry in _every(events, "list_targets_by_rule", "Targets", Rule=rule)
            },
        },
        keys_pending_deletion={
            key_id for key_id, meta in customer_keys.items() if meta["KeyState"] == "PendingDeletion"
        },
    )


def leftovers(after: Inventory, before: Inventory) -> dict[str, set[str]]:
    """What exists now that did not before, by kind; empty lists everywhere means nothing is left."""
    new = {kind: names - before.items.get(kind, set()) for kind, names in after.items.items()}
    return {kind: names for kind, names in new.items() if names}
