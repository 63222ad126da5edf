"""Every bootstrap check, and every check of a pipeline against its bootstrap, fails once the state drifts.

As tests/emulator/test_drift.py does for the pipeline: each case deploys, sees the check pass,
breaks what it checks through boto3 (or changes the program, for the checks of what the program
itself decides), and sees it fail naming what is wrong. One emulator serves the module: it loads
AWS's managed policies once. The cases that break the account share one bootstrap (and, for the link
checks, its pipeline): each breakage returns how to put back what it changed, and after the undo every
check must pass again, so that a drift left behind cannot hide the next case's. A case that fails, and
a case that changes the program before it is deployed, get stacks of their own.

Also here: the bootstrap's destroy is refused while its bucket and key are protected, as
`pulumi destroy` refuses, and a retained resource stays in AWS.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

import pipeline.state_backend
from emulator.backend import Emulator
from emulator.lifecycle import (
    RETAINED_NOTE,
    Deployment,
    ProtectedResourcesError,
    deploy,
    destroy,
    leftovers,
    take_inventory,
    unprotect,
)
from emulator.local import BOOTSTRAP, PIPELINE
from emulator.resources import MOTO_ONLY_LOCATION
from emulator.verify import Check, Result, verify
from emulator.verify_bootstrap import BOOTSTRAP_CHECKS, LINK_CHECK_NAMES, link_checks
from harness.stack_config import BOOTSTRAP_DIR
from tests.emulator.conftest import PROTECTED_BY_THE_BOOTSTRAP, bootstrapped

pytestmark = [pytest.mark.emulator]

REGION = "eu-west-1"
Stacks = dict[str, Deployment]
# Puts back what a breakage changed.
Undo = Callable[[], None]


def _failures(results: list[Result]) -> list[str]:
    return [f"{result.check.name}: {result.detail}" for result in results if result.status != "ok"]


class SharedStacks:
    """The bootstrap (with or without its pipeline) kept for the next case that wants the same.

    The bootstrap's names are fixed, so one pair at a time: asking for the other destroys the first.
    """

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator
        self._with_pipeline: bool | None = None
        self._stacks: Stacks | None = None
        self._deployed = ExitStack()

    def get(self, *, with_pipeline: bool) -> Stacks:
        if self._stacks is None or with_pipeline != self._with_pipeline:
            self.retire()
            self._stacks = self._deployed.enter_context(
                bootstrapped(self._emulator, "dev", with_pipeline=with_pipeline)
            )
            self._with_pipeline = with_pipeline
        return self._stacks

    def retire(self) -> None:
        """Destroy the stacks once every check passes on them: no case left a drift behind."""
        if self._stacks is not None:
            failures = _failures(verify(_bootstrap(self._stacks), BOOTSTRAP_CHECKS))
            if PIPELINE in self._stacks:
                failures += _failures(verify(self._stacks[PIPELINE], link_checks(_bootstrap(self._stacks))))
            assert failures == [], f"a drift case left its drift behind: {failures}"
        self.discard()

    def discard(self) -> None:
        self._deployed.close()
        self._stacks, self._with_pipeline = None, None


@pytest.fixture(scope="module")
def module_emulator() -> Iterator[Emulator]:
    with Emulator(aws_managed_policies=True) as running:
        yield running


@pytest.fixture(scope="module")
def shared_stacks(module_emulator: Emulator) -> Iterator[SharedStacks]:
    shared = SharedStacks(module_emulator)
    yield shared
    shared.retire()


@pytest.fixture
def emulator(module_emulator: Emulator, shared_stacks: SharedStacks) -> Emulator:
    """The module's emulator with no shared stacks in it: a test deploys its own bootstrap there."""
    shared_stacks.retire()
    return module_emulator


def _bootstrap(stacks: Stacks) -> Deployment:
    return stacks[BOOTSTRAP]


def _state(stacks: Stacks) -> str:
    return str(_bootstrap(stacks).outputs["stateBucket"])


def _role(stacks: Stacks, output: str) -> str:
    return str(_bootstrap(stacks).outputs[output]).rpartition("/")[2]


# --- breakages of the bootstrap's account ---------------------------------------------------------


