"""Shared fixtures: the dev and prod stacks, evaluated once each under the mock runtime."""

from __future__ import annotations

import pytest

from harness.capture import StackGraph, evaluate


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
