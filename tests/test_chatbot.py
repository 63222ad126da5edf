"""SlackAlerts, evaluated alone under a local mock, and its notifications checked against Chatbot's schema.

harness/fake_aws.py has no answer yet for aws:chatbot/slackChannelConfiguration; until the registry of
resource types gives one, `ChatbotFakeAws` below adds it, shaped like the provider's outputs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pulumi_aws as aws
import pytest
from moto.events.models import EventPattern
from moto.events.utils import EventTemplateParser
from pulumi.runtime.mocks import MockResourceArgs

from harness.capture import RegisteredResource, StackGraph, evaluate
from harness.fake_aws import FakeAws
from harness.samples import SAMPLE_EVENTS, SAMPLE_PIPELINE
from pipeline.chatbot import (
    CHATBOT_API_REGIONS,
    NOTIFICATION_PERMISSIONS,
    SlackAlerts,
    SlackAlertsArgs,
)
from pipeline.encryption import PipelineKey
from pipeline.provider import AwsAccount
from pipeline.settings import Settings, load_settings
from tests.support import policy, program, settings_for, statements_by_sid

CHATBOT = "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration"
WORKSPACE, CHANNEL = "T07EA123LEP", "C07EZ1ABC23"

# The Chatbot API's regions: https://docs.aws.amazon.com/chatbot/latest/APIReference/Welcome.html
# ("APIs are currently available in the following Regions") and https://docs.aws.amazon.com/general/latest/gr/chatbot.html.
DOCUMENTED_CHATBOT_REGIONS = {"us-east-2", "us-west-2", "ap-southeast-1", "eu-west-1"}

# Chatbot's custom notification, as https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html
# documents it ("Event schema" and "Parameter details"): each field's type, whether it is required, and the
# one value it may take where there is one. version "Must be 1.0", source "Must be custom", textType "Only
# client-markdown textType is currently supported"; content.description is the text Chatbot shows, the one
# content field every sample on the page carries.
Field = tuple[type, bool, Any]
NOTIFICATION: dict[str, Field] = {
    "version": (str, True, "1.0"),
    "source": (str, True, "custom"),
    "id": (str, False, None),
    "content": (dict, True, None),
    "metadata": (dict, False, None),
}
CONTENT: dict[str, Field] = {
    "textType": (str, False, "client-markdown"),
    "title": (str, False, None),
    "description": (str, True, None),
    "nextSteps": (list, False, None),
    "keywords": (list, False, None),
}
METADATA: dict[str, Field] = {
    "threadId": (str, False, None),
    "summary": (str, False, None),
    "eventType": (str, False, None),
    "relatedResources": (list, False, None),
    "additionalContext": (dict, False, None),
}


def _problems(where: str, value: Any, fields: Mapping[str, Field]) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where} is {type(value).__name__}, not an object"]
    found = [f"{where}.{key} is not in the schema" for key in value if key not in fields]
    for key, (kind, required, fixed) in fields.items():
        if key not in value:
            found += [f"{where}.{key} is required"] if required else []
        elif not isinstance(value[key], kind):
            found.append(f"{where}.{key} is {type(value[key]).__name__}, not {kind.__name__}")
        elif fixed is not None and value[key] != fixed:
            found.append(f"{where}.{key} is {value[key]!r}, not {fixed!r}")
        elif (kind is list or key == "additionalContext") and not _all_strings(value[key]):
            found.append(f"{where}.{key} holds something other than strings")
    return found


def _all_strings(value: list[Any] | dict[str, Any]) -> bool:
    """Chatbot's lists (nextSteps, keywords, relatedResources) and additionalContext hold strings only."""
    items = value.values() if isinstance(value, dict) else value
    return all(isinstance(item, str) for item in items)


def schema_problems(message: Any) -> list[str]:
    """Where `message` departs from Chatbot's custom-notification schema; [] when it conforms."""
    found = _problems("notification", message, NOTIFICATION)
    if isinstance(message, dict):
        found += _problems("content", message.get("content", {}), CONTENT)
        if "metadata" in message:
            found += _problems("metadata", message["metadata"], METADATA)
    return found


