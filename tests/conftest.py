"""Shared fixtures: the dev and prod stacks, evaluated once each under the mock runtime."""

from __future__ import annotations

import os

import pytest

from harness.capture import StackGraph, evaluate
from harness.samples import SAMPLE_EVENTS

# .ci/run sets this: there the shared samples must be present, and a missing folder fails.
REQUIRE_SHARED = "CICD_REQUIRE_SHARED_EVENTS"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `sample_events` read ../shared/events; skip them where it is not beside the project."""
    if item.get_closest_marker("sample_events") is None or SAMPLE_EVENTS.is_dir():
        return
    message = f"the shared sample events are not at {SAMPLE_EVENTS}"
    if os.environ.get(REQUIRE_SHARED):
        pytest.fail(message)
    pytest.skip(message + " (a clone outside the team's workspace, e.g. a GitHub runner)")


@pytest.fixture(scope="session")
def dev_graph() -> StackGraph:
    return evaluate("dev")


@pytest.fixture(scope="session")
def prod_graph() -> StackGraph:
    return evaluate("prod")


@pytest.fixture(scope="session", params=["dev", "prod"])
def stack_graph(request: pytest.FixtureRequest, dev_graph: StackGraph, prod_graph: StackGraph) -> StackGraph:
    """Each shipped stack in turn."""
    return dev_graph if request.param == "dev" else prod_graph
