"""The architecture diagram (docs/architecture.md) is drawn from the dev graph, and says so truthfully.

The staleness check regenerates the section in memory and compares it with the page; the two
tests after it show that the check notices a resource added without `make diagram`.
"""

from __future__ import annotations

import re
import runpy
from dataclasses import replace

import pulumi_aws as aws

from harness.capture import PROGRAM, StackGraph, evaluate
from tools.diagram import (
    DIAGRAM_PAGE,
    DIAGRAM_STACK,
    SECTION,
    diagram_section,
    main,
    mermaid,
    node_id,
    subscribers_id,
)
from tools.readme import README, read_section

STALE = "docs/architecture.md's diagram is stale: run `make diagram`"

PIPELINE = "aws:codepipeline/pipeline:Pipeline"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
PROJECT = "aws:codebuild/project:Project"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"

EDGE = re.compile(r"^(?P<source>\w+) (?P<arrow>-->|-\.->|==>)(?:\|(?P<labels>[^|]*)\|)? (?P<target>\w+)$")


def edge_lines(text: str) -> list[re.Match[str]]:
    return [found for line in text.splitlines() if (found := EDGE.match(line.strip()))]


def has_edge(text: str, source: str, arrow: str, target: str, label: str | None = None) -> bool:
    return any(
        (edge["source"], edge["arrow"], edge["target"]) == (source, arrow, target)
        and (label is None or label in (edge["labels"] or "").split(", "))
        for edge in edge_lines(text)
    )


def enclosing_subgraphs(text: str) -> dict[str, str]:
    """Each node or subgraph id -> the id of the subgraph it is drawn in ("" at the top)."""
    stack = [""]
    enclosing: dict[str, str] = {}
    for line in (line.strip() for line in text.splitlines()):
        if line == "end":
            stack.pop()
        elif found := re.match(r"^subgraph (\w+)\[", line):
            enclosing[found[1]] = stack[-1]
            stack.append(found[1])
        elif found := re.match(r"^(\w+)(\[|\(\[)", line):
            enclosing[found[1]] = stack[-1]
    return enclosing


def test_the_diagram_matches_the_dev_graph(dev_graph: StackGraph) -> None:
    assert read_section(DIAGRAM_PAGE, SECTION) == diagram_section(dev_graph), STALE


def test_make_diagram_check_agrees_with_the_page() -> None:
    assert main(["--check"]) == 0, STALE


def test_the_diagram_is_drawn_in_one_place_only() -> None:
    """The front page links the diagram; a second, hand-kept copy would go stale unnoticed."""
    assert "```mermaid" not in README.read_text(encoding="utf-8")
    assert "(docs/architecture.md)" in README.read_text(encoding="utf-8")


def test_the_diagram_states_the_counts_make_local_prints(dev_graph: StackGraph) -> None:
    resources = sum(1 for _ in dev_graph.custom())
    components = sum(1 for _ in dev_graph.components())
    stated = (
        f"{resources} AWS resources and 1 provider in {components} components, "
        f"{len(dev_graph.resources)} registrations in all"
    )
    assert stated in diagram_section(dev_graph)
    assert resources + 1 + components == len(dev_graph.resources)


def test_an_added_subscriber_makes_the_diagram_stale() -> None:
    graph = evaluate(DIAGRAM_STACK, {"notificationEmails": ["platform-team@example.com", "oncall@example.com"]})
    added = graph.one(SUBSCRIPTION, "email-1")
    regenerated = diagram_section(graph)

    assert f"{node_id(added)}[" in regenerated
    assert node_id(added) not in read_section(DIAGRAM_PAGE, SECTION)
    assert regenerated != read_section(DIAGRAM_PAGE, SECTION)


def test_an_added_resource_makes_the_diagram_stale() -> None:
    def program_with_an_extra_topic() -> None:
        runpy.run_path(str(PROGRAM), run_name="__main__")
        aws.sns.Topic("unplanned-topic")

    graph = evaluate(DIAGRAM_STACK, program=program_with_an_extra_topic)
    added = graph.one(TOPIC, "unplanned-topic")

    assert f"{node_id(added)}[" in diagram_section(graph)
    assert diagram_section(graph) != read_section(DIAGRAM_PAGE, SECTION)


def test_every_resource_is_drawn_once_inside_its_parent_component(dev_graph: StackGraph) -> None:
    text = mermaid(dev_graph)
    enclosing = enclosing_subgraphs(text)
    components = {resource.urn for resource in dev_graph.components()}

    for resource in dev_graph.resources:
        opening = f"subgraph {node_id(resource)}[" if not resource.custom else f"{node_id(resource)}["
        drawn = [line for line in text.splitlines() if line.strip().startswith(opening)]
        assert len(drawn) == 1, f"{resource.type} {resource.name} is drawn {len(drawn)} times"
        parent = node_id(dev_graph.by_urn(resource.parent)) if resource.parent in components else ""
        assert enclosing[node_id(resource)] == parent, f"{resource.name} is drawn outside {parent or 'the top'}"


