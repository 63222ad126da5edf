"""SlackAlerts, evaluated alone and in the whole stack, and its notifications checked against Chatbot's schema.

Slack delivers the e-mail's own alert rules (pipeline/notifications.py), each through a target of its
own writing Chatbot's custom-notification format; the sample events go through moto's EventPattern
matcher and EventTemplateParser, as EventBridge would match and render them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pulumi_aws as aws
import pytest
from moto.events.models import EventPattern
from moto.events.utils import EventTemplateParser

from harness.capture import RegisteredResource, StackGraph, evaluate, evaluate_once
from harness.samples import SAMPLE_EVENTS, SAMPLE_PIPELINE
from pipeline.chatbot import (
    CHATBOT_API_REGIONS,
    NOTIFICATION_PERMISSIONS,
    SlackAlerts,
    SlackAlertsArgs,
)
from pipeline.encryption import PipelineKey
from pipeline.notifications import AlertRule, AlertTopic, FailureAlerts, WatchedPipeline
from pipeline.provider import AwsAccount
from pipeline.settings import Settings, load_settings
from tests.support import policy, program, settings_for, statements_by_sid

RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
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


def failure_alerts(settings: Settings, account: AwsAccount, pipelines: Sequence[str]) -> FailureAlerts:
    """The e-mail's alert rules for `pipelines` (service name = pipeline name): the rules Slack delivers too."""
    names = program().stack_names(settings)
    topic = AlertTopic("alerts", program().alert_topic_args(settings, "key"), opts=account.component_options())
    return FailureAlerts(
        "failed",
        program().failure_alert_args(
            settings,
            pipelines=[
                WatchedPipeline(names.for_service(name) if len(pipelines) > 1 else names, name) for name in pipelines
            ],
            topic_arn=topic.arn,
        ),
        opts=account.component_options(),
    )


def slack_args(settings: Settings, key_arn: Any, rules: Sequence[AlertRule] = ()) -> SlackAlertsArgs:
    """What the stack's settings give the component (__main__.py's mapping), with these rules."""
    args: SlackAlertsArgs | None = program().slack_alerts_args(
        settings, rules=rules, key_arn=key_arn, permissions_boundary_arn="boundary"
    )
    assert args is not None, "Slack is configured"
    return replace(args, permissions_boundary_arn=None)


def slack_graph(
    stack: str = "prod",
    overrides: Mapping[str, Any] | None = None,
    pipelines: Sequence[str] = (SAMPLE_PIPELINE,),
    **changes: Any,
) -> StackGraph:
    """SlackAlerts with the stack's pipeline key and the e-mail's rules for `pipelines`, on the stack's provider."""

    def run() -> None:
        settings = load_settings()
        account = AwsAccount("account", program().account_args(settings))
        key = PipelineKey("key", program().key_args(settings, account), opts=account.component_options())
        rules = failure_alerts(settings, account, pipelines).alert_rules
        SlackAlerts("slack", replace(slack_args(settings, key.arn, rules), **changes), opts=account.component_options())

    config = {"slackWorkspaceId": WORKSPACE, "slackChannelId": CHANNEL, **(overrides or {})}
    return evaluate(stack, config, program=run)


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
    """The e-mail's rule Slack delivers too: `pipeline-failed` (the execution's) or `action-failed`."""
    return graph.one(RULE, f"-{kind}-failed")


def slack_target(graph: StackGraph, kind: str) -> RegisteredResource:
    return graph.one(TARGET, f"-{kind}-failed-to-slack")


def notification(graph: StackGraph, kind: str, event: Any) -> Any:
    """What the rule's Slack target publishes to the topic for `event`, as moto's input transformer renders it."""
    transformer = slack_target(graph, kind).inputs["inputTransformer"]
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
        args = replace(slack_args(settings, "key", [A_RULE]), api_provider=mine)
        SlackAlerts("slack", args, opts=account.component_options())

    config = {"slackWorkspaceId": WORKSPACE, "slackChannelId": CHANNEL}
    graph = evaluate("prod", config, program=run)
    assert provider_of(graph, graph.one(CHATBOT)).name == "mine"
    assert len([r for r in graph.resources if r.is_provider]) == 2  # the stack's and the given one


