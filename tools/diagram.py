"""The architecture diagram: a Mermaid flowchart drawn from the resource graph the program registers.

Nothing here is drawn by hand. Components become subgraphs (nested by parent), cloud
resources become nodes labelled by their type's entry in harness/resource_types.py, and
every edge is a dependency the engine saw: an input computed from another resource's
output (labelled with the input's name) or an explicit `depends_on` (dotted). The failure
alerts' run-time paths (every rule, through its targets, to the topic's subscribers) are
found in the same graph and drawn thick and red, so a broken link in a chain shows up as a
missing red arrow.

`make diagram` (python -m tools.diagram) rewrites the diagram section of docs/architecture.md;
tests/test_diagram.py fails when that section no longer matches the graph.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from harness.capture import RegisteredResource, StackGraph, evaluate
from harness.resource_types import EVENT_TARGET, RESOURCE_TYPES, TOPIC_SUBSCRIPTION
from tools.readme import DOCS_DIR, read_section, write_section

DIAGRAM_STACK = "dev"
# The page the diagram lives on, and its marked section there (tools/readme.py).
DIAGRAM_PAGE = DOCS_DIR / "architecture.md"
SECTION = "diagram"

ALERT_COLOUR = "#d62728"

EdgeStyle = Literal["input", "explicit", "alert"]
ARROWS: dict[EdgeStyle, str] = {"input": "-->", "explicit": "-.->", "alert": "==>"}


@dataclass(frozen=True)
class Edge:
    """One arrow, between node ids; `labels` are the input names it stands for."""

    source: str
    target: str
    style: EdgeStyle
    labels: tuple[str, ...] = ()

    def mermaid(self) -> str:
        label = f"|{', '.join(self.labels)}|" if self.labels else ""
        return f"{self.source} {ARROWS[self.style]}{label} {self.target}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def node_id(resource: RegisteredResource) -> str:
    """A stable Mermaid id: logical name and type name (a component and its bucket share a name)."""
    return f"{_slug(resource.name)}__{_slug(resource.type.rsplit(':', 1)[-1])}"


def subscribers_id(protocol: str) -> str:
    return f"subscribers__{_slug(protocol)}"


def type_label(token: str) -> str:
    """A registered type's label (`aws:s3/bucket:Bucket` -> `aws.s3.Bucket`); providers -> `aws.Provider`."""
    package, module, member = token.split(":", 2)
    if package == "pulumi" and module == "providers":
        return f"{member}.Provider"
    return RESOURCE_TYPES[token].label


def _sort_key(resource: RegisteredResource) -> tuple[str, str]:
    return resource.type, resource.name


def _targets_of(resource: RegisteredResource, prop: str) -> list[str]:
    return sorted(resource.property_dependencies.get(prop, []))


@dataclass(frozen=True)
class AlertPath:
    """The run-time path of a failure alert, as (from, to, input name) triples of URNs in flow order."""

    hops: frozenset[tuple[str, str, str]]
    subscriptions: tuple[RegisteredResource, ...]


def alert_path(graph: StackGraph) -> AlertPath:
    """What an alert travels through: source -> rule (eventPattern) -> target (rule) -> topic (arn) -> subscriptions.

    Every hop but target -> topic is also the dependency's direction; a target's `arn` is its
    destination, so that hop is drawn against the dependency, the way the alert flows.
    """
    hops: set[tuple[str, str, str]] = set()
    subscriptions: dict[str, RegisteredResource] = {}
    for target in graph.of_type(EVENT_TARGET.token):
        for rule_urn in _targets_of(target, "rule"):
            for source_urn in _targets_of(graph.by_urn(rule_urn), "eventPattern"):
                hops.add((source_urn, rule_urn, "eventPattern"))
            hops.add((rule_urn, target.urn, "rule"))
        for destination_urn in _targets_of(target, "arn"):
            hops.add((target.urn, destination_urn, "arn"))
            for subscription in graph.of_type(TOPIC_SUBSCRIPTION.token):
                if destination_urn in subscription.property_dependencies.get("topic", []):
                    hops.add((destination_urn, subscription.urn, "topic"))
                    subscriptions[subscription.urn] = subscription
    return AlertPath(frozenset(hops), tuple(sorted(subscriptions.values(), key=_sort_key)))


def edges(graph: StackGraph) -> list[Edge]:
    """Every dependency between drawn resources, one arrow per pair, sorted."""
    known = {resource.urn: resource for resource in graph.resources if not resource.is_provider}
    path = alert_path(graph)
    input_labels: dict[tuple[str, str], set[str]] = defaultdict(set)
    alert_labels: dict[tuple[str, str], set[str]] = defaultdict(set)
    explicit: set[tuple[str, str]] = set()

    for resource in known.values():
        from_inputs: set[str] = set()
        for prop, urns in resource.property_dependencies.items():
            for urn in urns:
                if urn not in known:
                    continue
                from_inputs.add(urn)
                pair = (node_id(known[urn]), node_id(resource))
                if (urn, resource.urn, prop) in path.hops:
                    alert_labels[pair].add(prop)
                elif (resource.urn, urn, prop) in path.hops:
                    alert_labels[pair[::-1]].add(prop)
                else:
                    input_labels[pair].add(prop)
        for urn in set(resource.dependencies) - from_inputs:
            if urn in known:
                explicit.add((node_id(known[urn]), node_id(resource)))

    for subscription in path.subscriptions:
        protocol = str(subscription.inputs.get("protocol", "unknown"))
        alert_labels[(node_id(subscription), subscribers_id(protocol))].add("endpoint")

    drawn = [Edge(s, t, "alert", tuple(sorted(labels))) for (s, t), labels in alert_labels.items()]
    drawn += [Edge(s, t, "input", tuple(sorted(labels))) for (s, t), labels in input_labels.items()]
    drawn += [Edge(s, t, "explicit") for s, t in explicit]
    return sorted(drawn, key=lambda edge: (edge.source, edge.target, edge.style))


