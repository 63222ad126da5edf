"""Shared fixtures: the dev and prod stacks, evaluated once each under the mock runtime."""

from __future__ import annotations

import gc
import logging

import pytest

from harness.capture import StackGraph, evaluate_once


@pytest.fixture(scope="session")
def dev_graph() -> StackGraph:
    return evaluate_once("dev")


@pytest.fixture(scope="session")
def prod_graph() -> StackGraph:
    return evaluate_once("prod")


@pytest.fixture(scope="session", params=["dev", "prod"])
def stack_graph(request: pytest.FixtureRequest, dev_graph: StackGraph, prod_graph: StackGraph) -> StackGraph:
    """Each shipped stack in turn."""
    return dev_graph if request.param == "dev" else prod_graph


# Young-generation size between collections: 700 by default. Each evaluation allocates a few hundred
# thousand short-lived objects (futures, tasks, outputs), so the default collected hundreds of times
# per evaluation, and each older-generation pass walked every module, botocore model and moto backend
# loaded so far.
YOUNG_OBJECTS_BETWEEN_COLLECTIONS = 100_000


def pytest_collection_finish(session: pytest.Session) -> None:
    """Take what importing and collecting built out of the collector's reach, and collect less often.

    Everything alive now (pulumi, pulumi_aws, moto, botocore, the test modules) lives until the
    process ends: gc.freeze() moves it to a generation no collection walks. Cycles made later are
    still collected, at larger intervals; the suite's peak memory stays under a gigabyte per worker.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS_BETWEEN_COLLECTIONS, 50, 1000)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Keep the failure cases' leftover futures quiet when the process exits.

    Evaluations that fail on purpose leave futures whose exception nobody reads; asyncio logs each one
    when it is garbage-collected. During a test pytest captures that, but a pytest-xdist worker collects
    the last of them at exit, after every result is in, and would print hundreds of tracebacks.
    """
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
