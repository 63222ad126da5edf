"""The stacks the security checks run over: the shipped ones and variants that switch on every option.

A check that only ever sees the defaults cannot notice a weakness behind an option, so the
variants turn on each branch that changes a policy: step roles to assume, secrets from
Secrets Manager and SSM, the stored Pulumi token, an S3 source, the GitHub deploy roles, the
Slack channel (its Chatbot role under the boundary, its guardrail, its topic and policy), and
several services' pipelines in one stack.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
from typing import Any

import pytest

from harness.capture import RegisteredResource, StackGraph, evaluate_once
from harness.stack_config import project_file, qualify

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
TOKEN_KEY = "pulumiAccessToken"


def made_up_hex(byte_count: int, purpose: str) -> str:
    """Random hex, new each run, so no literal secret is committed.

    Under pytest-xdist every worker collects the tests itself and the workers' test ids must agree
    (a token is part of some ids), so there it is derived from the run's id, which they share.
    """
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run_id is None:
        return secrets.token_hex(byte_count)
    return hashlib.sha256(f"{run_id}:{purpose}".encode()).hexdigest()[: 2 * byte_count]


# Made up per run: a literal token here would itself be a committed secret.
PULUMI_TOKEN = "pul-" + made_up_hex(20, "pulumi-token")
GITHUB_REPOSITORY = "my-org/my-service"

ALL_OPTIONS: dict[str, Any] = {
    TOKEN_KEY: PULUMI_TOKEN,
    "backendUrl": None,  # Pulumi Cloud, with the token, instead of the S3 backend
    "deployRoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/pulumi-deploy",
    "previewRoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/pulumi-preview",
    "buildSecrets": [
        f"NPM_TOKEN=arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:npm-token-AbCdEf",
        "PULUMI_CONFIG_PASSPHRASE=/cicd/pulumi-passphrase",
    ],
    "requireApproval": "true",
    "notificationEmails": ["a@example.com", "b@example.com"],
    # Alerts in Slack through AWS Chatbot as well (pipeline/chatbot.py).
    "slackWorkspaceId": "T07EA123LEP",
    "slackChannelId": "C07EZ1ABC23",
}

# name -> (stack, overrides)
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "dev": ("dev", {}),
    "prod": ("prod", {}),
    "dev-all-options": ("dev", ALL_OPTIONS),
    "prod-s3-source": ("prod", {"sourceType": "s3", "sourceBucket": "my-source-bucket"}),
    "prod-github": ("prod", {"githubRepository": GITHUB_REPOSITORY}),
    # Slack alone on the shipped prod stack: the Chatbot role, guardrail and topic beside prod's policies.
    "prod-slack": ("prod", {"slackWorkspaceId": ALL_OPTIONS["slackWorkspaceId"], "slackChannelId": "C07EZ1ABC23"}),
    "dev-all-options-github": ("dev", {**ALL_OPTIONS, "githubRepository": GITHUB_REPOSITORY}),
    "prod-github-own-backend": (
        "prod",
        {
            "githubRepository": GITHUB_REPOSITORY,
            "githubOidcProviderArn": f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com",
            "githubStateBucket": "my-pulumi-state",
        },
    ),
    # Three services' pipelines on one key, store, topic and boundary (Pulumi.platform.yaml), and the
    # same with every option and the GitHub roles: each check must hold for every service.
    "platform": ("platform", {}),
    "platform-all-options-github": ("platform", {**ALL_OPTIONS, "githubRepository": GITHUB_REPOSITORY}),
}


@functools.cache
def declared_keys() -> frozenset[str]:
    return frozenset(project_file()["config"])


def secret_keys(overrides: dict[str, Any]) -> list[str]:
    """Config the variant sets the way `pulumi config set --secret` would."""
    return [qualify(TOKEN_KEY)] if TOKEN_KEY in overrides else []


@functools.cache
def graph_of(variant: str) -> StackGraph:
    stack, overrides = VARIANTS[variant]
    return evaluate_once(stack, overrides, secret_keys=secret_keys(overrides))


def undeclared_keys(variant: str) -> list[str]:
    """Keys a variant sets that Pulumi.yaml does not declare (test_bad_config.py requires there are none)."""
    return sorted(key for key in VARIANTS[variant][1] if key not in declared_keys())


# Every variant runs; the name stays for the modules that import it.
ACTIVE_VARIANTS = list(VARIANTS)


@pytest.fixture(scope="session", params=ACTIVE_VARIANTS)
def variant(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def graph(variant: str) -> StackGraph:
    """The variant's resource graph, evaluated once per session."""
    return graph_of(variant)


@pytest.fixture(scope="session")
def token_graph() -> StackGraph:
    """A stack with the Pulumi token configured as a secret, and the GitHub roles."""
    return graph_of("dev-all-options-github")


def every(graph: StackGraph, token: str) -> list[RegisteredResource]:
    """The resources of `token`; there must be some, or a check over them would pass vacuously."""
    found = graph.of_type(token)
    assert found, f"the stack has no {token}"
    return found
