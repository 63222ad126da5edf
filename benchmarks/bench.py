"""`make bench`: how fast the edit-test loop is, how a stack grows with its services, and what it costs idle.

Figures, each the median of several runs on this machine; no timing passes or fails. The floor is
a Python process that only imports pulumi and the pulumi_aws modules the two programs use (read
from their captured graphs), so suite/floor says how many bare start-ups the whole suite costs.

The scale section evaluates the dev stack with 1, 10 and 50 services (benchmarks/scale.py) and
prints, for each, its AWS resources and registrations as shared + N x per-service, its evaluation
time under mocks, and its idle cost with the state backend's. Those are counts and prices, not
timings: if a stack is not shared + N x per-service, or its pipeline stack's idle cost changes
with N, the table flags the row and the run exits 1.

    python -m benchmarks.bench [--suite-runs 3] [--floor-runs 5] [--eval-runs 30] [--emulator-runs 3]
                               [--services 1,10,50] [--scale-runs 3]
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

import emulator
from benchmarks.costs import itemise, total
from benchmarks.scale import (
    PRICE_SOURCES,
    SCALES,
    Footprint,
    IdleCost,
    StateModel,
    checkpoint_bytes,
    cost_failures,
    evaluate_bootstrap,
    evaluate_services,
    footprint,
    idle_cost,
    linearity_failures,
    per_service_types,
)
from emulator.errors import EmulatorError
from emulator.lifecycle import DeployFailedError
from harness.capture import StackGraph, evaluate
from harness.resource_types import PRICES_READ_ON, RESOURCE_TYPES
from harness.stack_config import PROJECT_DIR
from tools.diagram import type_label

STACKS = ("dev", "prod")
SUITE_COMMAND = ("-m", "pytest", "-q", "-W", "error::pytest.PytestReturnNotNoneWarning")
EMULATOR_PHASES = ("deploy", "verify", "destroy")


@dataclass(frozen=True)
class Runs:
    """Wall times of repeated runs, in seconds."""

    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def describe(self) -> str:
        spread = f"min {min(self.seconds):.3f} s, max {max(self.seconds):.3f} s"
        return f"{self.median:8.3f} s  (median of {len(self.seconds)}; {spread})"


def timed(action: Callable[[], object], runs: int) -> Runs:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return Runs(tuple(seconds))


def python_process(arguments: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *arguments], cwd=PROJECT_DIR, capture_output=True, text=True, check=False)


def floor_classes(graphs: Iterable[StackGraph]) -> list[str]:
    """The pulumi_aws classes behind the program's resource types, e.g. `pulumi_aws.s3.Bucket`."""
    return sorted({RESOURCE_TYPES[resource.type].sdk_class for graph in graphs for resource in graph.custom()})


def floor_program(classes: Sequence[str]) -> str:
    """Import pulumi and pulumi_aws, and load the modules holding `classes`.

    pulumi_aws imports its sub-modules lazily: `import pulumi_aws.s3` alone loads nothing, the
    first attribute read (as the program's `aws.s3.Bucket(...)`) does. So the floor reads them.
    """
    return "\n".join(["import pulumi", "import pulumi_aws", *classes])


def measure_floor(program: str, runs: int) -> Runs:
    command = ["-c", program]
    first = python_process(command)
    if first.returncode != 0:
        raise RuntimeError(f"the floor program failed: {first.stderr.strip()}")
    return timed(lambda: python_process(command), runs)


def measure_suite(runs: int) -> tuple[Runs, str] | None:
    """The whole suite as `make test` runs it, and the summary line of the last run; None for 0 runs."""
    if runs < 1:
        return None
    summaries: list[str] = []

    def run_suite() -> None:
        finished = python_process(SUITE_COMMAND)
        lines = [line for line in finished.stdout.splitlines() if line.strip()]
        summaries.append(f"{lines[-1].strip('= ') if lines else 'no output'} (exit {finished.returncode})")

    return timed(run_suite, runs), summaries[-1]


def phase_seconds(timings: emulator.Timings) -> dict[str, float]:
    """The deploy, verify and destroy times of one `emulator.run`, from its milliseconds to seconds."""
    return {phase: milliseconds / 1000 for phase, milliseconds in asdict(timings).items()}


def measure_emulator(stack: str, runs: int) -> dict[str, Runs] | str:
    """Median deploy, verify and destroy times of `emulator.run(stack)`, or why they are missing."""
    try:
        results = [phase_seconds(emulator.run(stack)) for _ in range(runs)]
    except (EmulatorError, DeployFailedError) as error:  # a figure is missing, the other figures still stand
        return f"not measured: emulator.run({stack!r}) raised {type(error).__name__}: {error}"
    return {phase: Runs(tuple(result[phase] for result in results)) for phase in EMULATOR_PHASES}


