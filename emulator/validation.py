"""Checks every boto3 call against botocore's service model before moto sees it.

moto accepts values AWS refuses (a pipelineType of V3, an action category of Buidl, a log
retention of 13 days). botocore's own ParamValidator checks types, required members and
minimums, but not enums, patterns or maximums; this walks the operation's input shape for
those too and fails with the parameter's path, as AWS would answer with a ValidationException.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import boto3
import regex
from botocore.exceptions import ParamValidationError
from botocore.model import OperationModel, Shape
from botocore.validate import ParamValidator

# botocore models CloudWatch Logs' retention as a bare integer; AWS lists the values it takes
# in the shape's documentation ("Possible values are: 1, 3, 5, ... and 3653"), so an integer
# whose documentation carries such a list is held to it like an enum.
_POSSIBLE_VALUES = re.compile(r"Possible values are:?\s*((?:\d+\s*,\s*)+(?:and\s+)?\d+)")


@cache
def _pattern(text: str) -> regex.Pattern[str]:
    # AWS patterns are Java regular expressions (\p{L} and friends), which `re` cannot read.
    return regex.compile(text)


def documented_values(shape: Shape) -> tuple[int, ...]:
    """The integer values a shape's documentation lists as the only possible ones, if any."""
    found = _POSSIBLE_VALUES.search(shape.documentation or "")
    return tuple(int(number) for number in re.findall(r"\d+", found.group(1))) if found else ()


def _outside(value: float, metadata: Mapping[str, Any]) -> str:
    low, high = metadata.get("min"), metadata.get("max")
    if low is not None and value < low:
        return f"below the minimum {low}"
    if high is not None and value > high:
        return f"above the maximum {high}"
    return ""


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def constraint_errors(shape: Shape, value: Any, path: str = "") -> list[str]:
    """Every enum, pattern and range the value breaks, each naming its parameter path."""
    errors: list[str] = []
    _walk(shape, value, path, errors)
    return errors


def _walk(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    kind, metadata = shape.type_name, shape.metadata
    if kind == "structure" and isinstance(value, Mapping):
        for name, member in shape.members.items():
            if name in value:
                _walk(member, value[name], _join(path, name), errors)
    elif kind == "list" and isinstance(value, list | tuple):
        if problem := _outside(len(value), metadata):
            errors.append(f"Invalid length for parameter {path}: {len(value)} items, {problem}")
        for index, item in enumerate(value):
            _walk(shape.member, item, f"{path}[{index}]", errors)
    elif kind == "map" and isinstance(value, Mapping):
        if problem := _outside(len(value), metadata):
            errors.append(f"Invalid length for parameter {path}: {len(value)} entries, {problem}")
        for key, item in value.items():
            _walk(shape.key, key, f"{path} (key {key!r})", errors)
            _walk(shape.value, item, f"{path}.{key}", errors)
    elif kind == "string" and isinstance(value, str):
        # A secret never appears in an error message.
        shown = "<sensitive>" if metadata.get("sensitive") else repr(value)
        enum = metadata.get("enum")
        if enum and value not in enum:
            errors.append(f"Invalid value for parameter {path}: {shown} is not one of {', '.join(enum)}")
        pattern = metadata.get("pattern")
        if pattern and not _pattern(pattern).fullmatch(value):
            errors.append(f"Invalid value for parameter {path}: {shown} does not match the pattern {pattern}")
        if problem := _outside(len(value), metadata):
            errors.append(f"Invalid length for parameter {path}: {len(value)} characters, {problem}")
    elif kind in ("integer", "long", "float", "double") and isinstance(value, int | float):
        if problem := _outside(value, metadata):
            errors.append(f"Invalid range for parameter {path}: {value} is {problem}")
        allowed = documented_values(shape) if kind in ("integer", "long") else ()
        if allowed and value not in allowed:
            errors.append(
                f"Invalid value for parameter {path}: {value} is not one of the documented values "
                + ", ".join(map(str, allowed))
            )
    elif kind == "blob" and isinstance(value, bytes | str) and (problem := _outside(len(value), metadata)):
        errors.append(f"Invalid length for parameter {path}: {len(value)} bytes, {problem}")


def validate(params: Mapping[str, Any], operation: OperationModel) -> None:
    """Raise ParamValidationError, naming the operation and each bad parameter, unless AWS would accept `params`."""
    shape = operation.input_shape
    if shape is None:
        return
    problems: list[str] = []
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        problems.append(report.generate_report())
    problems += constraint_errors(shape, params)
    if problems:
        where = f"{operation.service_model.service_name} {operation.name}"
        raise ParamValidationError(report=f"{where}:\n" + "\n".join(problems))


def _before_parameter_build(params: Mapping[str, Any], model: OperationModel, **_: Any) -> None:
    validate(params, model)


def install(session: boto3.Session) -> None:
    """Validate every call of every client created from `session` from now on."""
    session.events.register("before-parameter-build", _before_parameter_build)
