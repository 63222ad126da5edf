"""Where the emulator creates each resource: the account, region and inputs a translator is handed.

Each resource type's translator (how it is created in moto and deleted again) is one fact of its
entry in harness/resource_types.py, beside its mock answer, price and label; TRANSLATORS is the
emulator's view of that registry. A translator reads every input through `Fields` and returns the
boto3 calls to make; emulator/mocks.py refuses to run them if any input was left unread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.backend import Emulator, Partition
from emulator.errors import EmulatorError
from emulator.inputs import Fields
from emulator.validation import validate
from harness.resource_types import (
    MOTO_ONLY_LOCATION,
    RESOURCE_TYPES,
    Translator,
    default_topic_policy,
    physical_name,
)

# MOTO_ONLY_LOCATION and default_topic_policy are the registry's; the emulator tests import them from here.
__all__ = ["MOTO_ONLY_LOCATION", "TRANSLATORS", "Request", "Target", "Translator", "default_topic_policy"]


@dataclass(frozen=True)
class Target:
    """Where resources go: the account and region of the provider they are registered with."""

    emulator: Emulator
    region: str
    account_id: str
    partition: Partition
    default_tags: Mapping[str, str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.emulator.client(service, self.region, self.account_id)

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition.name}:{service}:{region}:{self.account_id}:{resource}"

    def check(self, service: str, operation: str, params: Mapping[str, Any]) -> None:
        """Validate a call that is not made now (a later delete, or a service moto lacks)."""
        validate(params, self.client(service).meta.service_model.operation_model(operation))


@dataclass
class Request:
    """One resource to create: its logical name, its inputs and where it goes."""

    logical_name: str
    inputs: Fields
    target: Target

    def physical_name(self, key: str = "name", *, lower: bool = False) -> str:
        """The configured name, or the autoname pulumi-aws would generate (deterministic here)."""
        return physical_name(self.inputs.get(key), self.logical_name, lower=lower)

    def tags(self) -> dict[str, str]:
        """The provider's default tags overlaid with the resource's own, as pulumi-aws applies them."""
        return {**self.target.default_tags, **(self.inputs.get("tags") or {})}

    def refusal(self, why: str) -> EmulatorError:
        """The error a translator raises for what it cannot create faithfully (it imports nothing from here)."""
        return EmulatorError(why)


# The emulator's view of the registry: emulator/mocks.py creates, and emulator/lifecycle.py deletes, through it.
TRANSLATORS: dict[str, Translator] = {token: registered.translator for token, registered in RESOURCE_TYPES.items()}