class ChatbotFakeAws(FakeAws):
    """FakeAws plus AWS Chatbot's Slack configuration (until harness/fake_aws.py answers it itself)."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == CHATBOT:
            inputs = dict(args.inputs)
            # A configuration's ARN has no region: `pulumi import` takes arn:aws:chatbot::<account>:... (pulumi-aws).
            arn = f"arn:aws:chatbot::{self.account_id}:chat-configuration/slack-channel/{inputs['configurationName']}"
            return arn, {
                **inputs,
                "chatConfigurationArn": arn,
                "slackChannelName": "alerts",
                "slackTeamName": "my-team",
                "tagsAll": inputs.get("tags", {}),
            }
        return super().new_resource(args)


def slack_args(settings: Settings, key_arn: Any) -> SlackAlertsArgs:
    """What the stack's settings give the component (the mapping __main__.py is to hold)."""
    return SlackAlertsArgs(
        names=program().stack_names(settings),
        workspace_id=settings.slack.workspace_id,
        channel_id=settings.slack.channel_id,
        pipeline_names=[SAMPLE_PIPELINE],
        key_arn=key_arn,
        states=settings.alert_states,
        default_tags=settings.default_tags(),
    )


def slack_graph(stack: str = "prod", overrides: Mapping[str, Any] | None = None, **changes: Any) -> StackGraph:
    """SlackAlerts with the stack's pipeline key, on the stack's provider."""

    def run() -> None:
        settings = load_settings()
        account = AwsAccount("account", program().account_args(settings))
        key = PipelineKey("key", program().key_args(settings, account), opts=account.component_options())
        SlackAlerts("slack", replace(slack_args(settings, key.arn), **changes), opts=account.component_options())

    config = {"slackWorkspaceId": WORKSPACE, "slackChannelId": CHANNEL, **(overrides or {})}
    region = str(config.get("aws:region", "eu-west-1"))
    return evaluate(stack, config, mocks=ChatbotFakeAws(region=region), program=run)


@pytest.fixture(scope="module")
def graph() -> StackGraph:
    return slack_graph()


def provider_of(graph: StackGraph, resource: RegisteredResource) -> RegisteredResource:
    """The provider a resource was registered with (its reference is `<provider urn>::<provider id>`)."""
    return graph.by_urn(resource.provider.rsplit("::", 1)[0])


def sample(name: str) -> Any:
    event = json.loads((SAMPLE_EVENTS / name).read_text())
    event["ingestion-time"] = 0  # moto's EventTemplateParser reads it
    return event


def rule(graph: StackGraph, kind: str) -> RegisteredResource:
    return graph.one("aws:cloudwatch/eventRule:EventRule", f"slack-{kind}")


def notification(graph: StackGraph, kind: str, event: Any) -> Any:
    """What the rule's target publishes to the topic for `event`, as moto's input transformer renders it."""
    target = graph.one("aws:cloudwatch/eventTarget:EventTarget", f"slack-{kind}-to-topic")
    transformer = target.inputs["inputTransformer"]
    return EventTemplateParser.parse(transformer["inputTemplate"], transformer["inputPaths"], event)


# --- Where the configuration is created ---------------------------------------------------------


def test_the_chatbot_regions_are_the_documented_ones() -> None:
    assert set(CHATBOT_API_REGIONS) == DOCUMENTED_CHATBOT_REGIONS


@pytest.mark.parametrize("region", ["eu-west-1", "eu-central-1"])
def test_configuration_goes_through_a_provider_pinned_to_chatbots_region_not_the_stacks(region: str) -> None:
    graph = slack_graph(overrides={"aws:region": region})
    configuration = graph.one(CHATBOT)
    chatbot_provider = provider_of(graph, configuration)
    assert chatbot_provider.inputs["region"] == "us-east-2"
    assert chatbot_provider.parent == graph.one("cicd:chatbot:SlackAlerts").urn
    # Everything else of the component stays on the stack's provider, in the stack's region.
    others = [r for r in graph.custom() if r.parent == configuration.parent and r is not configuration]
    assert {provider_of(graph, r).inputs["region"] for r in others} == {region}


