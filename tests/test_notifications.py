"""AlertTopic and FailureAlert, evaluated alone, and the rule checked against CodePipeline's real events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern
from moto.events.utils import EventTemplateParser

from harness.capture import StackGraph
from harness.samples import SAMPLE_EVENTS, SAMPLE_PIPELINE
from pipeline.notifications import AlertTopic, FailureAlert
from pipeline.provider import AwsAccount
from pipeline.settings import Settings
from tests.support import KEY_ARN, evaluate_component, policy, program, statements_by_sid


def alerts(settings: Settings, account: AwsAccount) -> None:
    topic = AlertTopic("alerts", program().alert_topic_args(settings, KEY_ARN), opts=account.component_options())
    FailureAlert(
        "failed",
        program().failure_alert_args(settings, pipeline_name=SAMPLE_PIPELINE, topic_arn=topic.arn),
        opts=account.component_options(),
    )


@pytest.fixture(scope="module")
def graph() -> StackGraph:
    return evaluate_component(alerts, stack="prod")


def sample(name: str) -> Any:
    return json.loads((SAMPLE_EVENTS / name).read_text())


def test_topic_is_encrypted_with_the_customer_managed_key(graph: StackGraph) -> None:
    assert graph.one("aws:sns/topic:Topic").inputs["kmsMasterKeyId"] == KEY_ARN


def test_each_configured_address_is_subscribed_by_email(graph: StackGraph) -> None:
    topic = graph.one("aws:sns/topic:Topic").outputs["arn"]
    subscriptions = graph.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted((s.inputs["protocol"], s.inputs["endpoint"], s.inputs["topic"]) for s in subscriptions) == [
        ("email", "oncall@example.com", topic),
        ("email", "platform-team@example.com", topic),
    ]


def test_topic_policy_lets_only_this_rule_publish_through_eventbridge(graph: StackGraph) -> None:
    topic, rule = (
        graph.one("aws:sns/topic:Topic").outputs["arn"],
        graph.one("aws:cloudwatch/eventRule:EventRule").outputs["arn"],
    )
    statement = statements_by_sid(policy(graph.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"]))[
        "AllowFailureRuleToPublish"
    ]
    assert statement == {
        "Sid": "AllowFailureRuleToPublish",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule}},
    }


def test_target_waits_for_the_topic_policy(graph: StackGraph) -> None:
    target = graph.one("aws:cloudwatch/eventTarget:EventTarget")
    assert graph.one("aws:sns/topicPolicy:TopicPolicy").urn in target.dependencies


def event_pattern(graph: StackGraph) -> EventPattern:
    return EventPattern.load(graph.one("aws:cloudwatch/eventRule:EventRule").inputs["eventPattern"])


@pytest.mark.parametrize(
    ("sample_file", "fires"),
    [
        ("pipeline-execution-failed.json", True),
        ("pipeline-execution-succeeded.json", False),
        ("pipeline-execution-started.json", False),
        ("pipeline-execution-superseded.json", False),
        ("other-pipeline-execution-failed.json", False),
        ("stage-execution-failed.json", False),
        ("action-execution-failed.json", False),
    ],
)
def test_rule_matches_only_this_pipelines_alerting_states(graph: StackGraph, sample_file: str, fires: bool) -> None:
    assert event_pattern(graph).matches_event(sample(sample_file)) is fires


def test_stopped_alerts_only_where_configured(graph: StackGraph) -> None:
    stopped = sample("pipeline-execution-failed.json")
    stopped["detail"]["state"] = "STOPPED"
    assert event_pattern(graph).matches_event(stopped)  # Pulumi.prod.yaml alerts on FAILED and STOPPED
    assert not event_pattern(evaluate_component(alerts, stack="dev")).matches_event(stopped)


def test_message_names_pipeline_state_execution_and_console_link(graph: StackGraph) -> None:
    transformer = graph.one("aws:cloudwatch/eventTarget:EventTarget").inputs["inputTransformer"]
    event = sample("pipeline-execution-failed.json")
    event["ingestion-time"] = 0
    message: Any = EventTemplateParser.parse(transformer["inputTemplate"], transformer["inputPaths"], event)
    assert message == (
        "CodePipeline app-pipeline-dev entered state FAILED at 2026-11-20T10:15:30Z "
        "(execution 12345678-abcd-4ef0-9876-0123456789ab). Details: "
        "https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/app-pipeline-dev"
        "/executions/12345678-abcd-4ef0-9876-0123456789ab/timeline?region=us-east-1"
    )