def print_counts(graphs: Mapping[str, StackGraph]) -> None:
    counts = {stack: Counter(type_label(r.type) for r in graph.custom()) for stack, graph in graphs.items()}
    names = sorted(set().union(*counts.values()))
    width = max(len(name) for name in names)
    print(f"  {'AWS resource type':<{width}}  " + "  ".join(f"{stack:>5}" for stack in graphs))
    for name in names:
        print(f"  {name:<{width}}  " + "  ".join(f"{counts[stack][name]:>5}" for stack in graphs))
    rows: dict[str, Callable[[StackGraph], int]] = {
        "AWS resources": lambda g: sum(1 for _ in g.custom()),
        "components (cicd:*)": lambda g: sum(1 for _ in g.components()),
        "providers": lambda g: sum(1 for r in g.resources if r.is_provider),
        "registrations in all": lambda g: len(g.resources),
    }
    for label, count in rows.items():
        print(f"  {label:<{width}}  " + "  ".join(f"{count(graph):>5}" for graph in graphs.values()))


def print_costs(stack: str, graph: StackGraph) -> None:
    lines = itemise(graph)
    now, eventually = total(lines)
    print(f"\n{stack}: ${now:.2f}/month idle now, ${eventually:.2f}/month once the key rotations are billed")
    name_width = max(len(line.name) for line in lines)
    type_width = max(len(type_label(line.type)) for line in lines)
    print(f"  {'resource':<{name_width}}  {'type':<{type_width}}  {'now':>6}  {'later':>6}  why")
    for line in lines:
        print(
            f"  {line.name:<{name_width}}  {type_label(line.type):<{type_width}}  "
            f"{line.price.monthly_usd:>6.2f}  {line.price.eventually:>6.2f}  {line.price.note}"
        )


@dataclass(frozen=True)
class Scale:
    """One N of the scale table: what the stack registered, how long it took, what it costs idle."""

    footprint: Footprint
    evaluation: Runs
    checkpoint_bytes: int
    cost: IdleCost


def measure_scale(counts: Sequence[int], runs: int) -> tuple[list[Scale], Counter[str], StateModel]:
    """Each N's stack, evaluated once for its graph and `runs` more times for the clock, in this process.

    Also what one service adds by type, and the state model: a service's stack assumed the size
    of this program's one-service stack.
    """
    bootstrap = evaluate_bootstrap()
    one_service = evaluate_services(1)
    state = StateModel(stack_bytes=checkpoint_bytes(one_service))
    scales = []
    for count in counts:
        graph = evaluate_services(count)
        scales.append(
            Scale(
                footprint=footprint(graph),
                evaluation=timed(functools.partial(evaluate_services, count), runs),
                checkpoint_bytes=checkpoint_bytes(graph),
                cost=idle_cost(count, graph, bootstrap, state),
            )
        )
    return scales, per_service_types(one_service), state


def line_of(composition_total: int, shared: int, per_service: int, services: int) -> str:
    """`144 = 14 + 10 x 13`, flagged when the two sides differ."""
    expected = shared + services * per_service
    flag = "ok" if composition_total == expected else f"!! expected {expected}"
    return f"{composition_total:>5} = {shared} + {services:>2} x {per_service}  {flag}"


