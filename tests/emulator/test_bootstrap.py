"""The bootstrap of each shipped stack, and its pipeline beside it, deployed into the emulator as `make local` does.

dev: both in moto's default account 123456789012. prod: the bootstrap in the target account
210987654321 and the pipeline in 123456789012, so the links checked here cross accounts.
tests/emulator/test_bootstrap_drift.py shows each of these checks failing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from emulator.backend import Emulator
from emulator.lifecycle import Deployment
from emulator.local import BOOTSTRAP, PIPELINE, plan_for
from emulator.verify import Check, verify
from emulator.verify_bootstrap import BOOTSTRAP_CHECKS, LINK_CHECK_NAMES, link_checks
from tests.emulator.conftest import bootstrapped

pytestmark = [pytest.mark.emulator]

ACCOUNTS = {
    # stack: (the bootstrap's account, the pipeline's account), as the stack files name them
    "dev": ("123456789012", "123456789012"),
    "prod": ("210987654321", "123456789012"),
}


@pytest.fixture(scope="module", params=list(ACCOUNTS))
def pair(request: pytest.FixtureRequest) -> Iterator[dict[str, Deployment]]:
    with Emulator(aws_managed_policies=True) as emulator, bootstrapped(emulator, request.param) as deployments:
        yield deployments


@pytest.mark.parametrize("check", BOOTSTRAP_CHECKS, ids=lambda check: check.name)
def test_the_deployed_bootstrap_passes(pair: dict[str, Deployment], check: Check) -> None:
    (result,) = verify(pair[BOOTSTRAP], (check,))
    assert result.status == "ok", result.detail


@pytest.mark.parametrize("name", LINK_CHECK_NAMES)
def test_the_pipeline_is_wired_to_its_bootstrap(pair: dict[str, Deployment], name: str) -> None:
    (check,) = [check for check in link_checks(pair[BOOTSTRAP]) if check.name == name]
    (result,) = verify(pair[PIPELINE], (check,))
    assert result.status == "ok", result.detail


def test_each_program_is_in_the_account_its_stack_files_name(pair: dict[str, Deployment]) -> None:
    bootstrap, pipeline = pair[BOOTSTRAP], pair[PIPELINE]
    bootstrap_buckets = [bucket["Name"] for bucket in bootstrap.client("s3").list_buckets()["Buckets"]]
    pipeline_buckets = [bucket["Name"] for bucket in pipeline.client("s3").list_buckets()["Buckets"]]

    assert (bootstrap.account_id, pipeline.account_id) == ACCOUNTS[bootstrap.stack]
    assert plan_for(bootstrap.stack, "123456789012").bootstrap.account == bootstrap.account_id
    assert bootstrap.outputs["stateBucket"] == f"cicd-state-{bootstrap.account_id}-eu-west-1"
    assert bootstrap.outputs["stateBucket"] in bootstrap_buckets
    assert pipeline.outputs["artifactBucket"] in pipeline_buckets
    if bootstrap.account_id != pipeline.account_id:
        # Two accounts of one emulator: neither sees the other's bucket.
        assert bootstrap.outputs["stateBucket"] not in pipeline_buckets
        assert pipeline.outputs["artifactBucket"] not in bootstrap_buckets


def test_a_pipeline_stack_naming_another_backend_is_caught(pair: dict[str, Deployment]) -> None:
    pipeline = pair[PIPELINE]
    elsewhere = "s3://cicd-state-999999999999-eu-west-1"
    misconfigured = dataclasses.replace(pipeline, config={**pipeline.config, "cicd-pipeline:backendUrl": elsewhere})
    (check,) = [check for check in link_checks(pair[BOOTSTRAP]) if check.name == "uses-bootstrap"]

    (result,) = verify(misconfigured, (check,))

    assert result.status == "failed"
    assert f"configures {{'backendUrl': '{elsewhere}'}}, not the bootstrap's" in result.detail


def test_the_managed_policies_are_awss_own(pair: dict[str, Deployment]) -> None:
    """moto loads AWS's managed policies when asked; the bootstrap attaches them by ARN, as in AWS."""
    bootstrap = pair[BOOTSTRAP]
    iam = bootstrap.client("iam")
    role = bootstrap.outputs["previewRoleArn"].rpartition("/")[2]
    (attached,) = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]

    assert attached["PolicyArn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert policy["AttachmentCount"] == 1
