"""`make bench`: how fast the edit-test loop is and what the stacks cost idle, on this machine.

Figures only, each the median of several runs; nothing here passes or fails. The floor is a
Python process that only imports pulumi and the pulumi_aws modules the program uses (read from
the captured graph), so suite/floor says how many bare start-ups the whole suite costs.

    python -m benchmarks.bench [--suite-runs 3] [--floor-runs 5] [--eval-runs 30] [--emulator-runs 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

import emulator
from benchmarks.costs import itemise, total
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


def measure_suite(runs: int) -> tuple[Runs, str]:
    """The whole suite as `make test` runs it; also the summary line of the last run."""
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--suite-runs", type=int, default=3, help="full pytest runs (each takes the suite's time)")
    parser.add_argument("--floor-runs", type=int, default=5, help="bare import processes")
    parser.add_argument("--eval-runs", type=int, default=30, help="in-process evaluations of the dev stack")
    parser.add_argument("--emulator-runs", type=int, default=3, help="emulator deploy/verify/destroy cycles")
    args = parser.parse_args(argv)

    print(f"cicd-pipeline benchmarks: Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")

    started = time.perf_counter()
    graphs = {stack: evaluate(stack) for stack in STACKS}
    first_evaluation = time.perf_counter() - started
    evaluation = timed(lambda: evaluate("dev"), args.eval_runs)
    classes = floor_classes(graphs.values())
    floor = measure_floor(floor_program(classes), args.floor_runs)
    suite, summary = measure_suite(args.suite_runs)

    print("\nEdit-test loop")
    print(f"  full pytest suite       {suite.describe()}  last run: {summary}")
    print(f"  floor (imports only)    {floor.describe()}")
    print(f"  suite / floor           {suite.median / floor.median:8.1f} x  (same run)")
    print(f"  dev evaluation (mocks)  {evaluation.describe()}  in-process")
    print(f"  first evaluations       {first_evaluation:8.3f} s  (dev and prod, cold, in-process)")
    modules = sorted({name.rsplit(".", 1)[0] for name in classes})
    print(f"  the floor imports pulumi and pulumi_aws and loads {', '.join(modules)}")

    print("\nEmulator (dev stack)")
    emulator = measure_emulator("dev", args.emulator_runs)
    if isinstance(emulator, str):
        print(f"  {emulator}")
    else:
        for phase, runs in emulator.items():
            print(f"  {phase:<22}  {runs.describe()}")

    print("\nResources per stack")
    print_counts(graphs)

    print(f"\nIdle cost per month (USD list prices read {PRICES_READ_ON}; sources in README#benchmarks)", end="")
    for stack, graph in graphs.items():
        print_costs(stack, graph)
    return 0


if __name__ == "__main__":
    sys.exit(main())
