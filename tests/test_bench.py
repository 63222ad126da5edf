"""The benchmark's pure helpers: what the floor loads, and how emulator timings are read."""

from __future__ import annotations

from benchmarks.bench import floor_classes, floor_program, phase_seconds
from emulator import Timings
from harness.capture import StackGraph


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
