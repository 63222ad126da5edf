"""Pulumi mocks that create each registered resource in the emulated account, as the engine would.

The SDK calls `new_resource` as soon as a resource's inputs have resolved (registrations run on a
thread pool), so a resource that does not depend on another's output may be created before it,
exactly as in a real `pulumi up`. Calls into moto are serialised because moto's in-process
backends are not thread-safe; that changes no order that depends on outputs.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

from emulator.backend import Emulator, partition_of
from emulator.errors import EmulatorError
from emulator.inputs import Fields
from emulator.resources import TRANSLATORS, Request, Target
from harness.capture import PROVIDER_PREFIX, StackGraph
from harness.fake_aws import stable_uuid

# Provider inputs that only steer the real provider's own start-up checks; nothing to emulate.
PROVIDER_START_UP_SWITCHES = frozenset({"skipCredentialsValidation", "skipRegionValidation"})


def describe(error: BaseException) -> str:
    """An AWS error as AWS words it (`Code: message`, from the operation), anything else as is."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{error.operation_name} answered {details.get('Code')}: {details.get('Message')}"
    return str(error)


@dataclass(frozen=True)
class Step:
    """One resource created or deleted, for progress lines and timings."""

    action: Literal["create", "delete"]
    type: str
    name: str
    milliseconds: float
    note: str = ""


Progress = Callable[[Step], None]


def ignore_step(_: Step) -> None:
    pass


class MotoMocks(Mocks):
    """Creates every custom resource in the emulator; components and providers create nothing."""

    def __init__(
        self, emulator: Emulator, *, region: str, account: str | None = None, on_step: Progress = ignore_step
    ) -> None:
        self.emulator = emulator
        self.default_region = region
        # The account the program's credentials sign in to (None: moto's default account).
        self.account = account
        self.on_step = on_step
        self.steps: list[Step] = []
        self._targets: dict[str, Target] = {}
        self._lock = threading.Lock()
        # Like `pulumi up`, nothing new is created once a creation has failed.
        self.first_failure: EmulatorError | None = None

    def target_for(self, provider_reference: str | None) -> Target:
        """The account and region a resource's provider points at (`urn::id`; empty means default)."""
        provider_id = (provider_reference or "").rpartition("::")[2]
        if provider_id not in self._targets:
            # The default provider: the stack's region, no default tags.
            self._targets[provider_id] = self._target(self.default_region, {})
        return self._targets[provider_id]

    def _target(self, region: str, default_tags: dict[str, str]) -> Target:
        return Target(
            emulator=self.emulator,
            region=region,
            account_id=self.emulator.account_id(region, self.account),
            partition=partition_of(region),
            default_tags=default_tags,
        )

    def _register_provider(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        fields = Fields(args.inputs)
        region = fields.get("region") or self.default_region
        default_tags = fields.get("defaultTags")
        # The engine hands provider configuration over as JSON strings.
        tags = json.loads(default_tags).get("tags", {}) if isinstance(default_tags, str) else (default_tags or {})
        for switch in PROVIDER_START_UP_SWITCHES:
            fields.get(switch)
        _refuse_unread(fields)
        provider_id = stable_uuid(args.name)
        self._targets[provider_id] = self._target(region, tags)
        return provider_id, dict(args.inputs)

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if not args.custom:
            return "", {}
        with self._lock:
            if self.first_failure:
                raise EmulatorError(f"{args.typ} {args.name} not created: the deployment stopped at an earlier failure")
            started = time.perf_counter()
            try:
                resource_id, outputs, note = self._create(args)
            except (EmulatorError, ClientError, BotoCoreError) as error:
                self.first_failure = EmulatorError(f"creating {args.typ} {args.name} failed: {describe(error)}")
                raise self.first_failure from error
            step = Step("create", args.typ, args.name, (time.perf_counter() - started) * 1000, note)
            self.steps.append(step)
            self.on_step(step)
        return resource_id, outputs

    def _create(self, args: MockResourceArgs) -> tuple[str, dict[str, Any], str]:
        if args.typ.startswith(PROVIDER_PREFIX):
            if args.typ != "pulumi:providers:aws":
                raise EmulatorError("the emulator has no such provider")
            resource_id, outputs = self._register_provider(args)
            return resource_id, outputs, "nothing to create"
        translator = TRANSLATORS.get(args.typ)
        if translator is None:
            raise EmulatorError(
                "the emulator does not support this resource type; register it in harness/resource_types.py"
            )
        fields = Fields(reveal_secrets(args.inputs))
        apply = translator.plan(Request(logical_name=args.name, inputs=fields, target=self.target_for(args.provider)))
        _refuse_unread(fields, excused=translator.gaps)
        resource_id, computed = apply()
        return resource_id, {**args.inputs, **computed}, translator.placeholder

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        target = self.target_for(args.provider)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            identity = target.client("sts").get_caller_identity()
            return {
                "accountId": identity["Account"],
                "arn": identity["Arn"],
                "userId": identity["UserId"],
                "id": identity["Account"],
            }, []
        if args.token == "aws:index/getPartition:getPartition":
            partition = target.partition
            return {
                "partition": partition.name,
                "dnsSuffix": partition.dns_suffix,
                "reverseDnsPrefix": ".".join(reversed(partition.dns_suffix.split("."))),
                "id": partition.name,
            }, []
        if args.token == "aws:index/getRegion:getRegion":
            return {
                "name": target.region,
                "region": target.region,
                "id": target.region,
                "description": target.partition.region_description,
                "endpoint": f"ec2.{target.region}.{target.partition.dns_suffix}",
            }, []
        raise EmulatorError(f"the emulator cannot answer the invoke {args.token}: add it to emulator/mocks.py")


def reveal_secrets(value: Any) -> Any:
    """Inputs with each secret's value in place of the SDK's secret wrapper (AWS receives the value)."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return reveal_secrets(value["value"])
        return {key: reveal_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal_secrets(item) for item in value]
    return value


def _refuse_unread(fields: Fields, excused: Container[str] = frozenset()) -> None:
    unread = [path for path in fields.unread() if path not in excused]
    if unread:
        raise EmulatorError(
            f"the emulator would drop the inputs {', '.join(unread)}; "
            "translate them in the type's entry in harness/resource_types.py, "
            "or list them as gaps there and in the README"
        )


class ReplayMocks(Mocks):
    """A second run of the program against an existing deployment, like a second `pulumi up`.

    Each resource gets the id and outputs it was created with; nothing touches the emulator, so
    the inputs of the two runs can be compared for changes. A resource the first run did not have
    is an error (a real second run would create it).
    """

    def __init__(self, deployed: StackGraph, invokes: MotoMocks) -> None:
        self._by_name = {(resource.type, resource.name): resource for resource in deployed.resources}
        self._invokes = invokes

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        previous = self._by_name.get((args.typ, args.name))
        if previous is None:
            raise EmulatorError(f"a second run would create {args.typ} {args.name}, which the first did not")
        return previous.id, previous.outputs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return self._invokes.call(args)