def test_the_provider_is_drawn_once_and_without_edges(dev_graph: StackGraph) -> None:
    text = mermaid(dev_graph)
    (provider,) = [resource for resource in dev_graph.resources if resource.is_provider]
    ends = {end for edge in edge_lines(text) for end in (edge["source"], edge["target"])}

    assert text.count(f"{node_id(provider)}[") == 1
    assert node_id(provider) not in ends


def test_every_input_dependency_and_depends_on_is_an_edge(dev_graph: StackGraph) -> None:
    text = mermaid(dev_graph)
    drawn = {resource.urn for resource in dev_graph.resources if not resource.is_provider}

    for resource in dev_graph.resources:
        from_inputs = set()
        for prop, urns in resource.property_dependencies.items():
            for urn in (urn for urn in urns if urn in drawn):
                from_inputs.add(urn)
                source, target = node_id(dev_graph.by_urn(urn)), node_id(resource)
                assert any(
                    has_edge(text, a, arrow, b, prop)
                    for a, arrow, b in ((source, "-->", target), (source, "==>", target), (target, "==>", source))
                ), f"no edge for {resource.name}.{prop} <- {source}"
        for urn in set(resource.dependencies) - from_inputs:
            assert has_edge(text, node_id(dev_graph.by_urn(urn)), "-.->", node_id(resource))


def test_the_failure_alert_path_is_drawn_thick_from_pipeline_to_subscribers(dev_graph: StackGraph) -> None:
    """Both of the pipeline's rules (its execution's and its actions' state changes) reach the subscribers."""
    text = mermaid(dev_graph)
    pipeline, topic, subscription = dev_graph.one(PIPELINE), dev_graph.one(TOPIC, "alerts"), dev_graph.one(SUBSCRIPTION)
    rules = {kind: dev_graph.one(RULE, f"-{kind}-failed") for kind in ("pipeline", "action")}
    targets = {kind: dev_graph.one(TARGET, f"-{kind}-failed-to-topic") for kind in ("pipeline", "action")}
    assert len(dev_graph.of_type(RULE)) == len(dev_graph.of_type(TARGET)) == 2
    hops = [(topic, subscription, "topic")]
    for kind in ("pipeline", "action"):
        hops += [
            (pipeline, rules[kind], "eventPattern"),
            (rules[kind], targets[kind], "rule"),
            (targets[kind], topic, "arn"),
        ]

    for source, destination, prop in hops:
        assert has_edge(text, node_id(source), "==>", node_id(destination), prop), (
            f"missing alert hop {source.name} -> {destination.name} via {prop}"
        )
    assert has_edge(text, node_id(subscription), "==>", subscribers_id("email"), "endpoint")
    assert f'{subscribers_id("email")}(["e-mail subscribers"])' in text


def test_alert_edges_and_only_they_are_styled_red(dev_graph: StackGraph) -> None:
    text = mermaid(dev_graph)
    thick = [str(index) for index, edge in enumerate(edge_lines(text)) if edge["arrow"] == "==>"]
    (styled,) = [line.split()[1] for line in text.splitlines() if line.strip().startswith("linkStyle")]

    assert styled.split(",") == thick
    # Per rule (execution, action): pipeline -> rule -> target -> topic; then topic -> subscription -> subscribers.
    assert len(thick) == 2 * 3 + 2


def test_the_drawing_does_not_depend_on_registration_order(dev_graph: StackGraph) -> None:
    shuffled = StackGraph(
        resources=[
            replace(
                resource,
                property_dependencies={
                    prop: urns[::-1] for prop, urns in reversed(resource.property_dependencies.items())
                },
                dependencies=resource.dependencies[::-1],
            )
            for resource in reversed(dev_graph.resources)
        ],
        exports=dev_graph.exports,
        invokes=dev_graph.invokes,
    )

    assert mermaid(shuffled) == mermaid(dev_graph)


def test_the_build_steps_report_group_is_drawn_feeding_its_project_and_role(dev_graph: StackGraph) -> None:
    text = mermaid(dev_graph)
    (group,) = dev_graph.of_type("aws:codebuild/reportGroup:ReportGroup")
    project, policy = dev_graph.one(PROJECT, "-build"), dev_graph.one(ROLE_POLICY, "-build-role-policy")

    assert enclosing_subgraphs(text)[node_id(group)] == node_id(dev_graph.by_urn(group.parent))
    assert has_edge(text, node_id(group), "-->", node_id(project), "environment")
    assert has_edge(text, node_id(group), "-->", node_id(policy), "policy")