def _node(resource: RegisteredResource) -> str:
    return f'{node_id(resource)}["{type_label(resource.type)}<br/>{resource.name}"]'


def _subscriber_nodes(subscriptions: Iterable[RegisteredResource]) -> list[str]:
    protocols = sorted({str(subscription.inputs.get("protocol", "unknown")) for subscription in subscriptions})
    return [
        f'{subscribers_id(protocol)}(["{"e-mail" if protocol == "email" else protocol} subscribers"])'
        for protocol in protocols
    ]


def _blocks(parent: str, children: dict[str, list[RegisteredResource]], depth: int) -> list[str]:
    """The nodes and subgraphs under `parent`, components before resources, each sorted."""
    indent = "    " * depth
    lines: list[str] = []
    members = sorted(children.get(parent, []), key=lambda resource: (resource.custom, *_sort_key(resource)))
    for member in members:
        if member.custom:
            lines.append(indent + _node(member))
            continue
        lines.append(f'{indent}subgraph {node_id(member)}["{member.name} ({member.type})"]')
        lines += _blocks(member.urn, children, depth + 1)
        lines.append(indent + "end")
    return lines


def mermaid(graph: StackGraph) -> str:
    """The flowchart, deterministic for a given graph whatever the registration order."""
    components = {resource.urn for resource in graph.components()}
    children: dict[str, list[RegisteredResource]] = defaultdict(list)
    for resource in graph.resources:
        children[resource.parent if resource.parent in components else ""].append(resource)

    arrows = edges(graph)
    on_path = sorted({end for edge in arrows if edge.style == "alert" for end in (edge.source, edge.target)})
    alert_links = [str(index) for index, edge in enumerate(arrows) if edge.style == "alert"]

    lines = ["flowchart LR", *_blocks("", children, 1)]
    lines += ["    " + node for node in _subscriber_nodes(alert_path(graph).subscriptions)]
    lines += ["    " + edge.mermaid() for edge in arrows]
    if on_path:
        lines.append(f"    classDef alert stroke:{ALERT_COLOUR},stroke-width:3px")
        lines.append(f"    class {','.join(on_path)} alert")
    if alert_links:
        lines.append(f"    linkStyle {','.join(alert_links)} stroke:{ALERT_COLOUR},stroke-width:3px")
    return "\n".join(lines) + "\n"


def region_of(graph: StackGraph) -> str:
    regions = sorted({str(resource.inputs.get("region")) for resource in graph.resources if resource.is_provider})
    return ", ".join(regions)


def diagram_section(graph: StackGraph, stack: str = DIAGRAM_STACK) -> str:
    """The diagram section of docs/architecture.md: what the picture shows, how to read it, and the picture."""
    resources = list(graph.custom())
    providers = [resource for resource in graph.resources if resource.is_provider]
    components = list(graph.components())
    provider_count = f"{len(providers)} provider" + ("" if len(providers) == 1 else "s")
    return "\n".join(
        [
            "## Diagram",
            "",
            f"The {stack} stack ({region_of(graph)}) as the program registers it: {len(resources)} AWS resources "
            f"and {provider_count} in {len(components)} components, {len(graph.resources)} registrations in all "
            "(the counts `make local` prints). Generated by `make diagram` from the graph captured under mocks "
            f'(`harness.capture.evaluate("{stack}")`); `tests/test_diagram.py` fails when this picture is stale.',
            "",
            "- Boxes are components (`cicd:*` types); nodes are AWS resources, with their type and logical name.",
            "- `A --> B` labelled `x`: B's input `x` is computed from A's output, so Pulumi creates A first.",
            "- Dotted `A -.-> B`: an explicit `depends_on` (an ordering the inputs alone do not imply).",
            "- Thick red: the path a failure alert travels. Each pipeline has two EventBridge rules, one on its "
            "execution's state changes (`-pipeline-failed`) and one on its actions' (`-action-failed`), both "
            "naming the pipeline in their `eventPattern`; each rule feeds its target (`rule`), each target "
            "publishes to the SNS topic (its `arn`), and the topic's subscriptions deliver to the subscribers.",
            "- The Build project publishes its test results to a CodeBuild report group of its own "
            "(`cicd:codebuild:TestReports`), which exports the raw files to the artifact bucket.",
            "- Every AWS resource uses the one explicit `aws.Provider` in the `cicd:aws:Account` box.",
            "",
            "```mermaid",
            mermaid(graph).rstrip("\n"),
            "```",
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    page = DIAGRAM_PAGE.relative_to(DOCS_DIR.parent)
    parser = argparse.ArgumentParser(description=f"Regenerate the architecture diagram in {page} from the dev graph.")
    parser.add_argument("--check", action="store_true", help=f"only report whether {page} is up to date")
    args = parser.parse_args(argv)
    body = diagram_section(evaluate(DIAGRAM_STACK))
    if args.check:
        if read_section(DIAGRAM_PAGE, SECTION) != body:
            print(f"{page}: the diagram is stale: run `make diagram`", file=sys.stderr)
            return 1
        print(f"{page}: the diagram is up to date")
        return 0
    changed = write_section(DIAGRAM_PAGE, SECTION, body)
    print(f"{page}: diagram section rewritten" if changed else f"{page}: the diagram was already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
