"""Secrets: the Pulumi token reaches CodeBuild only as a Secrets Manager reference, and no file holds one.

The token is a made-up value set the way `pulumi config set --secret` sets it. Every string in
every resource input (JSON documents included) is searched for it: the one place it may be is
the SecretVersion's `secretString`, and there it must travel marked secret, which is what keeps
it encrypted in the Pulumi state.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pydantic import BaseModel

from harness.capture import StackGraph
from harness.stack_config import PROJECT_DIR, qualify, stack_config
from pipeline.build import PULUMI_TOKEN_VARIABLE
from pipeline.settings import load_settings
from tests.security.conftest import PULUMI_TOKEN, TOKEN_KEY
from tests.security.policies import (
    actions,
    identity_policies,
    is_github_role,
    resources,
    roles_holding,
    trust_policies,
)

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
PROJECT = "aws:codebuild/project:Project"


def occurrences(value: Any, needle: str, path: str = "", secret: bool = False) -> Iterator[tuple[str, bool]]:
    """(input path, marked secret) of every string containing `needle`."""
    if rpc.is_rpc_secret(value):
        yield from occurrences(rpc.unwrap_rpc_secret(value), needle, path, True)
    elif isinstance(value, str):
        if needle in value:
            yield path, secret
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from occurrences(item, needle, f"{path}.{key}" if path else key, secret)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from occurrences(item, needle, f"{path}[{index}]", secret)


def test_the_token_is_only_in_the_secret_version_and_marked_secret(token_graph: StackGraph) -> None:
    found = [
        (resource.type, path, secret)
        for resource in token_graph.resources
        for path, secret in occurrences(resource.inputs, PULUMI_TOKEN)
    ]
    assert found == [(SECRET_VERSION, "secretString", True)]
    assert list(occurrences(token_graph.exports, PULUMI_TOKEN)) == []
    assert list(occurrences([args for _, args in token_graph.invokes], PULUMI_TOKEN)) == []


def test_the_token_is_stored_under_the_pipeline_key(token_graph: StackGraph) -> None:
    secret, version = token_graph.one(SECRET), token_graph.one(SECRET_VERSION)
    assert version.inputs["secretId"] == secret.outputs["arn"]
    assert version.depends_on("secretId", secret)
    assert secret.inputs["kmsKeyId"] == token_graph.one("aws:kms/key:Key").outputs["arn"]


def test_codebuild_gets_the_token_as_a_secrets_manager_reference(token_graph: StackGraph) -> None:
    arn = token_graph.one(SECRET).outputs["arn"]
    for project in token_graph.of_type(PROJECT):
        variables = project.inputs["environment"]["environmentVariables"]
        token = [variable for variable in variables if variable["name"] == PULUMI_TOKEN_VARIABLE]
        assert token == [{"name": PULUMI_TOKEN_VARIABLE, "value": arn, "type": "SECRETS_MANAGER"}], project.name
        assert project.depends_on("environment", token_graph.one(SECRET)), project.name


def readers(graph: StackGraph, arn: str) -> set[str]:
    """ARNs of the roles whose policies allow reading the secret `arn`, by any pattern."""
    reading = {
        role
        for policy in identity_policies(graph)
        for statement in policy.statements
        if statement["Effect"] == "Allow"
        and any(fnmatch.fnmatchcase(arn, pattern) for pattern in resources(statement))
        and any(fnmatch.fnmatchcase("secretsmanager:getsecretvalue", a.lower()) for a in actions(statement))
        for role in roles_holding(graph, policy)
    }
    return {role.outputs["arn"] for role in graph.of_type("aws:iam/role:Role") if role.id in reading}


def test_only_the_builds_and_the_deploy_may_read_the_token(token_graph: StackGraph) -> None:
    """Both build steps' roles read it; so may GitHub's deploy role (`pulumi up` refreshes the stored
    value). Never the pipeline's role, and never the role pull requests get."""
    arn = token_graph.one(SECRET).outputs["arn"]
    builds = {project.inputs["serviceRole"] for project in token_graph.of_type(PROJECT)}
    github = {
        policy.resource.outputs["arn"]: policy for policy in trust_policies(token_graph) if is_github_role(policy)
    }
    pull_requests = {role for role, policy in github.items() if ":pull_request" in policy.text}
    assert builds <= readers(token_graph, arn)
    assert readers(token_graph, arn) - builds <= set(github) - pull_requests
    for policy in identity_policies(token_graph):
        for statement in policy.statements:
            if arn in resources(statement):
                assert actions(statement) == ["secretsmanager:GetSecretValue"], policy.label