def name_the_bucket_without_the_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        pipeline.state_backend,
        "state_bucket_name",
        lambda _account, region: pulumi.Output.concat("cicd-state-", region),
    )


def suspend_versioning(stacks: Stacks, _: pytest.MonkeyPatch) -> Undo:
    s3 = _bootstrap(stacks).client("s3")
    s3.put_bucket_versioning(Bucket=_state(stacks), VersioningConfiguration={"Status": "Suspended"})
    return lambda: s3.put_bucket_versioning(Bucket=_state(stacks), VersioningConfiguration={"Status": "Enabled"})


def encrypt_with_s3_keys(stacks: Stacks, _: pytest.MonkeyPatch) -> Undo:
    s3 = _bootstrap(stacks).client("s3")
    deployed = s3.get_bucket_encryption(Bucket=_state(stacks))["ServerSideEncryptionConfiguration"]
    s3.put_bucket_encryption(
        Bucket=_state(stacks),
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    return lambda: s3.put_bucket_encryption(Bucket=_state(stacks), ServerSideEncryptionConfiguration=deployed)


def allow_public_policies(stacks: Stacks, _: pytest.MonkeyPatch) -> Undo:
    s3 = _bootstrap(stacks).client("s3")
    block = s3.get_public_access_block(Bucket=_state(stacks))["PublicAccessBlockConfiguration"]
    s3.put_public_access_block(
        Bucket=_state(stacks), PublicAccessBlockConfiguration={**block, "BlockPublicPolicy": False}
    )
    return lambda: s3.put_public_access_block(Bucket=_state(stacks), PublicAccessBlockConfiguration=block)


def allow_plain_http(stacks: Stacks, _: pytest.MonkeyPatch) -> Undo:
    s3 = _bootstrap(stacks).client("s3")
    deployed = s3.get_bucket_policy(Bucket=_state(stacks))["Policy"]
    policy = json.loads(deployed)
    for statement in policy["Statement"]:
        statement.pop("Condition")
        statement["Effect"] = "Allow"
    s3.put_bucket_policy(Bucket=_state(stacks), Policy=json.dumps(policy))
    return lambda: s3.put_bucket_policy(Bucket=_state(stacks), Policy=deployed)


def expire_old_state(stacks: Stacks, _: pytest.MonkeyPatch) -> Undo:
    s3 = _bootstrap(stacks).client("s3")
    try:
        deployed = s3.get_bucket_lifecycle_configuration(Bucket=_state(stacks))["Rules"]
    except s3.exceptions.ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchLifecycleConfiguration":
            raise
        deployed = None
    s3.put_bucket_lifecycle_configuration(
        Bucket=_state(stacks),
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "tidy-up",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                }
            ]
        },
    )
    if deployed is None:
        return lambda: s3.delete_bucket_lifecycle(Bucket=_state(stacks))
    return lambda: s3.put_bucket_lifecycle_configuration(
        Bucket=_state(stacks), LifecycleConfiguration={"Rules": deployed}
    )


def stop_rotating_the_key(stacks: Stacks, _: pytest.MonkeyPatch) -> Undo:
    kms, key = _bootstrap(stacks).client("kms"), _bootstrap(stacks).outputs["secretsKeyArn"]
    kms.disable_key_rotation(KeyId=key)
    return lambda: kms.enable_key_rotation(KeyId=key)


def _retrust(stacks: Stacks, output: str, change: Callable[[dict[str, object]], None]) -> Undo:
    iam = _bootstrap(stacks).client("iam")
    role = _role(stacks, output)
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    deployed = json.dumps(trust)
    change(trust["Statement"][0])
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))
    return lambda: iam.update_assume_role_policy(RoleName=role, PolicyDocument=deployed)


