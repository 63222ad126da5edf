"""Deploy, destroy, deploy again; refuse what cannot be emulated faithfully; the command itself."""

from __future__ import annotations

import os
import re
import runpy
import sys
from collections.abc import Callable

import boto3
import pulumi
import pulumi_aws as aws
import pytest

from emulator.backend import FAKE_CREDENTIALS, Emulator
from emulator.cli import main
from emulator.lifecycle import (
    DeployFailedError,
    ProtectedResourcesError,
    deletion_order,
    deploy,
    destroy,
    leftovers,
    take_inventory,
    unprotect,
)
from emulator.resources import TRANSLATORS
from emulator.verify import failures, verify
from harness.capture import evaluate
from harness.fake_aws import autoname
from harness.stack_config import BOOTSTRAP_DIR
from tests.emulator.conftest import PROTECTED_BY_THE_BOOTSTRAP, WITH_EVERY_OPTION, deployed
from tools.readme import DOCS_DIR, read_section

pytestmark = pytest.mark.emulator

REGION = "eu-west-1"


def test_destroy_leaves_nothing_and_the_names_can_be_deployed_again() -> None:
    with Emulator() as emulator:
        before = take_inventory(emulator, REGION)
        first = deploy(emulator, "dev")
        destroy(first)
        after_first = take_inventory(emulator, REGION)
        second = deploy(emulator, "dev")
        results = verify(second)
        destroy(second)
        after_second = take_inventory(emulator, REGION)

    assert leftovers(after_first, before) == {}
    assert leftovers(after_second, before) == {}
    assert failures(results) == []
    assert second.outputs["pipelineName"] == first.outputs["pipelineName"]
    # The alias moved to the new key; the old key waits out its deletion window, as in AWS.
    assert second.outputs["kmsKeyArn"] != first.outputs["kmsKeyArn"]
    assert len(after_second.keys_pending_deletion) == 2


def test_the_optional_resources_are_created_in_the_emulator_too() -> None:
    with deployed("dev", **WITH_EVERY_OPTION) as deployment:
        created = {resource.type for resource in deployment.graph.custom()}
        providers = deployment.client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]
        secrets = deployment.client("secretsmanager").list_secrets()["SecretList"]

    assert {"aws:iam/openIdConnectProvider:OpenIdConnectProvider", "aws:secretsmanager/secret:Secret"} <= created
    assert [provider["Arn"] for provider in providers] == [deployment.outputs["githubOidcProviderArn"]]
    assert [secret["KmsKeyId"] for secret in secrets] == [deployment.outputs["kmsKeyArn"]]
    assert "aws:codestarconnections/connection:Connection" not in created


def test_every_resource_is_deleted_before_anything_it_depends_on() -> None:
    with deployed("prod") as deployment:
        order = [resource.urn for resource in deletion_order(deployment.graph)]
        # Production keeps its artifact store and key: destroy refuses, deleting nothing, until a
        # person unprotects them on purpose.
        with pytest.raises(ProtectedResourcesError) as refused:
            destroy(deployment)
        kept = sorted(resource.name for resource in refused.value.protected)
        assert kept == sorted(resource.name for resource in unprotect(deployment))
        assert any(name.endswith("-key") for name in kept), kept
        assert any(name.endswith("-artifacts") for name in kept), kept
        destroy(deployment)
    graph = deployment.graph

    assert sorted(order) == sorted(resource.urn for resource in graph.resources if resource.custom)
    for resource in graph.resources:
        if not resource.custom:
            continue
        needed = set(resource.dependencies).union(*resource.property_dependencies.values())
        for dependency in needed & set(order):
            assert order.index(resource.urn) < order.index(dependency), f"{resource.name} outlives {dependency}"
        provider = resource.provider.rpartition("::")[0]
        if provider:
            assert order.index(resource.urn) < order.index(provider)


def a_queue() -> None:
    aws.sqs.Queue("jobs")


def a_bucket_with_object_lock() -> None:
    aws.s3.Bucket("locked", object_lock_enabled=True)


def a_zone_lookup() -> None:
    pulumi.export("zones", aws.get_availability_zones_output().names)


