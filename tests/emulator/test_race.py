"""The Go version's race, kept as a regression test.

Its EventTarget named the rule by a typed-in string, so nothing ordered the target after the
rule: the engine created the target first and AWS answered "Rule ... does not exist on EventBus
default". This program passes the rule's `name` output instead.

In this program the target also waits for the topic policy (depends_on), and the policy names
the rule's ARN, so that chain alone would hide a regression of the `rule` input. Both tests
therefore lift the target's depends_on and let its `rule` input alone order it: the variant
replaces that input by the rule's literal physical name (as the Go version did) and must fail
with AWS's own error; the program's own wiring must still deploy. If pipeline/notifications.py
ever names the rule by a string, the second test fails the way the first one does.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from botocore.exceptions import ClientError

from emulator.backend import Emulator
from emulator.lifecycle import DeployFailedError, deploy, destroy, leftovers, take_inventory
from emulator.verify import failure_rule_targets_topic
from harness.fake_aws import autoname
from tests.emulator.conftest import deployed

pytestmark = pytest.mark.emulator

RULE = "cicd-dev-pipeline-failed"
TARGET = "cicd-dev-pipeline-failed-to-topic"


def target_ordered_by_its_rule_input_only(rule: str | None = None) -> Callable[..., aws.cloudwatch.EventTarget]:
    """aws.cloudwatch.EventTarget without its depends_on; with `rule`, that input replaced by a string."""
    event_target = aws.cloudwatch.EventTarget

    def create(resource_name: str, opts: pulumi.ResourceOptions | None = None, **arguments: Any) -> Any:
        unordered = copy.copy(opts) if opts else pulumi.ResourceOptions()
        unordered.depends_on = None
        if rule is not None:
            arguments["rule"] = rule
        return event_target(resource_name, opts=unordered, **arguments)

    return create


def root_cause(error: BaseException) -> BaseException:
    while error.__cause__ is not None:
        error = error.__cause__
    return error


def created(names: list[str], name: str) -> int:
    return names.index(name)


def test_a_target_naming_its_rule_by_string_races_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    rule_name = autoname(RULE)
    monkeypatch.setattr(aws.cloudwatch, "EventTarget", target_ordered_by_its_rule_input_only(rule=rule_name))

    with Emulator() as emulator:
        before = take_inventory(emulator, "eu-west-1")
        with pytest.raises(DeployFailedError) as failure:
            deploy(emulator, "dev")
        partial = failure.value.partial
        destroy(partial)
        left = leftovers(take_inventory(emulator, "eu-west-1"), before)

    aws_error = root_cause(failure.value.cause)
    assert isinstance(aws_error, ClientError)
    assert aws_error.response["Error"]["Code"] == "ResourceNotFoundException"
    assert aws_error.response["Error"]["Message"] == f"Rule {rule_name} does not exist on EventBus default."
    assert TARGET not in [step.name for step in partial.mocks.steps]
    assert left == {}


def test_the_programs_target_waits_for_its_rule_through_the_rule_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aws.cloudwatch, "EventTarget", target_ordered_by_its_rule_input_only())

    with deployed("dev") as deployment:
        names = [step.name for step in deployment.mocks.steps]
        detail = failure_rule_targets_topic(deployment)

    assert created(names, RULE) < created(names, TARGET)
    assert "its only target is the alert topic" in detail


def test_the_unchanged_program_deploys_the_target_after_the_rule() -> None:
    with deployed("dev") as deployment:
        names = [step.name for step in deployment.mocks.steps]

    assert created(names, RULE) < created(names, TARGET)