# A rule as FailureAlerts hands it over, for the args alone.
A_RULE = AlertRule("execution", "cicd-prod-pipeline-failed", "cicd-prod-pipeline-failed-1234567", "arn:rule")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"api_region": "eu-central-1"}, "the Chatbot API is only in"),
        ({"workspace_id": "t07ea123lep"}, "Slack workspace ID"),
        ({"channel_id": "#alerts"}, "Slack channel ID"),
        ({"rules": ()}, "rules may not be empty"),
    ],
)
def test_args_refuse_what_chatbot_would(change: dict[str, Any], message: str) -> None:
    settings = settings_for({"slackWorkspaceId": WORKSPACE, "slackChannelId": CHANNEL}, stack="prod")
    with pytest.raises(ValueError, match=message):
        replace(slack_args(settings, "key", [A_RULE]), **change)


def test_without_both_slack_keys_there_is_no_channel() -> None:
    assert (
        program().slack_alerts_args(settings_for(), rules=[A_RULE], key_arn="k", permissions_boundary_arn="b") is None
    )


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
    # The ARN the registry's mock answers (harness/resource_types.py): no region in it.
    assert configuration.outputs["chatConfigurationArn"] == (
        "arn:aws:chatbot::123456789012:chat-configuration/slack-channel/cicd-prod-slack"
    )
    assert configuration.id == configuration.outputs["chatConfigurationArn"]


def test_slack_adds_no_rule_of_its_own(graph: StackGraph) -> None:
    """What alerts is decided once: Slack delivers the e-mail's rules, each through a target of its own."""
    assert sorted(r.name for r in graph.of_type(RULE)) == ["cicd-prod-action-failed", "cicd-prod-pipeline-failed"]
    assert [r.name for r in graph.of_type(RULE) if r.parent == graph.one("cicd:chatbot:SlackAlerts").urn] == []


def test_each_rules_slack_target_is_the_slack_topic_after_its_policy(graph: StackGraph) -> None:
    topic = graph.one("aws:sns/topic:Topic", "slack")
    topic_policy = graph.one("aws:sns/topicPolicy:TopicPolicy", "slack")
    for kind in ("pipeline", "action"):
        target = slack_target(graph, kind)
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