@pytest.mark.parametrize(
    ("program", "complaint"),
    [
        (a_queue, "creating aws:sqs/queue:Queue jobs failed: the emulator does not support this resource type"),
        (
            a_bucket_with_object_lock,
            "creating aws:s3/bucket:Bucket locked failed: the emulator would drop the inputs objectLockEnabled",
        ),
        (a_zone_lookup, "cannot answer the invoke aws:index/getAvailabilityZones:getAvailabilityZones"),
    ],
    ids=["unsupported-type", "untranslated-input", "unsupported-invoke"],
)
def test_what_cannot_be_emulated_stops_the_run_naming_it(program: Callable[[], None], complaint: str) -> None:
    with Emulator() as emulator, pytest.raises(DeployFailedError) as failure:
        deploy(emulator, "dev", program=program)

    assert complaint in str(failure.value)


EMULATOR_PAGE = DOCS_DIR / "emulator.md"


def test_the_emulator_page_lists_every_gap_and_placeholder() -> None:
    section = read_section(EMULATOR_PAGE, "emulator")
    for token, translator in TRANSLATORS.items():
        for path in translator.gaps:
            assert f"`{token.rpartition(':')[2]}.{path}`" in section, f"docs/emulator.md misses the gap {token} {path}"
        if translator.placeholder:
            assert f"`{token.rpartition(':')[2]}`" in section
            assert "**placeholder**" in section


def _section(lines: list[str], heading: str) -> list[str]:
    """The lines after `heading` up to the next blank line."""
    start = lines.index(heading) + 1
    return lines[start : lines.index("", start)]


def test_the_command_deploys_bootstrap_then_pipeline_verifies_both_and_destroys_pipeline_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["--stack", "dev"])
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    deploy_headings = [line for line in lines if line.startswith("Deploying the ")]
    destroy_headings = [line for line in lines if line.startswith("Destroying the ")]
    # "Deploying the bootstrap stack dev ...": the program is the third word.
    deploying = {heading.split()[2]: _section(lines, heading) for heading in deploy_headings}
    destroying = {heading.split()[2]: _section(lines, heading) for heading in destroy_headings}

    assert code == 0, printed
    assert [heading.split()[2] for heading in deploy_headings] == ["bootstrap", "pipeline"]
    assert [heading.split()[2] for heading in destroy_headings] == ["pipeline", "bootstrap"]
    # AWS resources, the one provider, components: the three counts the README's quick start explains,
    # each as the program registers it under the unit tests' mocks.
    graphs = {"bootstrap": evaluate("dev", project_dir=BOOTSTRAP_DIR), "pipeline": evaluate("dev")}
    for program, graph in graphs.items():
        aws_resources, components = sum(1 for _ in graph.custom()), sum(1 for _ in graph.components())
        count = aws_resources + 1
        created = [line for line in deploying[program] if line.startswith("  + ")]
        deleted = [line for line in destroying[program] if line.startswith("  - ")]
        # One line per resource, each with its milliseconds, then the count, saying what it counts.
        assert len(created) == len(deleted) == count, program
        assert all(re.search(r"\s\d+\.\d ms", line) for line in created + deleted)
        assert [line for line in created + deleted if "pulumi:providers:aws" in line] == created[:1] + deleted[-1:]
        assert re.fullmatch(
            rf"Deployed {count} resources in \d+ ms \(the \+ lines\): {aws_resources} AWS resources and 1 provider; "
            rf"with the {components} components grouping them, {count + components} registrations",
            deploying[program][-1],
        ), deploying[program][-1]
        assert re.fullmatch(
            rf"Destroyed {count} resources in \d+ ms \(the - lines\): {aws_resources} AWS resources and 1 provider",
            destroying[program][-1],
        ), destroying[program][-1]
        # The second-run check compares every registration: the same total.
        assert re.search(rf"^\s+all {count + components} \w.* get identical inputs$", printed, re.MULTILINE)
    assert "  + aws:iam:RolePolicyAttachment" in printed
    assert "  + aws:codepipeline:Pipeline" in printed
    assert re.search(r"^  stateBucket\s+cicd-state-123456789012-eu-west-1$", printed, re.MULTILINE)
    assert re.search(r"^  pipelineName\s+cicd-dev-pipeline-\w{7}$", printed, re.MULTILINE)
    assert re.search(r"^Verified in \d+ ms: 11 ok, 0 failed$", printed, re.MULTILINE)  # the bootstrap
    assert re.search(r"^Verified in \d+ ms: 18 ok, 0 failed$", printed, re.MULTILINE)  # the pipeline and its links
    assert "same account (123456789012 -> 123456789012)" in printed
    # The bootstrap's bucket and key (with the alias and the bucket's guards) are protected: the
    # refusal, then the administrator's unprotect.
    refusal = destroying["bootstrap"][:2]
    assert refusal[0].startswith("  pulumi destroy refuses, deleting nothing: ")
    assert sorted(refusal[0].partition(": ")[2].split(" protected")[0].split(", ")) == PROTECTED_BY_THE_BOOTSTRAP
    assert refusal[1].startswith("  pulumi state unprotect --all")
    assert "What is left in account 123456789012, by the services' own list calls" in lines
    assert "  iam attached policies    0 left" in lines
    assert "Nothing is left." in lines
    timings = lines[lines.index("Timings (ms)    deploy  verify  destroy") + 1 :]
    assert [line.split()[0] for line in timings] == ["bootstrap", "pipeline"]
    assert lines.index(deploy_headings[1]) < lines.index("Verifying the bootstrap through boto3")
    assert lines.index("Verifying the pipeline through boto3, and against the bootstrap") < lines.index(
        destroy_headings[0]
    )


