"""What a stack costs per month while no build runs, itemised by resource from the captured graph.

Each resource type's idle price is one fact of its entry in harness/resource_types.py (the rules,
their list prices and the pricing pages they were read from, on PRICES_READ_ON); this module
applies them to a graph. A type without an entry is an error (UnpricedResourceError), so a new
resource cannot slip into the stack unpriced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.capture import RegisteredResource, StackGraph
from harness.resource_types import RESOURCE_TYPES, Price


class UnpricedResourceError(LookupError):
    """The graph holds a resource type the registry does not know, so it has no price."""


@dataclass(frozen=True)
class CostLine:
    """One resource's line on the bill."""

    name: str
    type: str
    price: Price


def idle_price(resource: RegisteredResource, graph: StackGraph) -> Price:
    registered = RESOURCE_TYPES.get(resource.type)
    if registered is None:
        raise UnpricedResourceError(
            f"no idle price for {resource.type} ({resource.name}): register the type in harness/resource_types.py"
        )
    return registered.price(resource, graph)


def itemise(graph: StackGraph) -> list[CostLine]:
    """One line per cloud resource (providers are not billed), dearest first, then by type and name."""
    lines = [CostLine(resource.name, resource.type, idle_price(resource, graph)) for resource in graph.custom()]
    return sorted(lines, key=lambda line: (-line.price.eventually, line.type, line.name))


def total(lines: Iterable[CostLine]) -> tuple[float, float]:
    """(monthly now, monthly once every rotation charge has arrived)."""
    items = list(lines)
    return sum(line.price.monthly_usd for line in items), sum(line.price.eventually for line in items)
