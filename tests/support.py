"""Helpers for the unit tests: settings from config, components evaluated alone, and wiring mutations."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
import pytest

from harness.capture import StackGraph, evaluate
from harness.stack_config import stack_config
from pipeline.build import BuildProject, build_steps
from pipeline.provider import AwsAccount
from pipeline.settings import Settings, load_settings

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000001"
BOUNDARY_ARN = "arn:aws:iam::123456789012:policy/cicd-dev-boundary"
BUCKET, BUCKET_ARN = "artifacts-bucket", "arn:aws:s3:::artifacts-bucket"


def settings_for(overrides: Mapping[str, Any] | None = None, stack: str = "dev") -> Settings:
    """Settings as load_settings builds them from `stack`'s config plus `overrides`."""
    pulumi.runtime.set_all_config(stack_config(stack, overrides))
    return load_settings(stack=lambda: stack)


def evaluate_component(
    build: Callable[[Settings, AwsAccount], object],
    overrides: Mapping[str, Any] | None = None,
    stack: str = "dev",
) -> StackGraph:
    """Run one component alone, on its own explicit provider, as a unit test would."""

    def program() -> None:
        settings = load_settings()
        account = AwsAccount("account", settings)
        build(settings, account)

    return evaluate(stack, overrides, program=program)


def build_projects(settings: Settings, account: AwsAccount) -> tuple[BuildProject, BuildProject]:
    """The build and deploy projects, on the fixed test bucket, key and boundary."""
    build, deploy = (
        BuildProject(
            f"p-{step.name}",
            settings=settings,
            step=step,
            account=account,
            artifact_bucket_arn=BUCKET_ARN,
            key_arn=KEY_ARN,
            permissions_boundary=BOUNDARY_ARN,
            opts=account.component_options(),
        )
        for step in build_steps(settings)
    )
    return build, deploy


def policy(resource_input: Any) -> dict[str, Any]:
    """A policy document input (a JSON string) as data."""
    assert isinstance(resource_input, str), f"expected a JSON policy string, got {resource_input!r}"
    document: dict[str, Any] = json.loads(resource_input)
    return document


def statements_by_sid(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {statement["Sid"]: statement for statement in document["Statement"]}


def without_dependencies(value: Any) -> pulumi.Output[Any]:
    """The same value with its dependencies dropped: what a re-typed string looks like to the engine."""
    output = pulumi.Output.from_input(value)
    return pulumi.Output(set(), output.future(), output.is_known(), output.is_secret())


def retype_argument(monkeypatch: pytest.MonkeyPatch, module: Any, class_name: str, argument: str) -> None:
    """Make every `module.class_name(...)` receive `argument` as a plain value, as the Go version did."""
    original = getattr(module, class_name)

    def construct(resource_name: str, *args: Any, **kwargs: Any) -> Any:
        if argument in kwargs:
            kwargs[argument] = without_dependencies(kwargs[argument])
        return original(resource_name, *args, **kwargs)

    monkeypatch.setattr(module, class_name, construct)
