"""Checks over a captured StackGraph that catch wiring bugs before anything reaches AWS.

`unwired_references` is the general form of the Go version's first-deploy failure: an
EventTarget named its rule with a re-typed string, so nothing told the engine to create the
rule first. Any input that repeats another resource's name, ARN or id as a plain value,
without a dependency on that resource, is the same bug waiting to happen.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pulumi.runtime import rpc

from harness.capture import RegisteredResource, StackGraph

# Outputs that identify a resource physically. Short values (ids like "main") are skipped:
# equality with them would be coincidence, not reference.
IDENTITY_OUTPUTS = ("id", "arn", "name", "bucket", "keyId")
MIN_IDENTITY_LENGTH = 8


@dataclass(frozen=True)
class UnwiredReference:
    """`resource.prop` mentions `target` (by `value`) but does not depend on it."""

    resource: str
    prop: str
    target: str
    value: str

    def __str__(self) -> str:
        return (
            f"{self.resource}.{self.prop} names {self.target} as the plain value {self.value!r} without depending on it"
        )


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _strings(value: Any) -> Iterator[str]:
    """Every string inside an input, including inside JSON documents (policies, event patterns)."""
    if isinstance(value, str):
        yield value
        if value[:1] in "{[":
            yield from _strings(_json_or_none(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _naming_inputs(resource: RegisteredResource) -> tuple[str, ...]:
    return ("bucket",) if resource.type == "aws:s3/bucket:Bucket" else ("name",)


def identities(resource: RegisteredResource) -> set[str]:
    """The names, ARNs and ids a resource owns.

    A value the resource takes from its inputs, other than its own name, belongs to someone
    else: a bucket policy's id is its bucket's name, a target echoes its topic's ARN.
    """
    naming = _naming_inputs(resource)
    borrowed = {text for prop, value in resource.inputs.items() if prop not in naming for text in _strings(value)}
    values = {resource.id, *(resource.outputs.get(key) for key in IDENTITY_OUTPUTS)}
    return {
        value
        for value in values
        if isinstance(value, str) and len(value) >= MIN_IDENTITY_LENGTH and value not in borrowed
    }


def _mentions(text: str, identity: str) -> bool:
    if text == identity:
        return True
    # An ARN may be extended (bucket/*, log-group:...:*) and still name the same resource.
    return identity.startswith("arn:") and text.startswith(identity) and text[len(identity)] in "/:"


def unwired_references(graph: StackGraph) -> list[UnwiredReference]:
    found: list[UnwiredReference] = []
    targets = [(target, identities(target)) for target in graph.custom()]
    for resource in graph.custom():
        for prop, value in resource.inputs.items():
            strings = set(_strings(value))
            # Per property: a dependency carried by another input (or depends_on) would keep the
            # order today and silently stop doing so when that other input changes.
            depends = set(resource.property_dependencies.get(prop, []))
            for target, names in targets:
                if target.urn == resource.urn or target.urn in depends:
                    continue
                for text in strings:
                    hit = next((name for name in names if _mentions(text, name)), None)
                    if hit is not None:
                        found.append(UnwiredReference(resource.urn, prop, target.urn, hit))
                        break
    return found


def on_default_provider(graph: StackGraph) -> list[str]:
    """Cloud resources not handed one of the program's providers (the engine would use its default one)."""
    explicit = {provider.urn for provider in graph.resources if provider.is_provider}
    # A provider reference is "<provider urn>::<provider id>".
    return [r.urn for r in graph.custom() if r.provider.rsplit("::", 1)[0] not in explicit]


def unknown_inputs(graph: StackGraph) -> list[str]:
    """Inputs the engine would receive as unknown: a test asserting on them checks nothing."""
    return [
        f"{resource.urn}.{prop}"
        for resource in graph.resources
        for prop, value in resource.inputs.items()
        if any(text == rpc.UNKNOWN for text in _strings(value))
    ]


# --- One pipeline's resources, found through the graph's own references ------------------------

PIPELINE = "aws:codepipeline/pipeline:Pipeline"
PROJECT = "aws:codebuild/project:Project"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"


@dataclass(frozen=True)
class BuildStep:
    """One CodeBuild project of a pipeline, with the role it runs as, that role's policy and its log group."""

    project: RegisteredResource
    role: RegisteredResource
    role_policy: RegisteredResource
    log_group: RegisteredResource


