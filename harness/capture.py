"""Evaluate the program under `pulumi.runtime.set_mocks` and capture the resource graph.

The monitor records every RegisterResource request as the engine would receive it: inputs,
`propertyDependencies` (which resources each input was computed from), explicit
`dependencies`, parent and provider. Those requests are what a real `pulumi up` orders its
work by, so a missing edge here is a missing edge in AWS.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import runpy
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from harness.fake_aws import FakeAws
from harness.stack_config import PROJECT_DIR, project_name, stack_config

PROGRAM = PROJECT_DIR / "__main__.py"
PROVIDER_PREFIX = "pulumi:providers:"


@dataclass
class RegisteredResource:
    """One RegisterResource request and the mock's answer to it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    inputs: dict[str, Any]
    property_dependencies: dict[str, list[str]]
    dependencies: list[str]
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    # Resource options the engine acts on at delete time (a protected resource cannot be deleted).
    protect: bool = False
    retain_on_delete: bool = False

    @property
    def is_provider(self) -> bool:
        return self.type.startswith(PROVIDER_PREFIX)

    def depends_on(self, prop: str, other: RegisteredResource) -> bool:
        """True when input `prop` was computed from `other` (an output-carried dependency)."""
        return other.urn in self.property_dependencies.get(prop, [])


@dataclass
class StackGraph:
    """Everything one evaluation registered, in registration order, and the stack's exports."""

    resources: list[RegisteredResource]
    exports: dict[str, Any]
    invokes: list[tuple[str, dict[str, Any]]]

    def by_urn(self, urn: str) -> RegisteredResource:
        return next(r for r in self.resources if r.urn == urn)

    def of_type(self, token: str) -> list[RegisteredResource]:
        return [r for r in self.resources if r.type == token]

    def one(self, token: str, name_contains: str = "") -> RegisteredResource:
        found = [r for r in self.of_type(token) if name_contains in r.name]
        if len(found) != 1:
            raise AssertionError(f"expected one {token} named *{name_contains}*, found {[r.name for r in found]}")
        return found[0]

    def custom(self) -> Iterator[RegisteredResource]:
        """Cloud resources: custom and not providers."""
        return (r for r in self.resources if r.custom and not r.is_provider)

    def components(self) -> Iterator[RegisteredResource]:
        return (r for r in self.resources if not r.custom)


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that keeps each registration's dependencies, which the base class drops."""

    def __init__(self, mocks: pulumi_mocks.Mocks) -> None:
        super().__init__(mocks)
        self.registered: list[RegisteredResource] = []
        self.invokes: list[tuple[str, dict[str, Any]]] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        self.registered.append(
            RegisteredResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent,
                provider=request.provider,
                inputs=rpc.deserialize_properties(request.object),
                property_dependencies={key: list(deps.urns) for key, deps in request.propertyDependencies.items()},
                dependencies=list(request.dependencies),
                id=response.id,
                outputs=dict(self.resources[response.urn].state),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
            )
        )
        return response

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        self.invokes.append((request.tok, rpc.deserialize_properties(request.args)))
        return super().Invoke(request)  # type: ignore[no-untyped-call]


class ProgramFailedError(Exception):
    """The program raised; `graph` holds whatever it registered before it did."""

    def __init__(self, cause: BaseException, graph: StackGraph) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.graph = graph


# Registrations left in flight by a failure end within milliseconds; this bounds a hang.
STRAGGLER_TIMEOUT_SECONDS = 30


def _let_stragglers_finish() -> None:
    """Run what the SDK left in flight after a failure to its end, and forget it.

    The SDK reports the first failed registration at once and leaves the rest pending on its
    shared event loop, and their outputs in its pending-outputs set, where the next evaluation
    in this process would meet them and re-raise this failure. Finishing them here also
    completes the failure's graph with whatever registered before the program stopped.
    """
    loop = _ensure_event_loop()  # type: ignore[no-untyped-call] # the loop the SDK runs on
    deadline = time.monotonic() + STRAGGLER_TIMEOUT_SECONDS
    # Finished registrations resolve outputs that start further tasks: repeat until none is left.
    while pending := [task for task in asyncio.all_tasks(loop) if not task.done()]:
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{len(pending)} registrations still running {STRAGGLER_TIMEOUT_SECONDS} s after a failure"
            )
        loop.run_until_complete(asyncio.wait(pending, timeout=deadline - time.monotonic()))
    with runtime_settings.SETTINGS.lock:
        finished = [*runtime_settings.SETTINGS.outputs]
        runtime_settings.SETTINGS.outputs.clear()
    for task in finished:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: each is a consequence of the failure already reported


