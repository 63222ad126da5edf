"""Deploy the real program into the emulator, destroy it in reverse dependency order, take stock."""

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
from harness.capture import PROGRAM, ProgramFailedError, RegisteredResource, StackGraph, evaluate
from harness.stack_config import stack_config

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

    @property
    def region(self) -> str:
        return self.config["aws:region"]

    @property
    def outputs(self) -> dict[str, Any]:
        return self.graph.exports

    def client(self, service: str) -> Any:
        return self.emulator.client(service, self.region)


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
    overrides: Mapping[str, Any] | None = None,
    secret_keys: list[str] | None = None,
    program: Program = PROGRAM,
    on_step: Progress = ignore_step,
) -> Deployment:
    """Run `program` for `stack`, creating each resource in the emulator as its inputs resolve.

    Raises DeployFailedError if the program or a creation fails; its `partial` deployment holds
    what was created, for `destroy`.
    """
    config = stack_config(stack, overrides)
    secrets = list(secret_keys or [])
    mocks = MotoMocks(emulator, region=config["aws:region"], on_step=on_step)
    try:
        graph = evaluate(stack, config=config, mocks=mocks, program=program, secret_keys=secrets)
    except ProgramFailedError as failure:
        partial = Deployment(stack, config, failure.graph, emulator, mocks, secrets)
        # The SDK re-raises whichever failed registration it awaits first; the cause is the first to fail.
        cause = mocks.first_failure or failure.cause
        raise DeployFailedError(cause, partial) from cause
    return Deployment(stack, config, graph, emulator, mocks, secrets)


def rerun(deployment: Deployment, program: Program = PROGRAM) -> StackGraph:
    """The program run again against the deployment's state, as a second `pulumi up` would see it."""
    replay = ReplayMocks(deployment.graph, deployment.mocks)
    return evaluate(
        deployment.stack,
        config=deployment.config,
        mocks=replay,
        program=program,
        secret_keys=deployment.secret_keys,
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


def destroy(deployment: Deployment, *, on_step: Progress = ignore_step) -> list[Step]:
    """Delete every resource through boto3, dependents first; return the steps taken."""
    steps: list[Step] = []
    for resource in deletion_order(deployment.graph):
        started = time.perf_counter()
        note = ""
        if resource.is_provider:
            note = "nothing to delete"
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


def take_inventory(emulator: Emulator, region: str) -> Inventory:
    """List, service by service, what a leftover of this program could be."""

    def client(service: str) -> Any:
        return emulator.client(service, region)

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
