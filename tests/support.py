"""Helpers for the unit tests: settings from config, components evaluated alone, and wiring mutations."""

from __future__ import annotations

import functools
import importlib.util
import json
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import pulumi
import pytest

from harness.capture import PROGRAM, StackGraph, evaluate
from harness.stack_config import stack_config
from pipeline.build import BuildProject
from pipeline.provider import AwsAccount
from pipeline.settings import Settings, load_settings
from pipeline.shared import Foundation, SharedResources

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000001"
BOUNDARY_ARN = "arn:aws:iam::123456789012:policy/cicd-dev-boundary"
BUCKET, BUCKET_ARN = "artifacts-bucket", "arn:aws:s3:::artifacts-bucket"
TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:alerts"


@functools.cache
def program() -> ModuleType:
    """The pipeline program's __main__.py as a module: its settings-to-args mappings, without `main()`.

    Component tests build their args with these mappings, so what they check is what the stack's
    config gives the components.
    """
    spec = importlib.util.spec_from_file_location("cicd_pipeline_program", PROGRAM)
    assert spec is not None, f"cannot load {PROGRAM}"
    assert spec.loader is not None, f"cannot load {PROGRAM}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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

    def run() -> None:
        settings = load_settings()
        account = AwsAccount("account", program().account_args(settings))
        build(settings, account)

    return evaluate(stack, overrides, program=run)


def fixed_foundation(
    account: AwsAccount, *, connection_arn: str | None = None, stored_secrets: Mapping[str, str] | None = None
) -> Foundation:
    """Shared resources that are not built: the fixed test key, bucket, topic and boundary."""
    shared = SharedResources(
        account=account,
        key_arn=KEY_ARN,
        artifact_bucket_name=BUCKET,
        artifact_bucket_arn=BUCKET_ARN,
        topic_arn=TOPIC_ARN,
        connection_arn=connection_arn,
        stored_secrets=dict(stored_secrets or {}),
    )
    return shared.bounded_by(BOUNDARY_ARN)


def build_projects(
    settings: Settings, account: AwsAccount, foundation: Foundation | None = None
) -> tuple[BuildProject, BuildProject]:
    """The build and deploy projects as the stack's config makes them, on the fixed test foundation by default."""
    on = foundation or fixed_foundation(account)
    build, deploy = (
        BuildProject(f"p-{args.step.name}", args, on, opts=account.component_options())
        for args in program().build_project_args(settings)
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
