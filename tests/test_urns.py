"""A deployed stack must update in place: the shipped stacks keep every URN and fixed physical name.

tests/fixtures/urns/<stack>.json holds what the dev and prod stacks registered before components took
typed args (issue 10). A URN that changes makes `pulumi up` create the new resource and delete the old
one; where the resource has a fixed physical name (a log group, the key alias, the connection), the
create fails with AlreadyExists instead, since the old one still holds the name.

A resource may still move (a new name or parent) if it declares an alias to its old URN: the engine
then updates the old resource in place. The checks read the aliases from the RegisterResource
requests, as the engine gets them, so a declared alias counts and an intended one does not. Today no
resource of the shipped stacks needs one (pipeline/services.py: the services are composed flat so
that the one pipeline of a stack without `services` keeps its URNs).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pulumi
import pulumi_aws as aws
import pytest

from harness import capture
from harness.capture import RecordingMonitor, RegisteredResource, StackGraph, evaluate

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "urns"
STACKS = ("dev", "prod")

# URN -> the URNs it declares as its aliases (its earlier URNs).
Aliases = dict[str, list[str]]


def fixture(stack: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / f"{stack}.json").read_text())
    return document


def _qualified_type(urn: str) -> str:
    """`urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>` -> `<parent type>$<type>`."""
    return urn.split("::")[2]


def alias_urn(alias: Any, request: Any, urn: str) -> str:
    """The URN an alias of a RegisterResource request stands for.

    An alias is a URN, or a spec whose unset fields keep the resource's own name, type, stack, project
    and parent; a URN's type is prefixed with its parent's type, as the monitor builds it
    (pulumi.runtime.mocks.MockMonitor.make_urn, which the fixtures were taken with).
    """
    if alias.urn:
        return str(alias.urn)
    spec = alias.spec
    own_stack, own_project = urn.split("::")[:2]
    own_stack = own_stack.removeprefix("urn:pulumi:")
    if spec.noParent:
        parent = ""
    elif spec.parentUrn:
        parent = spec.parentUrn
    else:
        parent = request.parent
    type_ = spec.type or request.type
    if parent:
        type_ = _qualified_type(parent).split("$")[-1] + "$" + type_
    return f"urn:pulumi:{spec.stack or own_stack}::{spec.project or own_project}::{type_}::{spec.name or request.name}"


@contextmanager
def recording_aliases() -> Iterator[Aliases]:
    """While open, every evaluation also records each registration's declared aliases (harness.capture's
    monitor keeps the rest of the request)."""
    aliases: Aliases = {}

    class AliasRecordingMonitor(RecordingMonitor):
        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
            response = super().RegisterResource(request)
            aliases[response.urn] = [alias_urn(alias, request, response.urn) for alias in request.aliases]
            return response

    with mock.patch.object(capture, "RecordingMonitor", AliasRecordingMonitor):
        yield aliases


@functools.cache
def evaluated(stack: str) -> tuple[StackGraph, Aliases]:
    """`stack` evaluated once, with the aliases its resources declare."""
    with recording_aliases() as aliases:
        return evaluate(stack), aliases


def naming_input(resource: RegisteredResource) -> str:
    """The input that holds a resource's physical name; left out, Pulumi derives the name from the URN's."""
    return "bucket" if resource.type == "aws:s3/bucket:Bucket" else "name"


def earlier_urn(urn: str, aliases: Aliases, deployed: set[str]) -> str:
    """The deployed URN this resource takes over: its own, or the one a declared alias names."""
    if urn in deployed:
        return urn
    return next((alias for alias in aliases.get(urn, []) if alias in deployed), urn)


def fixed_names(graph: StackGraph, aliases: Aliases, deployed: set[str]) -> dict[str, str]:
    """Deployed URN -> physical name, for each cloud resource whose name the program sets itself."""
    return {
        earlier_urn(resource.urn, aliases, deployed): resource.inputs[naming_input(resource)]
        for resource in graph.custom()
        if naming_input(resource) in resource.inputs
    }


def update_plan(graph: StackGraph, aliases: Aliases, deployed: set[str]) -> dict[str, list[str]]:
    """What `pulumi up` would do to a stack holding `deployed`, besides updating in place."""
    registered = [resource.urn for resource in graph.resources]
    taken_over = {earlier_urn(urn, aliases, deployed) for urn in registered}
    return {
        "new (created on the next update)": sorted(
            urn for urn in registered if earlier_urn(urn, aliases, deployed) == urn and urn not in deployed
        ),
        "gone (deleted on the next update)": sorted(deployed - taken_over),
    }


NOTHING_TO_CREATE_OR_DELETE: dict[str, list[str]] = {
    "new (created on the next update)": [],
    "gone (deleted on the next update)": [],
}

# Resources added since the fixtures were taken: the next `pulumi up` creates them beside the deployed
# ones, and nothing deployed moves. Issue 12: the Build step's test report group (pipeline/reports.py),
# and the rule and target that alert on a failed action (pipeline/notifications.py).
ADDED_SINCE_THE_FIXTURES = (
    "cicd:codebuild:BuildProject$cicd:codebuild:TestReports::cicd-{stack}-build-reports",
    "cicd:codebuild:TestReports$aws:codebuild/reportGroup:ReportGroup::cicd-{stack}-build-reports-tests",
    "cicd:notifications:FailureAlert$aws:cloudwatch/eventRule:EventRule::cicd-{stack}-action-failed",
    "cicd:notifications:FailureAlert$aws:cloudwatch/eventTarget:EventTarget::cicd-{stack}-action-failed-to-topic",
)


def added_since_the_fixtures(stack: str) -> list[str]:
    return sorted(
        f"urn:pulumi:{stack}::cicd-pipeline::" + each.format(stack=stack) for each in ADDED_SINCE_THE_FIXTURES
    )


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def test_the_fixtures_are_the_shipped_stacks(stack: str) -> None:
    """Not vacuous: each fixture names every kind of resource, on its own stack, with the fixed names."""
    expected = fixture(stack)
    assert all(urn.startswith(f"urn:pulumi:{stack}::cicd-pipeline::") for urn in expected["urns"])
    assert len(expected["urns"]) >= 40
    assert set(expected["fixedNames"]) <= set(expected["urns"])
    assert len(expected["fixedNames"]) == 4


def test_the_stack_registers_exactly_the_deployed_urns_or_their_aliases(stack: str) -> None:
    graph, aliases = evaluated(stack)
    registered = [resource.urn for resource in graph.resources]
    assert len(registered) == len(set(registered)), "a URN registered twice"
    assert update_plan(graph, aliases, set(fixture(stack)["urns"])) == {
        **NOTHING_TO_CREATE_OR_DELETE,
        "new (created on the next update)": added_since_the_fixtures(stack),
    }


def test_no_resource_relies_on_an_alias_today(stack: str) -> None:
    """The services are composed flat (pipeline/services.py), so the one pipeline keeps its URNs as they
    were. (pulumi-aws declares type aliases of its own, such as BucketV2 -> Bucket; those are no move.)"""
    graph, _ = evaluated(stack)
    assert sorted({resource.urn for resource in graph.resources} - set(fixture(stack)["urns"])) == (
        added_since_the_fixtures(stack)
    )


def test_fixed_physical_names_stay_the_same(stack: str) -> None:
    graph, aliases = evaluated(stack)
    assert fixed_names(graph, aliases, set(fixture(stack)["urns"])) == fixture(stack)["fixedNames"]


# --- The check itself: an alias is what lets a resource move -------------------------------------

OLD_TOPIC = "urn:pulumi:dev::cicd-pipeline::pulumi:pulumi:Stack$aws:sns/topic:Topic::alerts"


def topic_program(name: str, aliases: list[pulumi.Alias] | None = None) -> Callable[[], None]:
    def program() -> None:
        aws.sns.Topic(name, opts=pulumi.ResourceOptions(aliases=aliases))

    return program


@pytest.mark.parametrize(
    ("program", "plan"),
    [
        pytest.param(topic_program("alerts"), NOTHING_TO_CREATE_OR_DELETE, id="unchanged"),
        pytest.param(
            topic_program("alerts-topic", [pulumi.Alias(name="alerts")]),
            NOTHING_TO_CREATE_OR_DELETE,
            id="renamed with an alias",
        ),
        pytest.param(
            topic_program("alerts-topic"),
            {
                "new (created on the next update)": [OLD_TOPIC.replace("::alerts", "::alerts-topic")],
                "gone (deleted on the next update)": [OLD_TOPIC],
            },
            id="renamed without one",
        ),
    ],
)
def test_a_moved_resource_updates_in_place_only_with_a_declared_alias(
    program: Callable[[], None], plan: dict[str, list[str]]
) -> None:
    with recording_aliases() as aliases:
        graph = evaluate("dev", program=program)
    topics = [resource for resource in graph.resources if resource.type == "aws:sns/topic:Topic"]
    assert update_plan(StackGraph(topics, {}, []), aliases, {OLD_TOPIC}) == plan
