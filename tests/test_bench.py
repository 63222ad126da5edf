"""The benchmark's arithmetic, never its clock: what the floor loads, how emulator timings are read,
how a stack of N services splits into shared + N x per-service, and what its idle cost is made of."""

from __future__ import annotations

import functools
from collections import Counter

import pytest

from benchmarks.bench import Runs, Scale, floor_classes, floor_program, phase_seconds, print_scale
from benchmarks.scale import (
    AmbiguousServiceError,
    Composition,
    Footprint,
    IdleCost,
    StateModel,
    compose,
    cost_failures,
    evaluate_bootstrap,
    evaluate_services,
    footprint,
    idle_cost,
    linearity_failures,
    service_name,
    service_of,
    services_config,
)
from emulator import Timings
from harness.capture import RegisteredResource, StackGraph
from harness.resource_types import S3_STANDARD_GB_MONTH
from pipeline.settings import max_service_name_length
from tests.test_program import PER_SERVICE, SHARED


def test_the_floor_loads_every_pulumi_aws_class_the_stack_registers(stack_graph: StackGraph) -> None:
    classes = floor_classes([stack_graph])
    program = floor_program(classes).splitlines()

    assert {f"pulumi_aws.{name}" for name in ("s3.Bucket", "kms.Key", "codepipeline.Pipeline")} <= set(classes)
    assert len(classes) == len({resource.type for resource in stack_graph.custom()})
    assert program[:2] == ["import pulumi", "import pulumi_aws"]
    assert program[2:] == classes


def test_emulator_timings_are_read_from_milliseconds() -> None:
    assert phase_seconds(Timings(deploy=1500, verify=250, destroy=500)) == {
        "deploy": 1.5,
        "verify": 0.25,
        "destroy": 0.5,
    }


# --- N services --------------------------------------------------------------------------------


@functools.cache
def two_services() -> StackGraph:
    return evaluate_services(2)


@functools.cache
def bootstrap() -> StackGraph:
    return evaluate_bootstrap()


def named(name: str) -> RegisteredResource:
    return RegisteredResource(
        urn=f"urn:pulumi:dev::cicd-pipeline::cicd:test:Thing::{name}",
        type="cicd:test:Thing",
        name=name,
        custom=False,
        parent="",
        provider="",
        inputs={},
        property_dependencies={},
        dependencies=[],
    )


def test_fifty_service_names_fit_what_the_settings_leave_room_for() -> None:
    room, _ = max_service_name_length("dev")
    names = [service["name"] for service in services_config(50)]

    assert len(set(names)) == 50
    assert max(len(name) for name in names) <= room
    with pytest.raises(ValueError, match="leaves room for"):
        service_name(0, environment="e" * 60)


def test_a_resource_belongs_to_the_service_its_name_carries_whole() -> None:
    services = ["svc1", "svc10"]

    assert service_of(named("cicd-dev-svc10-build"), services) == "svc10"
    assert service_of(named("cicd-dev-svc1-pipeline-role-policy"), services) == "svc1"
    assert service_of(named("cicd-dev-pipeline-failed-topic-policy"), services) is None
    with pytest.raises(AmbiguousServiceError, match="svc1"):
        service_of(named("cicd-dev-svc1-svc10"), services)


def test_two_services_split_into_the_shared_resources_and_one_set_each() -> None:
    """The split agrees with the graph tests' own count of what a service adds (tests/test_program.py)."""
    per_service = sum(PER_SERVICE.values())
    aws_per_service = sum(count for token, count in PER_SERVICE.items() if token.startswith("aws:"))
    split = footprint(two_services())

    assert split.registrations == Composition(2, SHARED + 2 * per_service, SHARED, (per_service,) * 2)
    assert split.aws.per_service == (aws_per_service,) * 2
    assert split.aws.shared + 2 * aws_per_service == split.aws.total == sum(1 for _ in two_services().custom())


def test_compose_counts_each_resource_once() -> None:
    resources = [named(name) for name in ("cicd-dev-key", "cicd-dev-a-build", "cicd-dev-a-deploy", "cicd-dev-b-build")]

    assert compose(resources, ["a", "b"]) == Composition(2, 4, 1, (2, 1))
    assert compose(resources, ["a", "b"]).uniform_per_service is None


def test_stacks_on_one_line_are_linear() -> None:
    assert linearity_failures([Composition(n, 22 + n * 23, 22, (23,) * n) for n in (1, 10, 50)]) == []


def test_a_stack_off_the_line_is_named_with_the_sum_it_missed() -> None:
    """A shared resource that repeats once per ten services: N=10 has one more than 22 + 10 x 23."""
    compositions = [Composition(1, 45, 22, (23,)), Composition(10, 253, 23, (23,) * 10)]

    assert linearity_failures(compositions) == ["N=10: 253 != 22 + 10 x 23 = 252 (shared 23, per service [23])"]


def test_services_of_different_sizes_are_named() -> None:
    uneven = Composition(2, 22 + 23 + 24, 22, (23, 24))

    assert linearity_failures([uneven]) == ["N=2: services own different counts [23, 24]"]
    assert linearity_failures([]) == ["no stack measured"]


# --- idle cost ---------------------------------------------------------------------------------