def test_the_chatbot_provider_keeps_the_stacks_default_tags(graph: StackGraph) -> None:
    default_tags = provider_of(graph, graph.one(CHATBOT)).inputs["defaultTags"]
    # A provider's nested inputs reach the engine as JSON strings.
    tags = (json.loads(default_tags) if isinstance(default_tags, str) else default_tags)["tags"]
    assert tags["Environment"] == "prod"
    assert tags["ManagedBy"] == "pulumi"


def test_a_given_provider_is_used_instead_of_building_one() -> None:
    def run() -> None:
        settings = load_settings()
        account = AwsAccount("account", program().account_args(settings))
        mine = aws.Provider("mine", region="eu-west-1")
        SlackAlerts("slack", replace(slack_args(settings, "key"), api_provider=mine), opts=account.component_options())

    config = {"slackWorkspaceId": WORKSPACE, "slackChannelId": CHANNEL}
    graph = evaluate("prod", config, mocks=ChatbotFakeAws(), program=run)
    assert provider_of(graph, graph.one(CHATBOT)).name == "mine"
    assert len([r for r in graph.resources if r.is_provider]) == 2  # the stack's and the given one


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"api_region": "eu-central-1"}, "the Chatbot API is only in"),
        ({"workspace_id": "t07ea123lep"}, "Slack workspace ID"),
        ({"channel_id": "#alerts"}, "Slack channel ID"),
        ({"pipeline_names": []}, "may not be empty"),
        ({"action_states": ("BROKEN",)}, "CodePipeline's action states"),
    ],
)
def test_args_refuse_what_chatbot_would(change: dict[str, Any], message: str) -> None:
    settings = settings_for({"slackWorkspaceId": WORKSPACE, "slackChannelId": CHANNEL}, stack="prod")
    with pytest.raises(ValueError, match=message):
        replace(slack_args(settings, "key"), **change)


# --- Wiring ---------------------------------------------------------------------------------------


def test_configuration_names_the_channel_and_is_wired_to_its_topic_role_and_guardrail(graph: StackGraph) -> None:
    configuration = graph.one(CHATBOT)
    topic = graph.one("aws:sns/topic:Topic", "slack")
    role = graph.one("aws:iam/role:Role", "slack")
    guardrail = graph.one("aws:iam/policy:Policy", "slack-guardrail")
    inputs = configuration.inputs
    assert (inputs["slackTeamId"], inputs["slackChannelId"]) == (WORKSPACE, CHANNEL)
    assert inputs["configurationName"] == "cicd-prod-slack"
    assert inputs["snsTopicArns"] == [topic.outputs["arn"]]
    assert inputs["iamRoleArn"] == role.outputs["arn"]
    assert inputs["guardrailPolicyArns"] == [guardrail.outputs["arn"]]
    assert inputs["loggingLevel"] == "ERROR"
    assert configuration.depends_on("snsTopicArns", topic)
    assert configuration.depends_on("iamRoleArn", role)
    assert configuration.depends_on("guardrailPolicyArns", guardrail)
    # The role's permissions are in place before Chatbot is told to use it.
    assert graph.one("aws:iam/rolePolicy:RolePolicy", "slack").urn in configuration.dependencies


def test_rules_watch_the_given_pipelines_output(graph: StackGraph) -> None:
    for kind in ("runs", "actions"):
        pattern = json.loads(rule(graph, kind).inputs["eventPattern"])
        assert pattern["detail"]["pipeline"] == [SAMPLE_PIPELINE]


