"""How a stack of N services grows: its resources, its evaluation time and its idle cost, for `make bench`.

A stack holds what every service shares (key, artifact store, topic, boundary, connection, the
failure alerts' topic policy) and one set of resources per service (pipeline/services.py), so its
size should be `shared + N x per-service` at every N. `compose` reads that split off one graph,
by the service each resource's logical name carries (`cicd-dev-svc07-build`), with no list of types:
a resource whose name carries no service is shared. `linearity_failures` then holds the graphs of
several N to the line through the smallest one, so a resource that appears once per pair of
services, or a shared one that starts repeating, shows up as a broken row.

The idle cost of N services (`idle_cost`) has three parts, all priced by the registry
(harness/resource_types.py) except the stored state:
- the pipeline stack: its one customer-managed key, whatever N is;
- the bootstrap that holds the services' state (bootstrap/): its state bucket and secrets key,
  priced from its own graph. One bootstrap per target account and region; here all N services
  deploy into one account, as the platform example's do;
- what that bucket stores: one Pulumi stack per service (its `deployStack`), under the assumptions
  of `StateModel` below. Requests are not counted: an idle stack makes none.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.costs import CostLine, itemise, total
from harness.capture import RegisteredResource, StackGraph, evaluate
from harness.resource_types import KMS_PRICING, S3_PRICING, S3_STANDARD_GB_MONTH
from harness.stack_config import BOOTSTRAP_DIR
from pipeline.settings import max_service_name_length
from tools.diagram import type_label

SCALES = (1, 10, 50)
# The shipped dev stack, its one implicit service replaced by N named ones.
SCALE_STACK = "dev"
SCALE_ENVIRONMENT = "dev"
MONOREPO = "my-org/monorepo"


# --- N services, configured as a platform team would ------------------------------------------


def service_name(index: int, environment: str = SCALE_ENVIRONMENT) -> str:
    """`svc00`, `svc01`, ...: short, lower case, and within the room the settings leave for `environment`."""
    name = f"svc{index:02d}"
    room, _limit = max_service_name_length(environment)
    if len(name) > room:
        raise ValueError(f"service name {name!r} is longer than the {room} characters {environment!r} leaves room for")
    return name


def services_config(count: int) -> list[dict[str, Any]]:
    """`count` services of one monorepo, each starting on its own folder (and shared libs/) and deploying its stack."""
    services: list[dict[str, Any]] = []
    for index in range(count):
        name = service_name(index)
        services.append(
            {
                "name": name,
                "repository": MONOREPO,
                "paths": [f"services/{name}/**", "libs/**"],
                "directory": f"services/{name}",
                "deployStack": f"{name}-{SCALE_ENVIRONMENT}",
            }
        )
    return services


def scale_overrides(count: int) -> dict[str, Any]:
    """The dev stack's config with `services` in place of its single `repository`."""
    return {"repository": None, "services": services_config(count)}


def evaluate_services(count: int) -> StackGraph:
    return evaluate(SCALE_STACK, scale_overrides(count))


def evaluate_bootstrap() -> StackGraph:
    """The bootstrap that holds the services' state, for the same account and region as the dev stack."""
    return evaluate(SCALE_STACK, project_dir=BOOTSTRAP_DIR)


# --- shared + N x per-service ------------------------------------------------------------------


class AmbiguousServiceError(ValueError):
    """A resource's name carries two services' names, so it cannot be counted for one of them."""


def service_of(resource: RegisteredResource, services: Sequence[str]) -> str | None:
    """The service whose name is a whole `-`-separated part of the resource's logical name, or None if shared."""
    parts = f"-{resource.name}-"
    owners = [service for service in services if f"-{service}-" in parts]
    if len(owners) > 1:
        raise AmbiguousServiceError(f"{resource.name} carries the names of services {owners}")
    return owners[0] if owners else None


@dataclass(frozen=True)
class Composition:
    """One graph's resources (of one kind: AWS resources, or every registration) split by owner."""

    services: int
    total: int
    shared: int
    # What each service owns, in the order the services are configured.
    per_service: tuple[int, ...]

    @property
    def uniform_per_service(self) -> int | None:
        """The one per-service count if every service owns as many resources, else None."""
        counts = set(self.per_service)
        return counts.pop() if len(counts) == 1 else None


