"""One place registers a resource type: harness/resource_types.py, with its mock answer, emulator
translator, idle price and diagram label.

Every type the stacks register has all four, the registry holds no type that no stack registers,
and the modules that use the facts (the mocks, the emulator, the cost model, the bench and the
diagram) list no types of their own. So a new type is an entry there, the component registering it,
and its GitHub role calls (pipeline/github_calls.py): three files.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
import secrets

import pulumi_aws as aws
import pytest

from benchmarks.bench import floor_classes
from benchmarks.costs import idle_price, itemise
from emulator.resources import TRANSLATORS
from harness.capture import ProgramFailedError, StackGraph, evaluate, evaluate_once
from harness.resource_types import RESOURCE_TYPES, Price, ResourceType, Translator, autoname
from harness.stack_config import BOOTSTRAP_DIR, PROJECT_DIR, qualify
from tools.diagram import mermaid, type_label

TOKEN_KEY = "pulumiAccessToken"
# Every option that adds resource types: the GitHub roles with their OIDC provider and state bucket
# grants, a Pulumi token kept in Secrets Manager (made up per run, set as a secret), and the Slack
# channel (AWS Chatbot's configuration).
EVERY_OPTION = {
    "githubRepository": "my-org/my-service",
    "githubStateBucket": "my-pulumi-state",
    TOKEN_KEY: "pul-" + secrets.token_hex(20),
    "backendUrl": None,
    "slackWorkspaceId": "T07EA123LEP",
    "slackChannelId": "C07EZ1ABC23",
}
# The modules that use the registry's facts; none of them may name a resource type itself.
CONSUMERS = (
    "harness/fake_aws.py",
    "emulator/resources.py",
    "emulator/mocks.py",
    "emulator/lifecycle.py",
    "emulator/local.py",
    "benchmarks/costs.py",
    "benchmarks/bench.py",
    "tools/diagram.py",
)
# A pulumi-aws resource type token (`aws:s3/bucket:Bucket`); invokes live in module `index`.
RESOURCE_TOKEN = re.compile(r"aws:(?!index/)\w+/\w+:\w+")


def stacks_of(project_dir: str) -> list[str]:
    return sorted(path.name.split(".")[1] for path in (PROJECT_DIR / project_dir).glob("Pulumi.*.yaml"))


@functools.cache
def every_graph() -> dict[str, StackGraph]:
    """Each stack file of both programs, and each pipeline stack again with every option on."""
    graphs = {f"bootstrap {stack}": evaluate_once(stack, project_dir=BOOTSTRAP_DIR) for stack in stacks_of("bootstrap")}
    for stack in stacks_of("."):
        graphs[stack] = evaluate_once(stack)
        graphs[f"{stack} every option"] = evaluate_once(stack, EVERY_OPTION, secret_keys=[qualify(TOKEN_KEY)])
    return graphs


def sdk_class_exists(registered: ResourceType) -> bool:
    module, _, member = registered.sdk_class.rpartition(".")
    return hasattr(importlib.import_module(module), member)


def test_every_type_a_stack_registers_has_its_four_facts() -> None:
    for stack, graph in every_graph().items():
        for resource in graph.custom():
            registered = RESOURCE_TYPES.get(resource.type)
            assert registered is not None, f"{stack}: {resource.type} is not in harness/resource_types.py"
            assert resource.id, f"{stack}: the mock gave {resource.name} no id"
            assert callable(registered.translator.plan), resource.type
            assert callable(registered.translator.delete), resource.type
            price = idle_price(resource, graph)
            assert price.source.startswith("https://aws.amazon.com/"), f"{resource.type}: {price.source}"
            assert sdk_class_exists(registered), f"{resource.type}: no {registered.sdk_class}"
            assert type_label(resource.type) == registered.label == registered.sdk_class.removeprefix("pulumi_")


def test_the_registry_holds_only_types_a_stack_registers() -> None:
    """An entry no stack registers any more is dead weight that hides a renamed type."""
    registered = {resource.type for graph in every_graph().values() for resource in graph.custom()}
    assert set(RESOURCE_TYPES) == registered


def type_literals(module: str) -> list[str]:
    """The string literals in `module` that are a resource type token (a docstring's example is not)."""
    tree = ast.parse((PROJECT_DIR / module).read_text(encoding="utf-8"))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and RESOURCE_TOKEN.fullmatch(node.value)
    ]


def test_the_registry_is_the_only_place_listing_types() -> None:
    named = {module: type_literals(module) for module in CONSUMERS}

    assert {module: tokens for module, tokens in named.items() if tokens} == {}
    assert sorted(type_literals("harness/resource_types.py")) == sorted(RESOURCE_TYPES)


def test_the_emulator_translates_the_registered_types_through_their_entries() -> None:
    assert {token: registered.translator for token, registered in RESOURCE_TYPES.items()} == TRANSLATORS


def a_queue() -> None:
    aws.sqs.Queue("jobs")


QUEUE = ResourceType(
    "aws:sqs/queue:Queue",
    mock=lambda request: (
        f"https://sqs.{request.region}.amazonaws.com/{request.account_id}/{request.physical_name()}",
        {"arn": request.arn("sqs", request.physical_name())},
    ),
    # Never run here: TRANSLATORS is built from the registry when the emulator is imported.
    translator=Translator(plan=lambda _request: lambda: ("", {}), delete=lambda _target, _resource: None),
    price=lambda _resource, _graph: Price(0.0, "billed per request only", "https://aws.amazon.com/sqs/pricing/"),
)


def test_a_type_missing_from_the_registry_is_refused_naming_it() -> None:
    with pytest.raises(
        ProgramFailedError, match=r"aws:sqs/queue:Queue \(jobs\): register it in harness/resource_types"
    ):
        evaluate("dev", program=a_queue, config={"aws:region": "eu-west-1"})


def test_an_entry_is_all_a_new_type_needs_to_be_answered_priced_counted_and_drawn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(RESOURCE_TYPES, QUEUE.token, QUEUE)

    graph = evaluate("dev", program=a_queue, config={"aws:region": "eu-west-1"})
    queue = graph.one(QUEUE.token, "jobs")
    (line,) = itemise(graph)

    assert queue.outputs["arn"] == f"arn:aws:sqs:eu-west-1:123456789012:{autoname('jobs')}"
    assert line.price.note == "billed per request only"
    assert floor_classes([graph]) == ["pulumi_aws.sqs.Queue"]
    assert 'aws.sqs.Queue<br/>jobs"]' in mermaid(graph)