def test_each_rules_target_is_the_slack_topic_after_its_policy(graph: StackGraph) -> None:
    topic = graph.one("aws:sns/topic:Topic", "slack")
    topic_policy = graph.one("aws:sns/topicPolicy:TopicPolicy", "slack")
    for kind in ("runs", "actions"):
        target = graph.one("aws:cloudwatch/eventTarget:EventTarget", f"slack-{kind}-to-topic")
        assert target.inputs["arn"] == topic.outputs["arn"]
        assert target.depends_on("rule", rule(graph, kind))
        assert topic_policy.urn in target.dependencies


# --- Permissions ----------------------------------------------------------------------------------


def test_role_trusts_only_chatbot(graph: StackGraph) -> None:
    (trust,) = policy(graph.one("aws:iam/role:Role", "slack").inputs["assumeRolePolicy"])["Statement"]
    assert trust == {
        "Sid": "TrustOnlyChatbot",
        "Effect": "Allow",
        "Principal": {"Service": "chatbot.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }


@pytest.mark.parametrize("document", ["role policy", "guardrail"])
def test_role_and_guardrail_allow_reading_notifications_only(graph: StackGraph, document: str) -> None:
    resource = (
        graph.one("aws:iam/rolePolicy:RolePolicy", "slack")
        if document == "role policy"
        else graph.one("aws:iam/policy:Policy", "slack-guardrail")
    )
    (granted,) = policy(resource.inputs["policy"])["Statement"]
    assert granted["Effect"] == "Allow"
    # The "Notification permissions" template, and nothing else (pipeline/chatbot.py cites it).
    assert sorted(granted["Action"]) == sorted(NOTIFICATION_PERMISSIONS)
    assert all(action.split(":")[1].startswith(("Describe", "Get", "List")) for action in granted["Action"])
    assert {action.split(":")[0] for action in granted["Action"]} == {"cloudwatch"}


def test_no_aws_managed_guardrail_such_as_administrator_access(graph: StackGraph) -> None:
    """Without guardrails Chatbot applies AdministratorAccess; the one given is the stack's own policy."""
    (guardrail,) = graph.one(CHATBOT).inputs["guardrailPolicyArns"]
    assert ":aws:policy/" not in guardrail


def test_role_carries_the_permissions_boundary_when_given() -> None:
    boundary = "arn:aws:iam::123456789012:policy/cicd-prod-boundary"
    graph = slack_graph(permissions_boundary_arn=boundary)
    assert graph.one("aws:iam/role:Role", "slack").inputs["permissionsBoundary"] == boundary


# --- The encrypted topic --------------------------------------------------------------------------


def test_slack_topic_is_encrypted_with_the_pipeline_key(graph: StackGraph) -> None:
    key = graph.one("aws:kms/key:Key")
    topic = graph.one("aws:sns/topic:Topic", "slack")
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert topic.depends_on("kmsMasterKeyId", key)


def test_the_key_lets_the_publisher_in_and_needs_nothing_for_chatbot(graph: StackGraph) -> None:
    """SNS decrypts before delivering, so only EventBridge, the publisher, needs the key (pipeline/chatbot.py)."""
    statements = policy(graph.one("aws:kms/key:Key").inputs["policy"])["Statement"]
    publisher = statements_by_sid({"Statement": statements})["AllowEventBridgeToPublishToEncryptedTopic"]
    assert publisher["Principal"] == {"Service": "events.amazonaws.com"}
    assert sorted(publisher["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert "chatbot" not in json.dumps(statements)


def test_topic_policy_lets_only_the_slack_rules_publish_and_only_over_tls(graph: StackGraph) -> None:
    topic = graph.one("aws:sns/topic:Topic", "slack").outputs["arn"]
    statements = statements_by_sid(policy(graph.one("aws:sns/topicPolicy:TopicPolicy", "slack").inputs["policy"]))
    assert statements["AllowSlackRulesToPublish"] == {
        "Sid": "AllowSlackRulesToPublish",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic,
        "Condition": {
            "ArnEquals": {"aws:SourceArn": [rule(graph, "runs").outputs["arn"], rule(graph, "actions").outputs["arn"]]}
        },
    }
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# --- What reaches Slack ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample_file", "runs", "actions"),
    [
        ("pipeline-execution-failed.json", True, False),
        ("pipeline-execution-succeeded.json", False, False),
        ("pipeline-execution-started.json", False, False),
        ("other-pipeline-execution-failed.json", False, False),
        ("stage-execution-failed.json", False, False),
        ("action-execution-failed.json", False, True),
    ],
)
def test_rules_match_this_pipelines_failures_only(
    graph: StackGraph, sample_file: str, runs: bool, actions: bool
) -> None:
    event = sample(sample_file)
    assert EventPattern.load(rule(graph, "runs").inputs["eventPattern"]).matches_event(event) is runs
    assert EventPattern.load(rule(graph, "actions").inputs["eventPattern"]).matches_event(event) is actions


def test_the_runs_rule_alerts_on_the_stacks_alert_states(graph: StackGraph) -> None:
    stopped = sample("pipeline-execution-failed.json")
    stopped["detail"]["state"] = "STOPPED"
    assert EventPattern.load(rule(graph, "runs").inputs["eventPattern"]).matches_event(stopped)  # Pulumi.prod.yaml


@pytest.mark.parametrize(
    ("kind", "sample_file"), [("runs", "pipeline-execution-failed.json"), ("actions", "action-execution-failed.json")]
)
def test_what_slack_receives_is_a_chatbot_custom_notification(graph: StackGraph, kind: str, sample_file: str) -> None:
    message = notification(graph, kind, sample(sample_file))
    assert schema_problems(message) == []
    assert "<" not in json.dumps(message), "a placeholder whose path is missing from the event was left in"


def test_the_schema_check_refuses_what_chatbot_would_not_show() -> None:
    """The check itself: today's e-mail text, and a notification without its fixed fields, are refused."""
    assert schema_problems("CodePipeline app-pipeline-dev entered state FAILED") != []
    assert schema_problems({"content": {"description": "x"}}) == [
        "notification.version is required",
        "notification.source is required",
    ]
    assert schema_problems({"version": "0", "source": "custom", "content": {"description": "x"}}) == [
        "notification.version is '0', not '1.0'"
    ]
    assert schema_problems({"version": "1.0", "source": "custom", "content": {"text": "x"}}) == [
        "content.text is not in the schema",
        "content.description is required",
    ]


def test_an_action_failure_names_pipeline_stage_action_and_links_its_log(graph: StackGraph) -> None:
    event = sample("action-execution-failed.json")
    message = notification(graph, "actions", event)
    content = message["content"]
    assert content["title"] == "app-pipeline-dev: action Build/Build FAILED"
    assert "*Build* in stage *Build* of *app-pipeline-dev*" in content["description"]
    log = event["detail"]["execution-result"]["external-execution-url"]
    assert content["nextSteps"][0] == f"Read the action's log: {log}"
    assert message["metadata"]["relatedResources"] == event["resources"]


def test_an_execution_alert_links_the_execution(graph: StackGraph) -> None:
    message = notification(graph, "runs", sample("pipeline-execution-failed.json"))
    assert message["content"]["title"] == "app-pipeline-dev: execution FAILED"
    assert message["content"]["nextSteps"] == [
        "Open the execution: https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        "app-pipeline-dev/executions/12345678-abcd-4ef0-9876-0123456789ab/timeline?region=us-east-1"
    ]


def test_one_failed_run_is_one_slack_thread(graph: StackGraph) -> None:
    """The action's failure and the execution's failure of one run carry the same threadId."""
    action = notification(graph, "actions", sample("action-execution-failed.json"))
    execution = notification(graph, "runs", sample("pipeline-execution-failed.json"))
    assert action["metadata"]["threadId"] == execution["metadata"]["threadId"]
    assert action["metadata"]["threadId"] == "app-pipeline-dev-12345678-abcd-4ef0-9876-0123456789ab"