class EnterAfterLooking:
    """Standard input for `--keep`: before it answers Enter, it looks at the served stack from outside,
    as a user in another shell would: a boto3 client that knows only the printed endpoint, over HTTP.
    """

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.printed = ""
        self.pipelines: list[str] = []

    def readline(self) -> str:
        self.printed += self.capsys.readouterr().out
        assert self.printed.rstrip().endswith("Press Enter (or Ctrl-C) to destroy the stacks and stop the emulator.")
        found = re.search(r"export AWS_ENDPOINT_URL=(\S+)", self.printed)
        assert found is not None, self.printed
        endpoint = found.group(1)
        assert endpoint.startswith("http://127.0.0.1:")
        outside = boto3.Session(**FAKE_CREDENTIALS).client("codepipeline", region_name=REGION, endpoint_url=endpoint)
        self.pipelines = [pipeline["name"] for pipeline in outside.list_pipelines()["pipelines"]]
        return "\n"


def test_keep_serves_the_stack_to_the_aws_cli_until_enter(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `python -m emulator` as make local runs it, in this process: its HTTP server is what is looked at.
    enter = EnterAfterLooking(capsys)
    monkeypatch.setattr(sys, "stdin", enter)
    monkeypatch.setattr(sys, "argv", ["python -m emulator", "--stack", "dev", "--keep"])
    for variable in [key for key in os.environ if key.startswith("AWS_")]:
        monkeypatch.delenv(variable)

    with pytest.raises(SystemExit) as exit_:
        runpy.run_module("emulator", run_name="__main__", alter_sys=True)
    remainder = capsys.readouterr().out

    assert enter.pipelines == [autoname("cicd-dev-pipeline")]
    assert exit_.value.code == 0, enter.printed + remainder
    assert "Nothing is left." in remainder


def test_a_failed_pipeline_deploy_destroys_it_and_the_bootstrap_and_leaves_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pipeline's last resources cannot be created: the bootstrap is up, the pipeline half-way.
    monkeypatch.delitem(TRANSLATORS, "aws:codepipeline/pipeline:Pipeline")

    code = main(["--stack", "dev"])
    lines = capsys.readouterr().out.splitlines()

    assert code == 1
    failure = next(line for line in lines if line.startswith("Deploy FAILED: "))
    assert "aws:codepipeline/pipeline:Pipeline" in failure
    assert "the emulator does not support this resource type" in failure
    destroyed = [line.split()[2] for line in lines if line.startswith("Destroying the ")]
    assert destroyed == ["pipeline", "bootstrap"]
    assert any(line.startswith("  pulumi destroy refuses, deleting nothing: ") for line in lines)
    assert "Nothing is left." in lines
