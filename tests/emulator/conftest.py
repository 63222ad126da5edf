"""Fixtures for the emulator tests: fresh emulated accounts with a stack (or a bootstrap and its pipeline) in them.

Every emulator here runs moto in this process, one at a time (a second one would share the
first's account), so deployments are module- or function-scoped, never session-scoped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from emulator.backend import Emulator
from emulator.lifecycle import Deployment, deploy, destroy, unprotect
from emulator.local import BOOTSTRAP, PIPELINE, plan_for

# Everything optional switched on: an S3 source, GitHub Actions roles with their OIDC provider,
# a Pulumi token kept in Secrets Manager (a made-up one, set as a secret as the CLI would), and the
# Slack channel (its Chatbot configuration a placeholder: moto has no Chatbot).
WITH_EVERY_OPTION: dict[str, Any] = {
    "overrides": {
        "sourceType": "s3",
        "sourceBucket": "my-org-sources",
        "githubRepository": "my-org/my-service",
        "pulumiAccessToken": "pul-" + "0" * 40,
        # Pulumi Cloud instead of the stack file's S3 backend: a stack has exactly one.
        "backendUrl": None,
        "slackWorkspaceId": "T07EA123LEP",
        "slackChannelId": "C07EZ1ABC23",
    },
    "secret_keys": ["cicd-pipeline:pulumiAccessToken"],
}


# What the bootstrap protects, by logical name, sorted: the bucket and key, and with them the alias every
# stack's secrets provider names and the bucket's guards, so that `destroy --exclude-protected` cannot
# strip any of them either.
PROTECTED_BY_THE_BOOTSTRAP = [
    "cicd-state-bucket",
    "cicd-state-encryption",
    "cicd-state-key",
    "cicd-state-key-alias",
    "cicd-state-ownership",
    "cicd-state-public-access",
    "cicd-state-tls-only",
    "cicd-state-versioning",
]


@contextmanager
def deployed(stack: str = "dev", **options: Any) -> Iterator[Deployment]:
    """`stack` deployed into a fresh emulator that disappears afterwards."""
    with Emulator() as emulator:
        yield deploy(emulator, stack, **options)


@contextmanager
def bootstrapped(
    emulator: Emulator,
    stack: str = "dev",
    *,
    with_pipeline: bool = True,
    bootstrap_overrides: dict[str, Any] | None = None,
) -> Iterator[dict[str, Deployment]]:
    """The bootstrap and (unless told not to) the pipeline of `stack` deployed into `emulator`, each into
    the account `make local` puts it in (emulator/local.py), and both destroyed afterwards, pipeline first
    (unprotected first, as an administrator would), so the same emulator can take the next pair: it
    loads AWS's managed policies once per account, which costs more than a deployment.
    """
    plan = plan_for(stack, emulator.default_account)
    programs = plan.placements if with_pipeline else (plan.bootstrap,)
    deployments: dict[str, Deployment] = {}
    try:
        for program in programs:
            deployments[program.label] = deploy(
                emulator,
                stack,
                project_dir=program.project_dir,
                account=program.account,
                overrides=bootstrap_overrides if program.label == BOOTSTRAP else None,
            )
        yield deployments
    finally:
        for label in (PIPELINE, BOOTSTRAP):
            if label in deployments:
                unprotect(deployments[label])
                destroy(deployments[label])
