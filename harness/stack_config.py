"""Stack config as the Pulumi CLI would hand it to the program: project defaults + Pulumi.<stack>.yaml."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT = "cicd-pipeline"


def _as_config_string(value: Any) -> str:
    """The CLI passes every value as a string: structured values as JSON, booleans in lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def qualify(key: str) -> str:
    """`environment` -> `cicd-pipeline:environment`; `aws:region` stays as it is."""
    return key if ":" in key else f"{PROJECT}:{key}"


def project_defaults(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    declared = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())["config"]
    return {qualify(key): spec["default"] for key, spec in declared.items() if "default" in spec}


def stack_config(
    stack: str,
    overrides: Mapping[str, Any] | None = None,
    project_dir: Path = PROJECT_DIR,
) -> dict[str, str]:
    """The flat `namespace:key -> string` map for `stack`; an override of None removes the key."""
    values: dict[str, Any] = project_defaults(project_dir)
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        values.update((yaml.safe_load(stack_file.read_text()) or {}).get("config", {}))
    for key, value in (overrides or {}).items():
        if value is None:
            values.pop(qualify(key), None)
        else:
            values[qualify(key)] = value
    return {key: _as_config_string(value) for key, value in values.items()}