def compose(resources: Iterable[RegisteredResource], services: Sequence[str]) -> Composition:
    owned = dict.fromkeys(services, 0)
    shared = 0
    for resource in resources:
        owner = service_of(resource, services)
        if owner is None:
            shared += 1
        else:
            owned[owner] += 1
    per_service = tuple(owned[service] for service in services)
    return Composition(len(services), shared + sum(per_service), shared, per_service)


def configured_services(graph: StackGraph) -> list[str]:
    """The services a stack built pipelines for, as it exports them (a stack with `services` exports each)."""
    return list(graph.exports["services"])


def per_service_types(graph: StackGraph) -> Counter[str]:
    """What the first service owns among the AWS resources, by type label: what one more service adds."""
    services = configured_services(graph)
    return Counter(type_label(r.type) for r in graph.custom() if service_of(r, services) == services[0])


@dataclass(frozen=True)
class Footprint:
    """What a stack of N services registered: its AWS resources and all its registrations."""

    aws: Composition
    registrations: Composition

    @property
    def services(self) -> int:
        return self.aws.services


def footprint(graph: StackGraph) -> Footprint:
    services = configured_services(graph)
    return Footprint(aws=compose(graph.custom(), services), registrations=compose(graph.resources, services))


def linearity_failures(compositions: Sequence[Composition]) -> list[str]:
    """Why `total == shared + N x per-service` fails, with shared and per-service read off the smallest N.

    Empty when it holds for every composition. Each service must own as many resources as every
    other, and every N must land on the line through the smallest.
    """
    if not compositions:
        return ["no stack measured"]
    failures = [
        f"N={each.services}: services own different counts {sorted(set(each.per_service))}"
        for each in compositions
        if each.uniform_per_service is None
    ]
    reference = min(compositions, key=lambda each: each.services)
    per_service = reference.uniform_per_service
    if per_service is None:
        return failures
    for each in compositions:
        expected = reference.shared + each.services * per_service
        if each.total != expected:
            failures.append(
                f"N={each.services}: {each.total} != {reference.shared} + {each.services} x {per_service} = {expected} "
                f"(shared {each.shared}, per service {sorted(set(each.per_service))})"
            )
    return failures


# --- what the state bucket stores --------------------------------------------------------------

S3_VERSIONING = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html"
# Where the DIY backend writes a stack's checkpoint (`saveCheckpoint`: <stack>.json, backed up to
# <stack>.json.bak before each write) and, per update, a history record with a full copy of the
# checkpoint (`addToHistory`: <stack>-<time>.checkpoint.json).
PULUMI_DIY_STATE = "https://github.com/pulumi/pulumi/blob/master/pkg/backend/diy/state.go"
# AWS bills storage per GB-month of 2^30 bytes.
BYTES_PER_GB = 2**30
# Assumptions, not measurements (the README's benchmarks section states them):
# - a service's stack is as large as this program's one-service stack (about 27 AWS resources);
# - over its life it has had ASSUMED_UPDATES updates (twice a week for a year);
# - each update leaves COPIES_PER_UPDATE full copies of its checkpoint behind: the history copy, and
#   the noncurrent versions of <stack>.json and <stack>.json.bak from at least two saves (the bucket
#   is versioned, and S3 bills every version: S3_VERSIONING). The bucket has no lifecycle rule, so
#   none of them ever expires;
# - the two current objects, <stack>.json and <stack>.json.bak, are full copies too.
ASSUMED_UPDATES = 100
COPIES_PER_UPDATE = 5
CURRENT_COPIES = 2


def checkpoint_bytes(graph: StackGraph) -> int:
    """The size of the graph as a Pulumi checkpoint would hold it: each resource's identity, inputs, outputs, edges.

    Compact JSON, as the DIY backend writes it (state.go's compactJSONMarshaler), of the fields of
    a checkpoint's resource entries (apitype.ResourceV3).
    """
    entries = [
        {
            "urn": resource.urn,
            "custom": resource.custom,
            "id": resource.id,
            "type": resource.type,
            "inputs": resource.inputs,
            "outputs": resource.outputs,
            "parent": resource.parent,
            "provider": resource.provider,
            "dependencies": resource.dependencies,
            "propertyDependencies": resource.property_dependencies,
            "protect": resource.protect,
        }
        for resource in graph.resources
    ]
    document = {"version": 3, "checkpoint": {"latest": {"resources": entries}}}
    return len(json.dumps(document, separators=(",", ":"), default=str).encode())


