"""Shared fixtures: the dev and prod stacks, evaluated once each under the mock runtime."""

from __future__ import annotations

import logging

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


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Keep the failure cases' leftover futures quiet when the process exits.

    Evaluations that fail on purpose leave futures whose exception nobody reads; asyncio logs each one
    when it is garbage-collected. During a test pytest captures that, but a pytest-xdist worker collects
    the last of them at exit, after every result is in, and would print hundreds of tracebacks.
    """
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