def test_a_changed_guardrail_is_replaced_never_versioned(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new document makes a new policy, so the GitHub deploy role needs no iam:CreatePolicyVersion."""
    replaced_on: dict[str, Any] = {}
    policy_class: Any = aws.iam.Policy

    def recording(name: str, opts: Any = None, **kwargs: Any) -> Any:
        replaced_on[name] = opts.replace_on_changes if opts else None
        return policy_class(name, opts=opts, **kwargs)

    monkeypatch.setattr(aws.iam, "Policy", recording)
    slack_graph()
    assert replaced_on == {"slack-guardrail": ["policy"]}


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


def test_topic_policy_lets_only_the_alert_rules_publish_and_only_over_tls(graph: StackGraph) -> None:
    topic = graph.one("aws:sns/topic:Topic", "slack").outputs["arn"]
    statements = statements_by_sid(policy(graph.one("aws:sns/topicPolicy:TopicPolicy", "slack").inputs["policy"]))
    assert statements["AllowSlackRulesToPublish"] == {
        "Sid": "AllowSlackRulesToPublish",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic,
        "Condition": {
            "ArnEquals": {
                "aws:SourceArn": [rule(graph, "pipeline").outputs["arn"], rule(graph, "action").outputs["arn"]]
            }
        },
    }
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# --- What reaches Slack ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample_file", "kind"),
    [
        ("pipeline-execution-failed.json", "pipeline"),
        ("pipeline-execution-succeeded.json", None),
        ("pipeline-execution-started.json", None),
        ("other-pipeline-execution-failed.json", None),
        ("stage-execution-failed.json", None),
        ("action-execution-failed.json", "action"),
    ],
)
def test_slack_gets_this_pipelines_failures_only(graph: StackGraph, sample_file: str, kind: str | None) -> None:
    event = sample(sample_file)
    delivered = [
        each
        for each in ("pipeline", "action")
        if EventPattern.load(rule(graph, each).inputs["eventPattern"]).matches_event(event)
    ]
    assert delivered == ([kind] if kind else [])


@pytest.mark.parametrize(
    ("kind", "sample_file"),
    [("pipeline", "pipeline-execution-failed.json"), ("action", "action-execution-failed.json")],
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
    message = notification(graph, "action", event)
    content = message["content"]
    assert content["title"] == "app-pipeline-dev: action Build/Build FAILED"
    assert "*Build* in stage *Build* of *app-pipeline-dev*" in content["description"]
    log = event["detail"]["execution-result"]["external-execution-url"]
    assert content["nextSteps"][0] == f"Read the action's log: {log}"
    assert message["metadata"]["relatedResources"] == event["resources"]


def test_an_execution_alert_links_the_execution(graph: StackGraph) -> None:
    message = notification(graph, "pipeline", sample("pipeline-execution-failed.json"))
    assert message["content"]["title"] == "app-pipeline-dev: execution FAILED"
    assert message["content"]["nextSteps"] == [
        "Open the execution: https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        "app-pipeline-dev/executions/12345678-abcd-4ef0-9876-0123456789ab/timeline?region=us-east-1"
    ]


def test_one_failed_run_is_one_slack_thread(graph: StackGraph) -> None:
    """The action's failure and the execution's failure of one run carry the same threadId."""
    action = notification(graph, "action", sample("action-execution-failed.json"))
    execution = notification(graph, "pipeline", sample("pipeline-execution-failed.json"))
    assert action["metadata"]["threadId"] == execution["metadata"]["threadId"]
    assert action["metadata"]["threadId"] == "app-pipeline-dev-12345678-abcd-4ef0-9876-0123456789ab"


# --- The whole stack, Slack on ----------------------------------------------------------------------

SLACK_ON = {"slackWorkspaceId": WORKSPACE, "slackChannelId": CHANNEL}


@pytest.fixture(scope="module")
def platform() -> StackGraph:
    """Pulumi.platform.yaml's three services' pipelines, with Slack on."""
    return evaluate_once("platform", SLACK_ON)


def test_the_stack_without_slack_keys_has_no_channel() -> None:
    graph = evaluate_once("dev")
    assert graph.of_type(CHATBOT) == []
    assert graph.of_type("cicd:chatbot:SlackAlerts") == []
    assert [name for name in graph.exports if name.startswith("slack")] == []


def test_every_services_rules_reach_slack(platform: StackGraph) -> None:
    rules = platform.of_type(RULE)
    assert len(rules) == 6  # three pipelines, an execution rule and an action rule each
    slack_topic = platform.one("aws:sns/topic:Topic", "-slack").outputs["arn"]
    by_rule = {t.inputs["rule"]: t for t in platform.of_type(TARGET) if t.inputs["arn"] == slack_topic}
    assert sorted(by_rule) == sorted(r.outputs["name"] for r in rules)
    (slack_policy,) = [p for p in platform.of_type("aws:sns/topicPolicy:TopicPolicy") if p.inputs["arn"] == slack_topic]
    sources = policy(slack_policy.inputs["policy"])["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sorted(sources) == sorted(r.outputs["arn"] for r in rules)


def test_the_stack_exports_the_channel_and_caps_its_role(platform: StackGraph) -> None:
    configuration, role = platform.one(CHATBOT), platform.one("aws:iam/role:Role", "-slack-role")
    boundary = platform.one("aws:iam/policy:Policy", "-boundary")
    assert platform.exports["slackChannelConfigurationArn"] == configuration.outputs["chatConfigurationArn"]
    assert platform.exports["slackTopicArn"] == platform.one("aws:sns/topic:Topic", "-slack").outputs["arn"]
    assert platform.exports["slackRoleArn"] == role.outputs["arn"]
    assert role.inputs["permissionsBoundary"] == boundary.outputs["arn"]
    assert role.depends_on("permissionsBoundary", boundary)
    granted = statements_by_sid(policy(boundary.inputs["policy"]))["ChatbotNotificationsOnly"]
    assert sorted(granted["Action"]) == sorted(NOTIFICATION_PERMISSIONS)


def test_the_boundary_allows_chatbots_reads_only_with_slack_on() -> None:
    boundary = evaluate_once("platform").one("aws:iam/policy:Policy", "-boundary")
    assert "ChatbotNotificationsOnly" not in statements_by_sid(policy(boundary.inputs["policy"]))
