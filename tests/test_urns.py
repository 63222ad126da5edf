"""A deployed stack must update in place: the shipped stacks keep every URN and fixed physical name.

tests/fixtures/urns/<stack>.json holds what the dev and prod stacks registered before components took
typed args (issue 10). A URN that changes makes `pulumi up` create the new resource and delete the old
one; where the resource has a fixed physical name (a log group, the key alias, the connection), the
create fails with AlreadyExists instead, since the old one still holds the name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.capture import RegisteredResource, StackGraph

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "urns"
STACKS = ("dev", "prod")


def fixture(stack: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / f"{stack}.json").read_text())
    return document


def naming_input(resource: RegisteredResource) -> str:
    """The input that holds a resource's physical name; left out, Pulumi derives the name from the URN's."""
    return "bucket" if resource.type == "aws:s3/bucket:Bucket" else "name"


def fixed_names(graph: StackGraph) -> dict[str, str]:
    """URN -> physical name, for each cloud resource whose name the program sets itself."""
    return {
        resource.urn: resource.inputs[naming_input(resource)]
        for resource in graph.custom()
        if naming_input(resource) in resource.inputs
    }


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def graph(request: pytest.FixtureRequest, stack: str) -> StackGraph:
    """The session's evaluation of `stack` (tests/conftest.py)."""
    evaluated: StackGraph = request.getfixturevalue(f"{stack}_graph")
    return evaluated


def test_the_fixtures_are_the_shipped_stacks(stack: str) -> None:
    """Not vacuous: each fixture names every kind of resource, on its own stack, with the fixed names."""
    expected = fixture(stack)
    assert all(urn.startswith(f"urn:pulumi:{stack}::cicd-pipeline::") for urn in expected["urns"])
    assert len(expected["urns"]) >= 40
    assert set(expected["fixedNames"]) <= set(expected["urns"])
    assert len(expected["fixedNames"]) == 4


def test_the_stack_registers_exactly_the_deployed_urns(stack: str, graph: StackGraph) -> None:
    registered = [resource.urn for resource in graph.resources]
    expected = set(fixture(stack)["urns"])
    assert len(registered) == len(set(registered)), "a URN registered twice"
    assert {
        "new (created on the next update)": sorted(set(registered) - expected),
        "gone (deleted on the next update)": sorted(expected - set(registered)),
    } == {"new (created on the next update)": [], "gone (deleted on the next update)": []}


def test_fixed_physical_names_stay_the_same(stack: str, graph: StackGraph) -> None:
    assert fixed_names(graph) == fixture(stack)["fixedNames"]
