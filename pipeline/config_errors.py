"""How a refused config value is worded, the same way by both programs (pipeline/settings.py, bootstrap/settings.py).

`Invalid config <project>:<key>[0].field=<value>: <what is allowed>. <the pulumi config command that fixes it>.`
Each program keeps what differs: which keys are lists, which values are never repeated, its own words.
The one key both check the same way, `aws:region`, is checked here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated

import pulumi
from pydantic import AfterValidator, ValidationError
from pydantic_core import ErrorDetails

# What an error shows for a key (or list item, or field) that has no value.
UNSET = "<unset>"

# A region of any AWS partition: eu-west-1, us-gov-west-1, us-iso-east-1, us-isob-east-1.
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")


def _region(value: str) -> str:
    if not _REGION.match(value):
        raise ValueError("required: an AWS region such as eu-west-1")
    return value


# `aws:region` of either program.
Region = Annotated[str, AfterValidator(_region)]


def qualified_key(project: str, key: str) -> str:
    """`key` in its namespace: `aws:region` stays, `environment` is `<project>:environment`."""
    return key if ":" in key else f"{project}:{key}"


def config_path(project: str, location: Iterable[int | str]) -> str:
    """A pydantic error location as a `pulumi config --path` path: `cicd-pipeline:services[1].branch`."""
    parts = list(location)
    path = qualified_key(project, str(parts[0]))
    for part in parts[1:]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def config_error(path: str, shown: str, allowed: str, fix: str) -> pulumi.RunError:
    """The error a program raises before registering anything, for the value `shown` at `path`."""
    return pulumi.RunError(f"Invalid config {path}={shown}: {allowed}. {fix}.")


def first_refusal(invalid: ValidationError) -> tuple[ErrorDetails, tuple[int | str, ...], object]:
    """The first error pydantic reports, its location, and the value refused there (UNSET when missing)."""
    first = invalid.errors()[0]
    value = UNSET if first["type"] == "missing" else first["input"]
    return first, tuple(first["loc"]), value
