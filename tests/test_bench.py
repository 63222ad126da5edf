"""The benchmark's pure helpers: what the floor loads, and how emulator timings are read."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from benchmarks.bench import floor_classes, floor_program, phase_seconds
from harness.capture import StackGraph


def test_the_floor_loads_every_pulumi_aws_class_the_stack_registers(stack_graph: StackGraph) -> None:
    classes = floor_classes([stack_graph])
    program = floor_program(classes).splitlines()

    assert {f"pulumi_aws.{name}" for name in ("s3.Bucket", "kms.Key", "codepipeline.Pipeline")} <= set(classes)
    assert len(classes) == len({resource.type for resource in stack_graph.custom()})
    assert program[:2] == ["import pulumi", "import pulumi_aws"]
    assert program[2:] == classes


def test_emulator_timings_are_read_as_milliseconds_from_a_mapping_or_an_object() -> None:
    as_mapping = {"deploy": 1500, "verify": timedelta(milliseconds=250), "destroy": 500, "other": 9}
    as_object = SimpleNamespace(deploy=timedelta(seconds=2), destroy=1000)

    assert phase_seconds(as_mapping) == {"deploy": 1.5, "verify": 0.25, "destroy": 0.5}
    assert phase_seconds(as_object) == {"deploy": 2.0, "destroy": 1.0}
    assert phase_seconds(SimpleNamespace(timings=as_object, results=[])) == {"deploy": 2.0, "destroy": 1.0}
