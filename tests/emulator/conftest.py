"""Fixtures for the emulator tests: fresh emulated accounts with a stack deployed into them.

Every emulator here runs moto in this process, one at a time (a second one would share the
first's account), so deployments are module- or function-scoped, never session-scoped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from emulator.backend import Emulator
from emulator.lifecycle import Deployment, deploy

# Everything optional switched on: an S3 source, GitHub Actions roles with their OIDC provider,
# and a Pulumi token kept in Secrets Manager (a made-up one, set as a secret as the CLI would).
WITH_EVERY_OPTION: dict[str, Any] = {
    "overrides": {
        "sourceType": "s3",
        "sourceBucket": "my-org-sources",
        "githubRepository": "my-org/my-service",
        "pulumiAccessToken": "pul-" + "0" * 40,
        # Pulumi Cloud instead of the stack file's S3 backend: a stack has exactly one.
        "backendUrl": None,
    },
    "secret_keys": ["cicd-pipeline:pulumiAccessToken"],
}


@contextmanager
def deployed(stack: str = "dev", **options: Any) -> Iterator[Deployment]:
    """`stack` deployed into a fresh emulator that disappears afterwards."""
    with Emulator() as emulator:
        yield deploy(emulator, stack, **options)