def print_scale(scales: Sequence[Scale], one_service: Counter[str], state: StateModel) -> list[str]:
    """The 1/10/50 table; returns what failed (the identity, or a pipeline cost that moves with N)."""
    aws = [scale.footprint.aws for scale in scales]
    registrations = [scale.footprint.registrations for scale in scales]
    failures = [
        *(f"AWS resources: {each}" for each in linearity_failures(aws)),
        *(f"registrations: {each}" for each in linearity_failures(registrations)),
        *cost_failures([scale.cost for scale in scales]),
    ]
    reference = min(scales, key=lambda scale: scale.footprint.services).footprint
    aws_shared, aws_per = reference.aws.shared, reference.aws.uniform_per_service or 0
    all_shared, all_per = reference.registrations.shared, reference.registrations.uniform_per_service or 0
    runs = len(scales[0].evaluation.seconds)

    print(f"  shared:       {aws_shared:>3} AWS resources, {all_shared:>3} registrations (at N={reference.services})")
    print(f"  per service:  {aws_per:>3} AWS resources, {all_per:>3} registrations")
    print("  one service adds " + ", ".join(f"{count} {label}" for label, count in sorted(one_service.items())))
    print(
        f"  {'N':>3}  {'AWS resources = shared + N x per':<34}  {'registrations = shared + N x per':<34}  "
        f"{'evaluation (mocks)':>18}  {'per service':>11}  {'checkpoint':>10}"
    )
    for scale in scales:
        n = scale.footprint.services
        print(
            f"  {n:>3}  {line_of(scale.footprint.aws.total, aws_shared, aws_per, n):<34}  "
            f"{line_of(scale.footprint.registrations.total, all_shared, all_per, n):<34}  "
            f"{scale.evaluation.median:>16.3f} s  {scale.evaluation.median / n * 1000:>8.1f} ms  "
            f"{scale.checkpoint_bytes / 1024:>7.0f} KB"
        )
    counts = ", ".join(str(scale.footprint.services) for scale in scales)
    verdict = "holds" if not failures else "BROKEN"
    print(f"  shared + N x per-service {verdict} at N = {counts}; evaluation: median of {runs} runs in this process")
    for failure in failures:
        print(f"  !! {failure}")

    print("\nIdle cost of N services per month (USD: now / once the keys' rotations are billed)")
    print(f"  {'N':>3}  {'pipeline stack':>14}  {'bootstrap':>11}  {'state stored':>12}  {'total':>13}")
    for scale in scales:
        cost = scale.cost
        print(
            f"  {cost.services:>3}  {cost.pipeline[0]:>6.2f} / {cost.pipeline[1]:.2f}  "
            f"{cost.bootstrap[0]:>4.2f} / {cost.bootstrap[1]:.2f}  {cost.state_storage:>12.4f}  "
            f"{cost.total[0]:>5.2f} / {cost.total[1]:.2f}"
        )

    def billed(labels: Iterable[str]) -> str:
        return ", ".join(sorted(set(labels))) or "nothing"

    largest = max(scale.footprint.services for scale in scales)
    print(
        f"  pipeline stack: billed for {billed(label for s in scales for label in s.cost.pipeline_billed)} at "
        "every N; the rest bills per use"
    )
    print(
        f"  bootstrap: billed for {billed(label for s in scales for label in s.cost.bootstrap_billed)}, its state "
        "key; one per target account and region, and all N services deploy into one here"
    )
    print(textwrap.fill(state.explain(largest), width=118, initial_indent="  ", subsequent_indent="    "))
    print("  sources: " + "\n           ".join(PRICE_SOURCES))
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--suite-runs", type=int, default=3, help="full pytest runs, 0 for none")
    parser.add_argument("--floor-runs", type=int, default=5, help="bare import processes")
    parser.add_argument("--eval-runs", type=int, default=30, help="in-process evaluations of the dev stack")
    parser.add_argument("--emulator-runs", type=int, default=3, help="emulator deploy/verify/destroy cycles")
    parser.add_argument(
        "--services",
        type=lambda text: tuple(int(each) for each in text.split(",")),
        default=SCALES,
        help="service counts of the scale table, e.g. 1,10,50",
    )
    parser.add_argument("--scale-runs", type=int, default=3, help="timed evaluations of each service count")
    args = parser.parse_args(argv)

    print(f"cicd-pipeline benchmarks: Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")

    started = time.perf_counter()
    graphs = {stack: evaluate(stack) for stack in STACKS}
    first_evaluation = time.perf_counter() - started
    evaluation = timed(lambda: evaluate("dev"), args.eval_runs)
    # The test process imports what both programs use: the pipeline's stacks and the bootstrap's.
    classes = floor_classes([*graphs.values(), evaluate_bootstrap()])
    floor = measure_floor(floor_program(classes), args.floor_runs)
    suite = measure_suite(args.suite_runs)

    print("\nEdit-test loop")
    print(f"  floor (imports only)    {floor.describe()}  a fresh process, as each test run starts")
    if suite is None:
        print("  full pytest suite       not measured (--suite-runs 0)")
    else:
        suite_runs, summary = suite
        print(f"  full pytest suite       {suite_runs.describe()}  last run: {summary}")
        print(f"  suite / floor           {suite_runs.median / floor.median:8.1f} x  (same run)")
    print(f"  dev evaluation (mocks)  {evaluation.describe()}  in-process")
    print(f"  first evaluations       {first_evaluation:8.3f} s  (dev and prod, cold, in-process)")
    modules = sorted({name.rsplit(".", 1)[0] for name in classes})
    print(f"  the floor imports pulumi and pulumi_aws and loads {', '.join(modules)}")

    print("\nEmulator (dev stack)")
    emulator_timings = measure_emulator("dev", args.emulator_runs)
    if isinstance(emulator_timings, str):
        print(f"  {emulator_timings}")
    else:
        for phase, runs in emulator_timings.items():
            print(f"  {phase:<22}  {runs.describe()}")

    print("\nResources per stack")
    print_counts(graphs)

    print(f"\nIdle cost per month (USD list prices read {PRICES_READ_ON}; sources in docs/benchmarks.md)", end="")
    for stack, graph in graphs.items():
        print_costs(stack, graph)

    counts = ", ".join(str(count) for count in args.services)
    print(f"\nScale: the dev stack with {counts} services of one monorepo (svc00, svc01, ...)")
    failures = print_scale(*measure_scale(args.services, args.scale_runs))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
