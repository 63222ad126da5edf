"""The idle cost model: every resource priced, the dev stack's only idle charge is its one key, the
bootstrap's (which holds the services' state) its state key, and its state bucket keeps what it stores."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from benchmarks.costs import UnpricedResourceError, idle_price, itemise, total
from harness.capture import RegisteredResource, StackGraph, evaluate_once
from harness.stack_config import BOOTSTRAP_DIR

KEY = "aws:kms/key:Key"
PIPELINE = "aws:codepipeline/pipeline:Pipeline"
BUCKET = "aws:s3/bucket:Bucket"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def with_inputs(resource: RegisteredResource, **inputs: Any) -> RegisteredResource:
    return replace(resource, inputs={**resource.inputs, **inputs})


def cloud_resource(token: str, name: str, **inputs: Any) -> RegisteredResource:
    return RegisteredResource(
        urn=f"urn:pulumi:dev::cicd-pipeline::{token}::{name}",
        type=token,
        name=name,
        custom=True,
        parent="",
        provider="",
        inputs=inputs,
        property_dependencies={},
        dependencies=[],
    )


def graph_of(resources: list[RegisteredResource]) -> StackGraph:
    return StackGraph(resources=resources, exports={}, invokes=[])


def test_every_cloud_resource_gets_one_line(stack_graph: StackGraph) -> None:
    lines = itemise(stack_graph)

    assert sorted((line.type, line.name) for line in lines) == sorted((r.type, r.name) for r in stack_graph.custom())


def test_the_dev_stack_idles_at_one_rotating_key(dev_graph: StackGraph) -> None:
    lines = itemise(dev_graph)
    billed = [(line.type, line.price.monthly_usd, line.price.eventually) for line in lines if line.price.eventually]

    assert billed == [(KEY, 1.00, 3.00)]
    assert total(lines) == (1.00, 3.00)


def test_the_bootstrap_idles_at_its_one_rotating_state_key_and_keeps_its_state() -> None:
    """The state backend's own charge: its secrets key; its bucket bills what it holds, and never expires it."""
    bootstrap = evaluate_once("dev", project_dir=BOOTSTRAP_DIR)
    lines = itemise(bootstrap)
    billed = [(line.name, line.price.monthly_usd, line.price.eventually) for line in lines if line.price.eventually]

    assert billed == [("cicd-state-key", 1.00, 3.00)]
    assert total(lines) == (1.00, 3.00)
    assert idle_price(bootstrap.one(BUCKET), bootstrap).note.startswith("no expiry rule")


def test_a_second_key_doubles_the_idle_cost(dev_graph: StackGraph) -> None:
    key = dev_graph.one(KEY)
    second = replace(key, urn=key.urn + "-second", name="second-key")

    assert total(itemise(graph_of([*dev_graph.resources, second]))) == (2.00, 6.00)


def test_a_key_without_rotation_stays_at_one_dollar(dev_graph: StackGraph) -> None:
    key = with_inputs(dev_graph.one(KEY), enableKeyRotation=False)
    price = idle_price(key, dev_graph)

    assert (price.monthly_usd, price.eventually) == (1.00, 1.00)


def test_the_rotation_period_decides_when_rotations_are_billed(dev_graph: StackGraph) -> None:
    key = with_inputs(dev_graph.one(KEY), rotationPeriodInDays=90)

    assert "day 90 and day 180" in idle_price(key, dev_graph).note


def test_only_a_v1_pipeline_mentions_a_monthly_charge(dev_graph: StackGraph) -> None:
    pipeline = dev_graph.one(PIPELINE)
    v1 = idle_price(with_inputs(pipeline, pipelineType="V1"), dev_graph)
    v2 = idle_price(pipeline, dev_graph)

    assert (v1.monthly_usd, v2.monthly_usd) == (0.0, 0.0)
    assert "$1.00 in every month a change runs" in v1.note
    assert v2.note.startswith("V2:")


def test_the_bucket_note_reads_the_expiry_from_its_lifecycle(stack_graph: StackGraph) -> None:
    days = stack_graph.one(LIFECYCLE).inputs["rules"][0]["expiration"]["days"]

    assert f"expire after {int(days)} days" in idle_price(stack_graph.one(BUCKET), stack_graph).note


def test_a_bucket_without_expiry_is_flagged(dev_graph: StackGraph) -> None:
    without_lifecycle = graph_of([r for r in dev_graph.resources if r.type != LIFECYCLE])

    assert "no expiry rule" in idle_price(dev_graph.one(BUCKET), without_lifecycle).note


def test_a_secret_costs_forty_cents() -> None:
    secret = cloud_resource("aws:secretsmanager/secret:Secret", "build-token")

    assert total(itemise(graph_of([secret]))) == (0.40, 0.40)


def test_an_unpriced_type_is_an_error_naming_it() -> None:
    instance = cloud_resource("aws:ec2/instance:Instance", "runner")

    with pytest.raises(UnpricedResourceError, match=r"aws:ec2/instance:Instance \(runner\)"):
        itemise(graph_of([instance]))
