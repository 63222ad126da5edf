"""One local run: the bootstrap and then the pipeline deployed into a fresh emulator, verified, destroyed.

`make local` runs `run_locally` with a printing reporter (emulator/cli.py); a benchmark calls
`run(stack)` and gets the timings.

Which account each program goes into comes from the two stack files, as it would for an
administrator: the bootstrap into the target account the pipeline stack's `deployRoleArn` names,
the pipeline into the account the bootstrap's `pipelineAccountId` names (empty: the same one).
For dev both are moto's default account 123456789012; for prod the bootstrap goes into
210987654321 and the pipeline into 123456789012, two accounts of one emulator
(emulator/backend.py), so the prod run shows the cross-account wiring: the pipeline's step roles
in one account admitted by the bootstrap's roles in the other.

The bootstrap protects its state bucket and key (pipeline/state_backend.py), so its
`pulumi destroy` is refused before anything is deleted; the run shows that refusal, then does what
an administrator tearing a bootstrap down must do on purpose, `pulumi state unprotect --all`, and
destroys it. A retained resource (retainOnDelete) would stay in AWS: it is listed as retained, not
as left behind.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from emulator.backend import Emulator
from emulator.errors import EmulatorError
from emulator.lifecycle import (
    DeployFailedError,
    Deployment,
    Inventory,
    ProtectedResourcesError,
    deploy,
    destroy,
    leftovers,
    retained,
    take_inventory,
    unprotect,
)
from emulator.mocks import Step
from emulator.resources import TRANSLATORS
from emulator.verify import CHECKS, Result, failures, verify
from emulator.verify_bootstrap import BOOTSTRAP_CHECKS, link_checks
from harness.capture import RegisteredResource
from harness.stack_config import BOOTSTRAP_DIR, PROJECT_DIR, stack_config

BOOTSTRAP = "bootstrap"
PIPELINE = "pipeline"


@dataclass(frozen=True)
class Timings:
    """Milliseconds spent in each phase of one run (or of one program in it)."""

    deploy: float
    verify: float
    destroy: float


@dataclass(frozen=True)
class Placement:
    """Where one of the two programs of a run goes: which project, into which account and region."""

    label: str
    project_dir: Path
    account: str
    region: str


@dataclass(frozen=True)
class Plan:
    stack: str
    bootstrap: Placement
    pipeline: Placement

    @property
    def placements(self) -> tuple[Placement, Placement]:
        """In deployment order: the pipeline names what the bootstrap creates."""
        return self.bootstrap, self.pipeline

    @property
    def places(self) -> list[tuple[str, str]]:
        """Each (account, region) the run touches, once."""
        return sorted({(program.account, program.region) for program in self.placements})


def _account_of(arn: str) -> str:
    return arn.split(":")[4]


def plan_for(stack: str, default_account: str) -> Plan:
    """Where each program of `stack` goes, from the stack files (see the module docstring)."""
    pipeline_config = stack_config(stack)
    bootstrap_config = stack_config(stack, project_dir=BOOTSTRAP_DIR)
    deploy_role = pipeline_config.get("cicd-pipeline:deployRoleArn")
    target = _account_of(deploy_role) if deploy_role else default_account
    pipeline_account = bootstrap_config.get("cicd-bootstrap:pipelineAccountId") or target
    return Plan(
        stack,
        Placement(BOOTSTRAP, BOOTSTRAP_DIR, target, bootstrap_config["aws:region"]),
        Placement(PIPELINE, PROJECT_DIR, pipeline_account, pipeline_config["aws:region"]),
    )


@dataclass(frozen=True)
class Outcome:
    timings: Timings  # both programs together
    by_program: dict[str, Timings]
    results: list[Result]
    left: dict[str, set[str]]
    retained: dict[str, set[str]] = field(default_factory=dict)
    keys_pending_deletion: int = 0

    @property
    def ok(self) -> bool:
        return not failures(self.results) and not self.left


class Reporter:
    """Told about each phase as it happens; this one stays silent (benchmarks, tests)."""

    def started(self, emulator: Emulator, plan: Plan) -> None:
        pass

    def deploying(self, program: Placement, stack: str) -> None:
        pass

    def step(self, step: Step) -> None:
        pass

    def deploy_failed(self, failure: DeployFailedError) -> None:
        pass

    def deployed(self, deployment: Deployment, milliseconds: float) -> None:
        pass

    def verifying(self, program: Placement) -> None:
        pass

    def verified(self, results: list[Result], milliseconds: float) -> None:
        pass

    def keep(self, emulator: Emulator, deployments: dict[str, Deployment]) -> None:
        """Called with the emulator still up when the user asked to keep it; returns when they are done."""

    def destroying(self, program: Placement, stack: str) -> None:
        pass

    def refused(self, refusal: ProtectedResourcesError) -> None:
        """`pulumi destroy` refused a stack with protected resources; the run unprotects them next."""

    def destroyed(self, steps: list[Step], milliseconds: float) -> None:
        pass

    def stock_taken(
        self, before: Inventory, after: Inventory, left: dict[str, set[str]], kept: dict[str, set[str]]
    ) -> None:
        pass

    def timed(self, by_program: dict[str, Timings]) -> None:
        pass


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _kept_items(resources: list[RegisteredResource]) -> dict[str, set[str]]:
    """The retained resources by the take_inventory list each shows up in (its type's inventory_kind)."""
    kept: dict[str, set[str]] = {}
    for resource in resources:
        translator = TRANSLATORS.get(resource.type)  # None for a provider
        kind = translator.inventory_kind if translator else ""
        if kind:
            kept.setdefault(kind, set()).add(resource.id)
    return kept


def _destroy(deployment: Deployment, program: Placement, reporter: Reporter) -> tuple[float, list[RegisteredResource]]:
    """Destroy one stack as its administrator would; the milliseconds taken and the resources retained."""
    reporter.destroying(program, deployment.stack)
    started = time.perf_counter()
    try:
        steps = destroy(deployment, on_step=reporter.step)
    except ProtectedResourcesError as refusal:
        reporter.refused(refusal)
        unprotect(deployment)
        steps = destroy(deployment, on_step=reporter.step)
    milliseconds = _since(started)
    reporter.destroyed(steps, milliseconds)
    return milliseconds, retained(deployment.graph)


def _in_account(account: str, items: dict[str, set[str]]) -> dict[str, set[str]]:
    """Items named with their account in front, so that two accounts' lists can be merged."""
    return {kind: {f"{account} {item}" for item in names} for kind, names in items.items()}


def _take_stock(emulator: Emulator, plan: Plan) -> Inventory:
    """One inventory of every (account, region) the run touches, each item named with its account."""
    merged = Inventory()
    for account, region in plan.places:
        inventory = take_inventory(emulator, region, account)
        _merge_into(merged.items, _in_account(account, inventory.items))
        merged.keys_pending_deletion |= {f"{account} {key}" for key in inventory.keys_pending_deletion}
    return merged


def _stock(
    emulator: Emulator, plan: Plan, before: Inventory, kept: dict[str, set[str]], reporter: Reporter
) -> tuple[Inventory, dict[str, set[str]], dict[str, set[str]]]:
    """What is left in every account the run touched, apart from what the programs retain on purpose."""
    after = _take_stock(emulator, plan)
    new = leftovers(after, before)
    left = {kind: names - kept.get(kind, set()) for kind, names in new.items()}
    left = {kind: names for kind, names in left.items() if names}
    still_kept = {kind: names & new.get(kind, set()) for kind, names in kept.items()}
    missing = {kind: names - new.get(kind, set()) for kind, names in kept.items() if names - new.get(kind, set())}
    if missing:
        raise EmulatorError(f"retained resources are gone from AWS: {missing}")
    reporter.stock_taken(before, after, left, still_kept)
    return after, left, still_kept


def run_locally(stack: str = "dev", *, reporter: Reporter | None = None, keep: bool = False, port: int = 0) -> Outcome:
    """Deploy the bootstrap and then the pipeline of `stack` into a fresh emulator, verify both, destroy
    the pipeline and then the bootstrap, and show what is left.

    `keep` serves the emulator on 127.0.0.1 (`port`, 0 for any free one) and lets the reporter
    hold it up before the destroy. If a deployment fails, what was created is destroyed and
    DeployFailedError is raised.
    """
    reporter = reporter or Reporter()
    with Emulator(server=keep, port=port, aws_managed_policies=True) as emulator:
        plan = plan_for(stack, emulator.default_account)
        before = _take_stock(emulator, plan)
        reporter.started(emulator, plan)
        deployments: dict[str, Deployment] = {}
        deploy_ms: dict[str, float] = {}
        for program in plan.placements:
            reporter.deploying(program, stack)
            started = time.perf_counter()
            try:
                deployment = deploy(
                    emulator, stack, project_dir=program.project_dir, account=program.account, on_step=reporter.step
                )
            except DeployFailedError as failure:
                reporter.deploy_failed(failure)
                kept: dict[str, set[str]] = {}
                created = [*deployments.items(), (program.label, failure.partial)]
                for label, partial in reversed(created):
                    done = plan.bootstrap if label == BOOTSTRAP else plan.pipeline
                    _, retained_resources = _destroy(partial, done, reporter)
                    _merge_into(kept, _in_account(done.account, _kept_items(retained_resources)))
                _stock(emulator, plan, before, kept, reporter)
                raise
            deploy_ms[program.label] = _since(started)
            deployments[program.label] = deployment
            reporter.deployed(deployment, deploy_ms[program.label])

        bootstrap, pipeline = deployments[BOOTSTRAP], deployments[PIPELINE]
        verify_ms: dict[str, float] = {}
        results: list[Result] = []
        for program, deployment, checks in (
            (plan.bootstrap, bootstrap, BOOTSTRAP_CHECKS),
            (plan.pipeline, pipeline, CHECKS + link_checks(bootstrap)),
        ):
            reporter.verifying(program)
            started = time.perf_counter()
            found = verify(deployment, checks)
            verify_ms[program.label] = _since(started)
            reporter.verified(found, verify_ms[program.label])
            results += found

        if keep:
            reporter.keep(emulator, deployments)
        destroy_ms: dict[str, float] = {}
        kept = {}
        for program in reversed(plan.placements):
            destroy_ms[program.label], retained_resources = _destroy(deployments[program.label], program, reporter)
            _merge_into(kept, _in_account(program.account, _kept_items(retained_resources)))
        after, left, still_kept = _stock(emulator, plan, before, kept, reporter)

    by_program = {
        program.label: Timings(deploy_ms[program.label], verify_ms[program.label], destroy_ms[program.label])
        for program in plan.placements
    }
    reporter.timed(by_program)
    return Outcome(
        timings=Timings(
            deploy=sum(timing.deploy for timing in by_program.values()),
            verify=sum(timing.verify for timing in by_program.values()),
            destroy=sum(timing.destroy for timing in by_program.values()),
        ),
        by_program=by_program,
        results=results,
        left=left,
        retained=still_kept,
        keys_pending_deletion=len(after.keys_pending_deletion - before.keys_pending_deletion),
    )


def _merge_into(target: dict[str, set[str]], items: dict[str, set[str]]) -> None:
    for kind, names in items.items():
        target.setdefault(kind, set()).update(names)


def run(stack: str = "dev") -> Timings:
    """Deploy, verify and destroy the bootstrap and the pipeline of `stack` silently; their timings together.

    For benchmarks: raises EmulatorError if a check fails or anything is left behind, so a broken
    run is never timed as a good one. `run_locally(stack).by_program` has them per program.
    """
    outcome = run_locally(stack)
    if not outcome.ok:
        raise EmulatorError(f"the {stack} run was not clean: {failures(outcome.results)}, left behind {outcome.left}")
    return outcome.timings
