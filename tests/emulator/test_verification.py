"""Each shipped stack, deployed into the emulator, passes every check of emulator/verify.py.

The same checks run in `make local`; tests/emulator/test_drift.py shows each of them failing
when the deployed state is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.lifecycle import Deployment
from emulator.verify import CHECKS, Check, render_alert, sample_event, service_pipelines, verify
from tests.emulator.conftest import WITH_EVERY_OPTION, deployed

pytestmark = [pytest.mark.emulator]


VARIANTS = {
    "dev": {},
    "prod": {},
    "dev-with-options": WITH_EVERY_OPTION,
    # Three services, two of them in one monorepo with their own paths and folders (Pulumi.platform.yaml).
    "platform": {},
}


@pytest.fixture(scope="module", params=list(VARIANTS))
def deployment(request: pytest.FixtureRequest) -> Iterator[Deployment]:
    stack = request.param.partition("-")[0]
    with deployed(stack, **VARIANTS[request.param]) as deployed_stack:
        yield deployed_stack


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.name)
def test_the_deployed_stack_passes(deployment: Deployment, check: Check) -> None:
    (result,) = verify(deployment, (check,))
    assert result.status == "ok", result.detail


def test_the_outputs_are_motos_own_answers(deployment: Deployment) -> None:
    kms = deployment.client("kms")
    key_arns = [kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Arn"] for key in kms.list_keys()["Keys"]]
    assert deployment.outputs["kmsKeyArn"] in key_arns
    buckets = [bucket["Name"] for bucket in deployment.client("s3").list_buckets()["Buckets"]]
    assert buckets == [deployment.outputs["artifactBucket"]]
    for service in service_pipelines(deployment):
        pipeline = deployment.client("codepipeline").get_pipeline(name=service.outputs["pipelineName"])
        assert pipeline["metadata"]["pipelineArn"] == service.outputs["pipelineArn"]


def test_the_alert_for_a_failed_run_names_pipeline_state_and_link(deployment: Deployment) -> None:
    for service in service_pipelines(deployment):
        event = sample_event(deployment, "pipeline-execution-failed.json", service)
        message = render_alert(deployment, event, service)

        pipeline, execution = service.outputs["pipelineName"], event["detail"]["execution-id"]
        assert message == (
            f"CodePipeline {pipeline} entered state FAILED at {event['time']} (execution {execution}). "
            f"Details: https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/{pipeline}"
            f"/executions/{execution}/timeline?region=eu-west-1"
        )


def test_each_stack_tags_what_it_creates_with_the_providers_default_tags(deployment: Deployment) -> None:
    tags = deployment.client("iam").list_role_tags(RoleName=deployment.graph.of_type("aws:iam/role:Role")[0].id)
    assert {tag["Key"]: tag["Value"] for tag in tags["Tags"]} == {
        "Project": "cicd-pipeline",
        "Environment": deployment.stack,
        "ManagedBy": "pulumi",
        "Stack": deployment.stack,
        "Team": "platform",
        "CostCenter": "engineering",
    }