def trust_every_role_of_the_pipeline_account(stacks: Stacks, _: pytest.MonkeyPatch) -> Undo:
    account = _bootstrap(stacks).account_id

    def widen(statement: dict[str, object]) -> None:
        statement["Condition"] = {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{account}:role/*"}}

    return _retrust(stacks, "previewRoleArn", widen)


def lift_the_deploy_boundary(stacks: Stacks, _: pytest.MonkeyPatch) -> Undo:
    iam, role = _bootstrap(stacks).client("iam"), _role(stacks, "deployRoleArn")
    boundary = iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"]
    iam.delete_role_permissions_boundary(RoleName=role)
    return lambda: iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=boundary)


def let_preview_write_state(stacks: Stacks, _: pytest.MonkeyPatch) -> Undo:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{_state(stacks)}/*"}],
    }
    _bootstrap(stacks).client("iam").put_role_policy(
        RoleName=_role(stacks, "previewRoleArn"), PolicyName="drift", PolicyDocument=json.dumps(document)
    )
    return lambda: remove_the_extra_policy(stacks)


def remove_the_extra_policy(stacks: Stacks) -> None:
    _bootstrap(stacks).client("iam").delete_role_policy(RoleName=_role(stacks, "previewRoleArn"), PolicyName="drift")


def shorten_the_key_deletion_window(_: Stacks, monkeypatch: pytest.MonkeyPatch) -> Undo:
    monkeypatch.setattr(pipeline.state_backend, "KEY_DELETION_WINDOW_DAYS", 7)
    return monkeypatch.undo


# --- breakages of the link between a pipeline and its bootstrap ------------------------------------


def _recreate_project(codebuild: Any, project: dict[str, Any], variables: list[dict[str, Any]]) -> None:
    """Recreate `project` by hand with `variables` (moto has no UpdateProject)."""
    codebuild.delete_project(name=project["name"])
    codebuild.create_project(
        name=project["name"],
        source={**project["source"], "location": MOTO_ONLY_LOCATION},
        artifacts={"type": project["artifacts"]["type"], "location": MOTO_ONLY_LOCATION},
        environment={
            key: project["environment"][key]
            for key in ("type", "image", "computeType")
            if key in project["environment"]
        }
        | {"environmentVariables": variables},
        serviceRole=project["serviceRole"],
        logsConfig=project["logsConfig"],
    )


def deploy_step_assumes_the_preview_role(stacks: Stacks, _: pytest.MonkeyPatch) -> Undo:
    """Recreate the Deploy project by hand with the preview role in ASSUME_ROLE_ARN (moto has no UpdateProject)."""
    pipeline_stack = stacks[PIPELINE]
    codebuild = pipeline_stack.client("codebuild")
    name = pipeline_stack.outputs["buildProjectNames"][1]
    (project,) = codebuild.batch_get_projects(names=[name])["projects"]
    deployed = copy.deepcopy(project)
    variables = [
        {**variable, "value": _bootstrap(stacks).outputs["previewRoleArn"]}
        if variable["name"] == "ASSUME_ROLE_ARN"
        else variable
        for variable in project["environment"]["environmentVariables"]
    ]
    _recreate_project(codebuild, project, variables)
    return lambda: _recreate_project(codebuild, deployed, deployed["environment"]["environmentVariables"])


def trust_another_pipeline_account(stacks: Stacks, _: pytest.MonkeyPatch) -> Undo:
    def elsewhere(statement: dict[str, object]) -> None:
        statement["Principal"] = {"AWS": "arn:aws:iam::111111111111:root"}
        statement["Condition"] = {
            "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/cicd-*-build-role-???????"}
        }

    return _retrust(stacks, "previewRoleArn", elsewhere)


@dataclass(frozen=True)
class Drift:
    """How to break one check, and the words its failure must contain."""

    complaint: str
    # Breaks the deployed state (or, for what the program decides, the program between two runs), and
    # returns how to put back what it changed.
    breakage: Callable[[Stacks, pytest.MonkeyPatch], Undo] | None = None
    # Breaks the program before it is deployed: what the program decides, not the account.
    program_change: Callable[[pytest.MonkeyPatch], None] | None = None


DRIFTS: dict[str, Drift] = {
    "fixed-names": Drift("'stateBucket': 'cicd-state-eu-west-1'", program_change=name_the_bucket_without_the_account),
    "state-bucket-versioning": Drift("'Suspended', not Enabled", suspend_versioning),
    "state-bucket-encryption": Drift("encrypts with AES256", encrypt_with_s3_keys),
    "state-bucket-public-access": Drift("leaves ['BlockPublicPolicy'] open", allow_public_policies),
    "state-bucket-tls-only": Drift("does not deny s3:ListBucket without TLS", allow_plain_http),
    "state-never-expires": Drift("state in cicd-state-123456789012-eu-west-1 expires", expire_old_state),
    "secrets-key": Drift("rotation of arn:aws:kms:eu-west-1:123456789012:key/", stop_rotating_the_key),
    "role-trust": Drift(
        "cicd-bootstrap-preview-eu-west-1 lets arn:aws:iam::123456789012:role/cicd-dev-deploy-role-",
        trust_every_role_of_the_pipeline_account,
    ),
    "deploy-boundary": Drift(
        "cicd-bootstrap-deploy-eu-west-1 carries the permissions boundary none", lift_the_deploy_boundary
    ),
    "role-permissions": Drift(
        "cicd-bootstrap-preview-eu-west-1 may s3:PutObject on arn:aws:s3:::cicd-state-123456789012-eu-west-1/",
        let_preview_write_state,
    ),
    "bootstrap-second-run": Drift(
        "would change: ~ urn:pulumi:dev::cicd-bootstrap::cicd:bootstrap:StateBackend$aws:kms/key:Key::cicd-state-key: "
        "deletionWindowInDays",
        shorten_the_key_deletion_window,
    ),
    "uses-bootstrap": Drift(
        "assumes arn:aws:iam::123456789012:role/cicd-bootstrap-preview-eu-west-1, not the bootstrap's deploy role",
        deploy_step_assumes_the_preview_role,
    ),
    "trusts-pipeline": Drift(
        "cicd-bootstrap-preview-eu-west-1 does not admit arn:aws:iam::123456789012:role/cicd-dev-build-role-",
        trust_another_pipeline_account,
    ),
}
CHECK_NAMES = [check.name for check in BOOTSTRAP_CHECKS] + list(LINK_CHECK_NAMES)


def test_every_check_has_a_drift_that_breaks_it() -> None:
    assert set(DRIFTS) == set(CHECK_NAMES)


def _check(stacks: Stacks, name: str) -> tuple[Check, Deployment]:
    """The check named `name` and the deployment it runs on (a link check runs on the pipeline)."""
    if name in LINK_CHECK_NAMES:
        (check,) = [check for check in link_checks(_bootstrap(stacks)) if check.name == name]
        return check, stacks[PIPELINE]
    (check,) = [check for check in BOOTSTRAP_CHECKS if check.name == name]
    return check, _bootstrap(stacks)


@pytest.mark.parametrize("name", CHECK_NAMES)
def test_the_check_fails_once_the_state_drifts(
    module_emulator: Emulator, shared_stacks: SharedStacks, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    drift = DRIFTS[name]
    with_pipeline = name in LINK_CHECK_NAMES
    if drift.program_change:
        # The program itself is broken: its own stacks, deployed from the changed program.
        shared_stacks.retire()
        drift.program_change(monkeypatch)
        with bootstrapped(module_emulator, "dev", with_pipeline=with_pipeline) as stacks:
            check, deployment = _check(stacks, name)
            (after,) = verify(deployment, (check,))
        assert after.status == "failed"
        assert drift.complaint in after.detail
        return

    assert drift.breakage is not None
    try:
        stacks = shared_stacks.get(with_pipeline=with_pipeline)
        check, deployment = _check(stacks, name)
        (before,) = verify(deployment, (check,))
        assert before.status == "ok", before.detail
        undo = drift.breakage(stacks, monkeypatch)
        (after,) = verify(deployment, (check,))

        assert after.status == "failed"
        assert drift.complaint in after.detail

        # Undone, the check passes again: the stacks are as deployed for the next case (and every check
        # passes on them once more before they are destroyed: SharedStacks.retire).
        undo()
        (again,) = verify(deployment, (check,))
        assert again.status == "ok", again.detail
    except BaseException:
        shared_stacks.discard()
        raise


def test_a_new_boundary_version_without_the_role_guard_fails_the_boundary_check(emulator: Emulator) -> None:
    with bootstrapped(emulator, "dev", with_pipeline=False) as stacks:
        iam, boundary = _bootstrap(stacks).client("iam"), _bootstrap(stacks).outputs["deployBoundaryArn"]
        document = iam.get_policy_version(PolicyArn=boundary, VersionId="v1")["PolicyVersion"]["Document"]
        document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "DenyRolesAndUsersWithoutThisBoundary"]
        iam.create_policy_version(PolicyArn=boundary, PolicyDocument=json.dumps(document), SetAsDefault=True)
        (result,) = verify(_bootstrap(stacks), _checks("deploy-boundary"))
        iam.set_default_policy_version(PolicyArn=boundary, VersionId="v1")
        iam.delete_policy_version(PolicyArn=boundary, VersionId="v2")

    assert result.status == "failed"
    assert "the boundary does not deny iam:CreateRole on arn:aws:iam::123456789012:role/" in result.detail
    assert "to a role without this boundary" in result.detail


def _checks(name: str) -> tuple[Check, ...]:
    return tuple(check for check in BOOTSTRAP_CHECKS if check.name == name)


def test_a_prod_bootstrap_that_trusts_its_own_account_is_caught(emulator: Emulator) -> None:
    """pipelineAccountId left empty in prod: the roles trust 210987654321, where no pipeline runs."""
    with bootstrapped(emulator, "prod", bootstrap_overrides={"pipelineAccountId": ""}) as stacks:
        own = verify(_bootstrap(stacks), _checks("role-trust"))
        (check,) = [check for check in link_checks(_bootstrap(stacks)) if check.name == "trusts-pipeline"]
        (linked,) = verify(stacks[PIPELINE], (check,))

    assert [result.status for result in own] == ["ok"]  # consistent with its own config...
    assert linked.status == "failed"  # ...but not with the pipeline it serves
    assert "does not admit arn:aws:iam::123456789012:role/cicd-prod-build-role-" in linked.detail


# --- what `pulumi destroy` does with protected and retained resources -------------------------------


def test_the_bootstrap_destroy_is_refused_while_protected_then_leaves_nothing(emulator: Emulator) -> None:
    before = take_inventory(emulator, REGION)
    bootstrap = deploy(emulator, "dev", project_dir=BOOTSTRAP_DIR)
    deployed = take_inventory(emulator, REGION)

    with pytest.raises(ProtectedResourcesError) as refusal:
        destroy(bootstrap)
    after_refusal = take_inventory(emulator, REGION)
    unprotected = sorted(resource.name for resource in unprotect(bootstrap))
    destroy(bootstrap)
    after = take_inventory(emulator, REGION)

    assert unprotected == PROTECTED_BY_THE_BOOTSTRAP
    assert "cannot be deleted\nbecause it is protected" in str(refusal.value)
    assert "`pulumi state unprotect 'urn:pulumi:dev::cicd-bootstrap::" in str(refusal.value)
    assert after_refusal.items == deployed.items  # refused before anything was deleted
    assert leftovers(after, before) == {}
    assert len(after.keys_pending_deletion - before.keys_pending_deletion) == 1


class Kept(pulumi.ComponentResource):
    """A component whose children inherit its retainOnDelete, as the engine gives it them."""

    def __init__(self, name: str) -> None:
        super().__init__("test:index:Kept", name, None, pulumi.ResourceOptions(retain_on_delete=True))
        aws.s3.Bucket(f"{name}-child", bucket=f"{name}-child-bucket", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


def buckets_some_retained() -> None:
    aws.s3.Bucket("kept", bucket="kept-bucket", opts=pulumi.ResourceOptions(retain_on_delete=True))
    aws.s3.Bucket("gone", bucket="gone-bucket")
    Kept("group")


def test_a_retained_resource_stays_in_aws_and_leaves_the_stack(emulator: Emulator) -> None:
    deployment = deploy(emulator, "dev", program=buckets_some_retained)
    steps = destroy(deployment)
    s3 = deployment.client("s3")
    remaining = sorted(bucket["Name"] for bucket in s3.list_buckets()["Buckets"])
    for name in remaining:
        s3.delete_bucket(Bucket=name)  # by hand, as the retainOnDelete docs say

    assert remaining == ["group-child-bucket", "kept-bucket"]
    assert {step.name: step.note for step in steps if step.type == "aws:s3/bucket:Bucket"} == {
        "kept": RETAINED_NOTE,
        "gone": "",
        "group-child": RETAINED_NOTE,
    }
