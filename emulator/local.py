"""One local run: deploy a stack into a fresh emulator, verify it, (keep it,) destroy it, take stock.

`make local` runs `run_locally` with a printing reporter (emulator/cli.py); a benchmark calls
`run(stack)` and gets the timings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from emulator.backend import Emulator
from emulator.errors import EmulatorError
from emulator.lifecycle import (
    DeployFailedError,
    Deployment,
    Inventory,
    deploy,
    destroy,
    leftovers,
    take_inventory,
)
from emulator.mocks import Step
from emulator.verify import Result, failures, verify
from harness.stack_config import stack_config


@dataclass(frozen=True)
class Timings:
    """Milliseconds spent in each phase of one run."""

    deploy: float
    verify: float
    destroy: float


@dataclass(frozen=True)
class Outcome:
    timings: Timings
    results: list[Result]
    left: dict[str, set[str]]
    keys_pending_deletion: int

    @property
    def ok(self) -> bool:
        return not failures(self.results) and not self.left


class Reporter:
    """Told about each phase as it happens; this one stays silent (benchmarks, tests)."""

    def started(self, emulator: Emulator, stack: str, region: str) -> None:
        pass

    def step(self, step: Step) -> None:
        pass

    def deploy_failed(self, failure: DeployFailedError) -> None:
        pass

    def deployed(self, deployment: Deployment, milliseconds: float) -> None:
        pass

    def verified(self, results: list[Result], milliseconds: float) -> None:
        pass

    def keep(self, emulator: Emulator, deployment: Deployment) -> None:
        """Called with the emulator still up when the user asked to keep it; returns when they are done."""

    def destroying(self) -> None:
        pass

    def destroyed(self, steps: list[Step], milliseconds: float) -> None:
        pass

    def stock_taken(self, before: Inventory, after: Inventory, left: dict[str, set[str]]) -> None:
        pass


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _destroy_and_take_stock(
    emulator: Emulator, deployment: Deployment, before: Inventory, reporter: Reporter
) -> tuple[float, Inventory, dict[str, set[str]]]:
    reporter.destroying()
    started = time.perf_counter()
    steps = destroy(deployment, on_step=reporter.step)
    milliseconds = _since(started)
    reporter.destroyed(steps, milliseconds)
    after = take_inventory(emulator, deployment.region)
    left = leftovers(after, before)
    reporter.stock_taken(before, after, left)
    return milliseconds, after, left


def run_locally(stack: str = "dev", *, reporter: Reporter | None = None, keep: bool = False, port: int = 0) -> Outcome:
    """Deploy `stack` into a fresh emulator, verify it, destroy it, and show what is left.

    `keep` serves the emulator on 127.0.0.1 (`port`, 0 for any free one) and lets the reporter
    hold it up before the destroy. If the deployment fails, what was created is destroyed and
    DeployFailedError is raised.
    """
    reporter = reporter or Reporter()
    region = stack_config(stack)["aws:region"]
    with Emulator(server=keep, port=port) as emulator:
        before = take_inventory(emulator, region)
        reporter.started(emulator, stack, region)
        started = time.perf_counter()
        try:
            deployment = deploy(emulator, stack, on_step=reporter.step)
        except DeployFailedError as failure:
            reporter.deploy_failed(failure)
            _destroy_and_take_stock(emulator, failure.partial, before, reporter)
            raise
        deploy_ms = _since(started)
        reporter.deployed(deployment, deploy_ms)

        started = time.perf_counter()
        results = verify(deployment)
        verify_ms = _since(started)
        reporter.verified(results, verify_ms)

        if keep:
            reporter.keep(emulator, deployment)
        destroy_ms, after, left = _destroy_and_take_stock(emulator, deployment, before, reporter)
    return Outcome(
        timings=Timings(deploy=deploy_ms, verify=verify_ms, destroy=destroy_ms),
        results=results,
        left=left,
        keys_pending_deletion=len(after.keys_pending_deletion - before.keys_pending_deletion),
    )


def run(stack: str = "dev") -> Timings:
    """Deploy, verify and destroy `stack` silently in a fresh in-process emulator; its timings.

    For benchmarks: raises EmulatorError if a check fails or anything is left behind, so a broken
    run is never timed as a good one.
    """
    outcome = run_locally(stack)
    if not outcome.ok:
        raise EmulatorError(f"the {stack} run was not clean: {failures(outcome.results)}, left behind {outcome.left}")
    return outcome.timings