def test_state_storage_is_stacks_times_size_times_copies_at_the_s3_price() -> None:
    state = StateModel(stack_bytes=2**30 // 4, updates=1, copies_per_update=2)  # 4 copies: 1 GB per stack

    assert state.copies_per_stack == 4
    assert state.stored_bytes(10) == 10 * 2**30
    assert state.monthly_usd(10) == pytest.approx(10 * S3_STANDARD_GB_MONTH)
    assert "10 x 262144 KB x 4 copies" in state.explain(10)


def test_idle_cost_is_the_pipeline_key_the_bootstrap_key_and_the_stored_state() -> None:
    state = StateModel(stack_bytes=2**30 // 4, updates=1, copies_per_update=2)
    cost = idle_cost(2, two_services(), bootstrap(), state)

    assert (cost.pipeline, cost.pipeline_billed) == ((1.00, 3.00), ("aws.kms.Key",))
    assert (cost.bootstrap, cost.bootstrap_billed) == ((1.00, 3.00), ("aws.kms.Key",))
    assert cost.state_storage == pytest.approx(2 * S3_STANDARD_GB_MONTH)
    assert cost.total == pytest.approx((2.00 + 2 * S3_STANDARD_GB_MONTH, 6.00 + 2 * S3_STANDARD_GB_MONTH))


def test_a_pipeline_cost_that_moves_with_n_is_named() -> None:
    def cost(services: int, pipeline: tuple[float, float], billed: tuple[str, ...]) -> IdleCost:
        return IdleCost(services, pipeline, (1.0, 3.0), 0.0, billed, ("aws.kms.Key",))

    one_key = ("aws.kms.Key",)
    assert cost_failures([cost(1, (1.0, 3.0), one_key), cost(50, (1.0, 3.0), one_key)]) == []
    assert cost_failures([cost(1, (1.0, 3.0), one_key), cost(50, (2.0, 6.0), one_key * 2)]) == [
        "N=50: the pipeline stack bills ['aws.kms.Key', 'aws.kms.Key'] ($2.00/$6.00), at N=1 ['aws.kms.Key'] ($1.00/$3.00)"
    ]


# --- the printed table -------------------------------------------------------------------------


def scale(services: int, aws_total: int, registrations_total: int, state: StateModel) -> Scale:
    """A row as the bench measures it (the dev stack's shape: 14 + N x 16 AWS resources, 22 + N x 23
    registrations); the timing is a placeholder no assertion reads."""
    return Scale(
        footprint=Footprint(
            aws=Composition(services, aws_total, 14, (16,) * services),
            registrations=Composition(services, registrations_total, 22, (23,) * services),
        ),
        evaluation=Runs((0.1,)),
        checkpoint_bytes=1024 * services,
        cost=IdleCost(
            services, (1.0, 3.0), (1.0, 3.0), state.monthly_usd(services), ("aws.kms.Key",), ("aws.kms.Key",)
        ),
    )


def table(capsys: pytest.CaptureFixture[str], rows: list[Scale], state: StateModel) -> tuple[list[str], list[str]]:
    failures = print_scale(rows, Counter({"aws.iam.Role": 3}), state)
    return failures, capsys.readouterr().out.splitlines()


def test_the_table_prints_each_n_as_shared_plus_n_per_service(capsys: pytest.CaptureFixture[str]) -> None:
    state = StateModel(stack_bytes=2**30 // 4, updates=1, copies_per_update=2)
    failures, lines = table(capsys, [scale(1, 30, 45, state), scale(10, 174, 252, state)], state)

    assert failures == []
    assert "  shared:        14 AWS resources,  22 registrations (at N=1)" in lines
    assert "  per service:   16 AWS resources,  23 registrations" in lines
    rows = [line for line in lines if line.startswith(("    1 ", "   10 ")) and " = " in line]
    assert [row.split("  ok")[0].split()[1:] for row in rows] == [
        ["30", "=", "14", "+", "1", "x", "16"],
        ["174", "=", "14", "+", "10", "x", "16"],
    ]
    assert [row.split("  ok")[1].split()[:7] for row in rows] == [
        ["45", "=", "22", "+", "1", "x", "23"],
        ["252", "=", "22", "+", "10", "x", "23"],
    ]
    assert "  shared + N x per-service holds at N = 1, 10; evaluation: median of 1 runs in this process" in lines
    costs = [line.split() for line in lines if line.startswith("   10  ") and "/" in line and "=" not in line]
    assert costs == [["10", "1.00", "/", "3.00", "1.00", "/", "3.00", "0.2300", "2.23", "/", "6.23"]]


def test_the_table_flags_a_row_off_the_line(capsys: pytest.CaptureFixture[str]) -> None:
    state = StateModel(stack_bytes=1024)
    failures, lines = table(capsys, [scale(1, 30, 45, state), scale(10, 175, 252, state)], state)

    assert failures == ["AWS resources: N=10: 175 != 14 + 10 x 16 = 174 (shared 14, per service [16])"]
    assert any(line.startswith("   10    175 = 14 + 10 x 16  !! expected 174") for line in lines)
    assert "  shared + N x per-service BROKEN at N = 1, 10; evaluation: median of 1 runs in this process" in lines
    assert f"  !! {failures[0]}" in lines
