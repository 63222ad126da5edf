"""The bootstrap's settings: read from `pulumi.Config` in one place, validated with pydantic, frozen.

A bad value raises `pulumi.RunError` naming the key (with its path inside a list or statement),
the value, what is allowed and the `pulumi config set` command that fixes it, before any resource
is registered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from pipeline.config_errors import UNSET, Region, config_error, config_path, first_refusal, qualified_key

PROJECT = "cicd-bootstrap"

ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"

# IAM attaches 10 managed policies to a role by default, 20 at most after a quota increase:
# https://repost.aws/knowledge-center/iam-increase-policy-size
MAX_MANAGED_POLICIES = 20
# Inline policies of a role share 10,240 characters (whitespace not counted); the state policy takes
# the rest. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
MAX_STATEMENTS_CHARACTERS = 8192

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_MANAGED_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/([\w+=,.@-]+/)*[\w+=,.@-]{1,128}$")
_ACTION = re.compile(r"^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$")
_SID = re.compile(r"^[A-Za-z0-9]*$")


def _account_id(value: str) -> str:
    if value and not _ACCOUNT_ID.match(value):
        raise ValueError(
            "expected the 12-digit id of the account whose pipeline deploys here, or empty for this account"
        )
    return value


def _policy_arn(value: str) -> str:
    if not _MANAGED_POLICY_ARN.match(value):
        raise ValueError("expected a managed policy ARN such as " + READ_ONLY_ACCESS)
    return value


def _policy_arns(values: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(values)) != len(values):
        raise ValueError("each policy ARN may appear once")
    if len(values) > MAX_MANAGED_POLICIES:
        raise ValueError(f"at most {MAX_MANAGED_POLICIES} managed policies can be attached to a role")
    return values


def _strings(name: str, pattern: re.Pattern[str], allowed: str) -> Callable[[str | list[str]], str | list[str]]:
    def check(value: str | list[str]) -> str | list[str]:
        items = [value] if isinstance(value, str) else value
        if not items or any(not pattern.match(item) for item in items):
            raise ValueError(f"{name} must be {allowed}")
        return value

    return check


Action = Annotated[
    str | list[str],
    AfterValidator(_strings("Action", _ACTION, "an action such as s3:GetObject, or a list of them")),
]
Resource = Annotated[str | list[str], AfterValidator(_strings("Resource", re.compile(r"^\S+$"), "an ARN or *"))]
PolicyArn = Annotated[str, AfterValidator(_policy_arn)]
PolicyArns = Annotated[tuple[PolicyArn, ...], AfterValidator(_policy_arns)]


class IamStatement(BaseModel):
    """One statement of an identity-based policy, as the deploy role's inline policy takes it.

    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=False)

    sid: Annotated[str, AfterValidator(_strings("Sid", _SID, "letters and digits"))] | None = Field(None, alias="Sid")
    effect: Literal["Allow", "Deny"] = Field(alias="Effect")
    action: Action | None = Field(None, alias="Action")
    not_action: Action | None = Field(None, alias="NotAction")
    resource: Resource | None = Field(None, alias="Resource")
    not_resource: Resource | None = Field(None, alias="NotResource")
    condition: dict[str, dict[str, str | bool | int | list[str]]] | None = Field(None, alias="Condition")

    @model_validator(mode="after")
    def _one_of_each(self) -> IamStatement:
        if (self.action is None) == (self.not_action is None):
            raise ValueError("a statement needs exactly one of Action and NotAction")
        if (self.resource is None) == (self.not_resource is None):
            raise ValueError("a statement needs exactly one of Resource and NotResource")
        return self

    def document(self) -> dict[str, Any]:
        """The statement as IAM takes it: its original keys, without the absent ones."""
        return self.model_dump(by_alias=True, exclude_none=True)


def _statements_size(values: tuple[IamStatement, ...]) -> tuple[IamStatement, ...]:
    size = len(json.dumps([value.document() for value in values], separators=(",", ":")))
    if size > MAX_STATEMENTS_CHARACTERS:
        raise ValueError(
            f"{size} characters of statements exceed the {MAX_STATEMENTS_CHARACTERS} a role's inline policy "
            "has room for; put them in a customer-managed policy and list its ARN in deployPolicyArns"
        )
    return values


