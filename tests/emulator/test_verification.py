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


def test_the_alert_for_a_failed_action_names_stage_action_and_log(deployment: Deployment) -> None:
    for service in service_pipelines(deployment):
        event = sample_event(deployment, "action-execution-failed.json", service)
        assert service.action_rule_name is not None  # every shipped stack alerts on FAILED
        message = render_alert(deployment, event, service, rule=service.action_rule_name)

        pipeline, execution = service.outputs["pipelineName"], event["detail"]["execution-id"]
        log = event["detail"]["execution-result"]["external-execution-url"]
        assert message == (
            f"CodePipeline {pipeline}: action Build in stage Build entered state FAILED at {event['time']} "
            f"(execution {execution}). Log: {log} "
            f"Details: https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/{pipeline}"
            f"/executions/{execution}/timeline?region=eu-west-1"
        )


def test_slack_is_wired_where_it_is_configured(deployment: Deployment) -> None:
    """With Slack on (dev-with-options): the configuration is a placeholder, its role and topic are real."""
    configured = "slackTopicArn" in deployment.outputs
    configurations = deployment.graph.of_type("aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration")
    assert len(configurations) == (1 if configured else 0)
    if configured:
        (configuration,) = configurations
        notes = [step.note for step in deployment.mocks.steps if step.name == configuration.name]
        assert notes == ["placeholder ARN: moto has no AWS Chatbot"]
        assert deployment.outputs["slackChannelConfigurationArn"] == (
            f"arn:aws:chatbot::{deployment.account_id}:chat-configuration/slack-channel/cicd-dev-slack"
        )
        role = deployment.client("iam").get_role(RoleName=deployment.outputs["slackRoleArn"].rpartition("/")[2])
        assert (
            role["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"]
            == deployment.outputs["permissionsBoundaryArn"]
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