@dataclass(frozen=True)
class PipelineResources:
    """A pipeline and what belongs to it alone: its role, its build steps, its alert rules and their e-mail targets.

    Found by following the values the resources name each other by (a project by the name in a stage,
    a role by the ARN a project runs as, a rule by the pipeline name in its pattern), so a test over
    these holds for every service's pipeline of a stack, however many there are. `rule` is the rule on
    the execution's state changes; `action_rule`, where alertStates map to action states, the rule on its
    actions' (pipeline/notifications.py). A rule's Slack target, where the stack has Slack, is the Slack
    channel's, not the pipeline's.
    """

    pipeline: RegisteredResource
    role: RegisteredResource
    role_policy: RegisteredResource
    steps: tuple[BuildStep, ...]
    rule: RegisteredResource
    target: RegisteredResource
    action_rule: RegisteredResource | None = None
    action_target: RegisteredResource | None = None

    def resources(self) -> list[RegisteredResource]:
        own = [self.pipeline, self.role, self.role_policy, self.rule, self.target]
        own += [r for r in (self.action_rule, self.action_target) if r is not None]
        return own + [r for step in self.steps for r in (step.project, step.role, step.role_policy, step.log_group)]


def _only(found: list[RegisteredResource], what: str) -> RegisteredResource:
    if len(found) != 1:
        raise AssertionError(f"expected one {what}, found {[r.name for r in found]}")
    return found[0]


def _by_output(graph: StackGraph, token: str, key: str, value: Any) -> RegisteredResource:
    return _only([r for r in graph.of_type(token) if r.outputs.get(key) == value], f"{token} whose {key} is {value!r}")


def _policy_of(graph: StackGraph, role: RegisteredResource) -> RegisteredResource:
    return _only(
        [p for p in graph.of_type(ROLE_POLICY) if p.inputs.get("role") == role.outputs["name"]],
        f"policy of {role.name}",
    )


EXECUTION_EVENTS = "CodePipeline Pipeline Execution State Change"
ACTION_EVENTS = "CodePipeline Action Execution State Change"
# The component whose targets deliver the alert rules by e-mail (a Slack channel adds targets of its own).
EMAIL_ALERTS = "cicd:notifications:FailureAlert"


def _watches(rule: RegisteredResource, pipeline_name: str, events: str = EXECUTION_EVENTS) -> bool:
    pattern = _json_or_none(str(rule.inputs.get("eventPattern", "")))
    return (
        isinstance(pattern, dict)
        and pattern.get("detail", {}).get("pipeline") == [pipeline_name]
        and pattern.get("detail-type") == [events]
    )


def _email_target(graph: StackGraph, rule: RegisteredResource) -> RegisteredResource:
    return _only(
        [
            t
            for t in graph.of_type(TARGET)
            if t.inputs["rule"] == rule.outputs["name"] and _qualified_type(t.urn).startswith(EMAIL_ALERTS)
        ],
        f"target of {rule.name}",
    )


def _qualified_type(urn: str) -> str:
    """`urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>` -> `<parent type>$<type>`."""
    return urn.split("::")[2].split("$")[-2] if "$" in urn.split("::")[2] else ""


def pipelines_of(graph: StackGraph) -> list[PipelineResources]:
    """Every pipeline of the graph with its own resources, in registration order."""
    found = []
    for pipeline in graph.of_type(PIPELINE):
        role = _by_output(graph, ROLE, "arn", pipeline.inputs["roleArn"])
        steps = []
        for stage in pipeline.inputs["stages"]:
            for action in stage["actions"]:
                if action["provider"] != "CodeBuild":
                    continue
                project = _by_output(graph, PROJECT, "name", action["configuration"]["ProjectName"])
                step_role = _by_output(graph, ROLE, "arn", project.inputs["serviceRole"])
                group = project.inputs["logsConfig"]["cloudwatchLogs"]["groupName"]
                steps.append(
                    BuildStep(
                        project, step_role, _policy_of(graph, step_role), _by_output(graph, LOG_GROUP, "name", group)
                    )
                )
        name = pipeline.outputs["name"]
        rule = _only([r for r in graph.of_type(RULE) if _watches(r, name)], f"failure rule of {name}")
        action_rules = [r for r in graph.of_type(RULE) if _watches(r, name, ACTION_EVENTS)]
        action_rule = _only(action_rules, f"action rule of {name}") if action_rules else None
        found.append(
            PipelineResources(
                pipeline,
                role,
                _policy_of(graph, role),
                tuple(steps),
                rule,
                _email_target(graph, rule),
                action_rule,
                None if action_rule is None else _email_target(graph, action_rule),
            )
        )
    return found
