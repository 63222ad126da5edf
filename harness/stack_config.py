"""Stack config as the Pulumi CLI would hand it to the program: project defaults + Pulumi.<stack>.yaml.

Two projects live in this repository: the pipeline at its root (PROJECT_DIR) and the per-account
bootstrap in bootstrap/ (BOOTSTRAP_DIR). Each reads its own Pulumi.yaml and stack files, and its
config keys are qualified with its own project name, as the CLI does for the project it runs.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT = "cicd-pipeline"
BOOTSTRAP_DIR = PROJECT_DIR / "bootstrap"


def _as_config_string(value: Any) -> str:
    """The CLI passes every value as a string: structured values as JSON, booleans in lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


# libyaml's parser where it is built in (PyYAML's wheels have it): the pure-Python one took a third of
# each evaluation's time, reading the same two files again for every stack the tests evaluate.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=64)
def _parsed(path: Path, mtime_ns: int, size: int) -> Any:
    """`path` parsed once per version of it (a test that rewrites a file gets its new contents)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)


def _read_yaml(path: Path) -> Any:
    """A YAML file's data, shared by every caller: read it, never change it."""
    version = path.stat()
    return _parsed(path, version.st_mtime_ns, version.st_size)


def project_file(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """`<project_dir>/Pulumi.yaml` as data, shared by every caller: read it, never change it."""
    document: dict[str, Any] = _read_yaml(project_dir / "Pulumi.yaml")
    return document


def project_name(project_dir: Path = PROJECT_DIR) -> str:
    """The `name:` of `<project_dir>/Pulumi.yaml`: the namespace of its config and set_mocks' project."""
    return str(project_file(project_dir)["name"])


def qualify(key: str, project: str = PROJECT) -> str:
    """`environment` -> `cicd-pipeline:environment`; `aws:region` stays as it is."""
    return key if ":" in key else f"{project}:{key}"


def project_defaults(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    declared = project_file(project_dir).get("config") or {}
    project = project_name(project_dir)
    return {qualify(key, project): spec["default"] for key, spec in declared.items() if "default" in spec}


def stack_config(
    stack: str,
    overrides: Mapping[str, Any] | None = None,
    project_dir: Path = PROJECT_DIR,
) -> dict[str, str]:
    """The flat `namespace:key -> string` map for `stack`; an override of None removes the key."""
    project = project_name(project_dir)
    values: dict[str, Any] = project_defaults(project_dir)
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        values.update((_read_yaml(stack_file) or {}).get("config", {}))
    for key, value in (overrides or {}).items():
        if value is None:
            values.pop(qualify(key, project), None)
        else:
            values[qualify(key, project)] = value
    return {key: _as_config_string(value) for key, value in values.items()}