@dataclass(frozen=True)
class StateModel:
    """What the state bucket holds for each service's stack, and what S3 charges for it."""

    stack_bytes: int
    updates: int = ASSUMED_UPDATES
    copies_per_update: int = COPIES_PER_UPDATE
    usd_per_gb_month: float = S3_STANDARD_GB_MONTH

    @property
    def copies_per_stack(self) -> int:
        return CURRENT_COPIES + self.updates * self.copies_per_update

    def stored_bytes(self, stacks: int) -> int:
        return stacks * self.stack_bytes * self.copies_per_stack

    def monthly_usd(self, stacks: int) -> float:
        return self.stored_bytes(stacks) / BYTES_PER_GB * self.usd_per_gb_month

    def explain(self, stacks: int) -> str:
        """The sum for `stacks` stacks, and the assumptions behind it."""
        stored = self.stored_bytes(stacks) / 2**20
        size = f"{self.stack_bytes / 1024:.0f} KB"
        return (
            f"state stored: the state bucket holds one Pulumi stack per service; for {stacks}: {stacks} x {size} x "
            f"{self.copies_per_stack} copies = {stored:,.1f} MB at ${self.usd_per_gb_month}/GB-month (S3 Standard) "
            f"= ${self.monthly_usd(stacks):.4f}. Assumed: a service's stack is as large as this program's one-service "
            f"stack ({size} of checkpoint JSON, measured) and keeps {self.copies_per_stack} full copies: <stack>.json "
            f"and .json.bak, and for each of {self.updates} updates {self.copies_per_update} more (a history copy, and "
            "the noncurrent versions of both from two saves: the bucket is versioned and has no lifecycle rule, and S3 "
            "bills every version). An idle stack makes no requests. The pipeline stack's own state lives wherever its "
            "operator logs in, and is not counted."
        )


# --- idle cost of N services ----------------------------------------------------------------


@dataclass(frozen=True)
class IdleCost:
    """The monthly idle cost of N services: (now, once the keys' rotations are billed) for each part."""

    services: int
    pipeline: tuple[float, float]
    bootstrap: tuple[float, float]
    state_storage: float
    # The billed resources of each stack, by type label: what its idle cost is made of.
    pipeline_billed: tuple[str, ...]
    bootstrap_billed: tuple[str, ...]

    @property
    def total(self) -> tuple[float, float]:
        return (
            self.pipeline[0] + self.bootstrap[0] + self.state_storage,
            self.pipeline[1] + self.bootstrap[1] + self.state_storage,
        )


def billed(lines: Iterable[CostLine]) -> tuple[str, ...]:
    """The type labels (`aws.kms.Key`) of the lines that cost anything, now or later."""
    return tuple(sorted(type_label(line.type) for line in lines if line.price.eventually))


def idle_cost(
    services: int,
    pipeline_graph: StackGraph,
    bootstrap_graph: StackGraph,
    state: StateModel,
) -> IdleCost:
    pipeline_lines, bootstrap_lines = itemise(pipeline_graph), itemise(bootstrap_graph)
    return IdleCost(
        services=services,
        pipeline=total(pipeline_lines),
        bootstrap=total(bootstrap_lines),
        state_storage=state.monthly_usd(services),
        pipeline_billed=billed(pipeline_lines),
        bootstrap_billed=billed(bootstrap_lines),
    )


def cost_failures(costs: Sequence[IdleCost]) -> list[str]:
    """Why the pipeline stack's idle cost is not the same at every N (it should be its one key)."""
    if not costs:
        return []
    first = costs[0]
    return [
        f"N={each.services}: the pipeline stack bills {list(each.pipeline_billed)} "
        f"(${each.pipeline[0]:.2f}/${each.pipeline[1]:.2f}), at N={first.services} "
        f"{list(first.pipeline_billed)} (${first.pipeline[0]:.2f}/${first.pipeline[1]:.2f})"
        for each in costs[1:]
        if (each.pipeline, each.pipeline_billed) != (first.pipeline, first.pipeline_billed)
    ]


PRICE_SOURCES = (KMS_PRICING, S3_PRICING, S3_VERSIONING, PULUMI_DIY_STATE)