def test_without_a_token_nothing_is_stored(dev_graph: StackGraph) -> None:
    assert dev_graph.of_type(SECRET) == []
    for project in dev_graph.of_type(PROJECT):
        names = [variable["name"] for variable in project.inputs["environment"]["environmentVariables"]]
        assert PULUMI_TOKEN_VARIABLE not in names, project.name


def plain_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from plain_strings(item)
    elif hasattr(value, "__dataclass_fields__"):
        for item in fields(value):
            yield from plain_strings(getattr(value, item.name))
    elif isinstance(value, BaseModel):  # the settings are pydantic models
        for name in type(value).model_fields:
            yield from plain_strings(getattr(value, name))


def test_settings_hold_the_token_only_as_a_secret_output() -> None:
    pulumi.runtime.set_all_config(
        stack_config("dev", {TOKEN_KEY: PULUMI_TOKEN, "backendUrl": None}), [qualify(TOKEN_KEY)]
    )
    settings = load_settings(stack=lambda: "dev")
    assert isinstance(settings.pulumi_access_token, pulumi.Output)
    strings = list(plain_strings(settings))
    # The walk reaches into the models (the services' repositories), or finding no token means nothing.
    assert "my-org/my-service" in strings
    assert not any(PULUMI_TOKEN in text for text in strings)
    assert PULUMI_TOKEN not in repr(settings)


# Shapes of real credentials. Written so that none of these lines matches itself.
CREDENTIAL_PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(r"(?i)aws.{0,20}secret.{0,20}['\"=:\s][A-Za-z0-9/+]{40}\b"),
    "Pulumi access token": re.compile(r"\bpul-[0-9a-f]{40}\b"),
    "GitHub token": re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b"),
    "private key": re.compile(r"-----BEGIN ([A-Z]+ )?PRIVATE KEY-----"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "plain-text Pulumi secret": re.compile(
        r"(?im)^\s*[\w-]+:\w*(token|password|passphrase|secret)\w*:\s*(?!secure:)\S"
    ),
}


def project_files() -> list[Path]:
    """Files git would commit: tracked ones and new ones not ignored (venv/ and caches are)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT_DIR,
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return [PROJECT_DIR / name for name in listed.split("\0") if name and (PROJECT_DIR / name).is_file()]


def credentials_in(text: str) -> list[str]:
    return [kind for kind, pattern in CREDENTIAL_PATTERNS.items() if pattern.search(text)]


def test_no_secrets_in_committed_files() -> None:
    files = project_files()
    assert len(files) > 20, "git listed too few files to be this project"
    found = {}
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if kinds := credentials_in(text):
            found[str(path.relative_to(PROJECT_DIR))] = kinds
    assert found == {}


def test_the_scanner_recognises_credentials() -> None:
    """Assembled at run time, so this file itself stays clean."""
    samples = {
        "AWS access key id": "key = " + "AKIA" + "Z" * 16,
        "Pulumi access token": PULUMI_TOKEN,
        "GitHub token": "ghp_" + "a1" * 18,
        "private key": "-----BEGIN " + "RSA PRIVATE KEY-----",
        "plain-text Pulumi secret": "  cicd-pipeline:" + "pulumiAccessToken: " + PULUMI_TOKEN[:8],
    }
    for kind, sample in samples.items():
        assert kind in credentials_in(sample), kind
    assert credentials_in("  cicd-pipeline:pulumiAccessToken:\n    secure: v1:abc") == []