class BootstrapSettings(BaseModel):
    """Everything the bootstrap is configured with, validated. Field aliases are the config keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=False)

    project: str = PROJECT
    stack: str
    region: Region = Field(alias="aws:region")
    # Empty: the pipeline runs in the account being bootstrapped.
    pipeline_account_id: Annotated[str, AfterValidator(_account_id)] = Field("", alias="pipelineAccountId")
    deploy_policy_arns: PolicyArns = Field((ADMINISTRATOR_ACCESS,), alias="deployPolicyArns")
    deploy_statements: Annotated[tuple[IamStatement, ...], AfterValidator(_statements_size)] = Field(
        (), alias="deployStatements"
    )
    preview_policy_arns: PolicyArns = Field((READ_ONLY_ACCESS,), alias="previewPolicyArns")

    def default_tags(self) -> dict[str, str]:
        """Tags every resource carries through the provider's `default_tags`."""
        return {"Project": self.project, "ManagedBy": "pulumi", "Stack": self.stack}

    def deploy_statement_documents(self) -> tuple[dict[str, Any], ...]:
        return tuple(statement.document() for statement in self.deploy_statements)


# Config key -> how it is read: a plain string, or JSON (the CLI passes lists and objects as JSON).
_KEYS: dict[str, Literal["string", "list"]] = {
    "aws:region": "string",
    "pipelineAccountId": "string",
    "deployPolicyArns": "list",
    "deployStatements": "list",
    "previewPolicyArns": "list",
}


def _command(location: tuple[int | str, ...], *, remove: bool = False) -> str:
    """The `pulumi config` command that fixes the value at `location`, with --path inside a list."""
    if remove:
        return f"Remove it with `pulumi config rm --path '{_path(location)}'`"
    if len(location) == 1 and _KEYS.get(str(location[0])) == "list":
        location = (*location, 0)  # a list is set one item at a time
    if len(location) > 1:
        return f"Set it with `pulumi config set --path '{_path(location)}' <value>`"
    return f"Set it with `pulumi config set {_path(location)} <value>`"


def _path(location: tuple[int | str, ...]) -> str:
    """pydantic's error location as a `pulumi config --path` path: `cicd-bootstrap:deployStatements[0].Effect`."""
    return config_path(PROJECT, location)


# What a missing key (or statement element) must hold, by its last name.
_REQUIRED = {"aws:region": "required: an AWS region such as eu-west-1", "Effect": "required: Allow or Deny"}


def _error(location: tuple[int | str, ...], value: object, allowed: str, *, remove: bool = False) -> pulumi.RunError:
    if value is UNSET:
        shown = UNSET
    elif isinstance(value, (dict, list, tuple)):
        shown = json.dumps(value, separators=(",", ":"))
    else:
        shown = repr(value)
    return config_error(_path(location), shown, allowed, _command(location, remove=remove))


def _allowed(error: ErrorDetails) -> str:
    """What is allowed, in the words of the validator that refused the value."""
    kind = error["type"]
    if kind == "extra_forbidden":
        return (
            "an identity-policy statement takes Sid, Effect, Action or NotAction, Resource or NotResource "
            "and Condition (no Principal)"
        )
    if kind == "missing":
        return _REQUIRED.get(str(error["loc"][-1]), "required")
    if kind in ("tuple_type", "list_type"):
        return "expected a list"
    if kind == "literal_error":
        return error["msg"].replace("Input should be", "expected")
    return error["msg"].removeprefix("Value error, ")


def _read(config_for: Callable[[str], pulumi.Config]) -> dict[str, Any]:
    """The keys that are set, as the model takes them; unset or empty keys keep the model's defaults."""
    raw: dict[str, Any] = {}
    for key, kind in _KEYS.items():
        namespace, _, name = qualified_key(PROJECT, key).partition(":")
        config = config_for(namespace)
        try:
            value = config.get_object(name) if kind == "list" else config.get(name)
        except pulumi.ConfigTypeError:
            raise _error((key,), config.get(name), "expected a JSON list") from None
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, ""):
            raw[key] = value
    return raw


def load_settings(
    config_for: Callable[[str], pulumi.Config] = pulumi.Config,
    stack: Callable[[], str] = pulumi.get_stack,
) -> BootstrapSettings:
    """Build the validated settings from this stack's config; raise RunError on the first bad key."""
    raw = _read(config_for)
    try:
        return BootstrapSettings.model_validate({**raw, "stack": stack()})
    except ValidationError as invalid:
        first, location, value = first_refusal(invalid)
        nested_extra = first["type"] == "extra_forbidden" and len(location) > 1
        raise _error(location, value, _allowed(first), remove=nested_extra) from None