def _without_stack_traces() -> Any:
    """Registrations that carry an empty stack trace, for the length of one evaluation.

    The SDK walks the whole Python stack for each registration and turns every frame into a file
    URI, so that the engine can show where a resource was declared; the mock monitor drops it. Under
    pytest the stack is deep and that walk was a fifth of each evaluation's time. Nothing here reads
    a source position, and an SDK without the function is left as it is.
    """
    if not hasattr(runtime_resource, "_get_stack_trace"):
        return contextlib.nullcontext()
    return mock.patch.object(runtime_resource, "_get_stack_trace", source_pb2.StackTrace)


def _resolve(value: Any) -> Any:
    if isinstance(value, pulumi.Output):
        return _resolve(_sync_await(value.future()))
    if isinstance(value, dict):
        return {key: _resolve(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item) for item in value]
    return value


def evaluate(
    stack: str = "dev",
    overrides: Mapping[str, Any] | None = None,
    *,
    mocks: pulumi_mocks.Mocks | None = None,
    program: Callable[[], Any] | Path | None = None,
    config: Mapping[str, str] | None = None,
    secret_keys: list[str] | None = None,
    project_dir: Path = PROJECT_DIR,
) -> StackGraph:
    """Run `program` for `stack` of the project in `project_dir` and return what it registered.

    `project_dir` is the pipeline at the repository root by default, or harness.stack_config's
    BOOTSTRAP_DIR: its `__main__.py` is the program unless `program` says otherwise, its
    Pulumi.yaml names the project (set_mocks' `project=` and the namespace of its config keys),
    and its Pulumi.<stack>.yaml holds the stack's config. Raises ProgramFailedError if the program
    raises. `overrides` change single config keys on top of the stack file; `config` replaces the
    stack's config entirely.
    """
    program = project_dir / "__main__.py" if program is None else program
    values = dict(config) if config is not None else stack_config(stack, overrides, project_dir)
    mocks = mocks or FakeAws(region=values.get("aws:region", "eu-west-1"))
    monitor = RecordingMonitor(mocks)

    # Each evaluation gets a fresh root stack: set_mocks only creates one when none exists.
    runtime_settings.ROOT.set(None)
    project = project_name(project_dir)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(values, secret_keys or [])

    def run() -> None:
        if isinstance(program, Path):
            runpy.run_path(str(program), run_name="__main__")
        else:
            program()

    failure: BaseException | None = None
    with _without_stack_traces():
        try:
            _sync_await(run_pulumi_func(run))
        except Exception as error:
            failure = error
        if failure is not None:
            _let_stragglers_finish()
    root = runtime_settings.get_root_resource()
    exports = _resolve(dict(getattr(root, "outputs", {}))) if failure is None else {}
    graph = StackGraph(resources=monitor.registered, exports=exports, invokes=monitor.invokes)
    if failure is not None:
        raise ProgramFailedError(failure, graph) from failure
    return graph


def evaluate_once(
    stack: str = "dev",
    overrides: Mapping[str, Any] | None = None,
    *,
    secret_keys: list[str] | None = None,
    project_dir: Path = PROJECT_DIR,
) -> StackGraph:
    """`evaluate` of a shipped program under the default mocks, once per process for each configuration.

    For tests that only read the graph: every caller of one configuration gets the same StackGraph,
    so none may change it, and a test that patches what the program calls must use `evaluate`, or
    it would read an evaluation made before its patch. Each evaluation takes 60-100 ms, and most
    configurations are read by several test modules.
    """
    return _evaluated(stack, json.dumps(overrides or {}, sort_keys=True), tuple(sorted(secret_keys or ())), project_dir)


@functools.cache
def _evaluated(stack: str, overrides: str, secret_keys: tuple[str, ...], project_dir: Path) -> StackGraph:
    return evaluate(stack, json.loads(overrides), secret_keys=list(secret_keys), project_dir=project_dir)
