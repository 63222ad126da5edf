"""AlertTopic and FailureAlerts, evaluated alone, and the rules checked against CodePipeline's real events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern
from moto.events.utils import EventTemplateParser

from harness.capture import StackGraph
from harness.samples import SAMPLE_EVENTS, SAMPLE_PIPELINE
from pipeline.notifications import AlertTopic, FailureAlerts, WatchedPipeline
from pipeline.provider import AwsAccount
from pipeline.settings import Settings
from tests.support import KEY_ARN, evaluate_component, policy, program, statements_by_sid

# The pipeline of the "other pipeline" sample event: a second service's pipeline in the stack.
OTHER_PIPELINE = "some-other-pipeline"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"


def alerts_for(*pipelines: tuple[str, str]) -> Any:
    """A component test program: the topic, and failure alerts for each (service, pipeline name)."""

    def alerts(settings: Settings, account: AwsAccount) -> None:
        topic = AlertTopic("alerts", program().alert_topic_args(settings, KEY_ARN), opts=account.component_options())
        names = program().stack_names(settings)
        watched = [WatchedPipeline(names.for_service(service), pipeline) for service, pipeline in pipelines]
        FailureAlerts(
            "failed",
            program().failure_alert_args(settings, pipelines=watched, topic_arn=topic.arn),
            opts=account.component_options(),
        )

    return alerts


alerts = alerts_for(("", SAMPLE_PIPELINE))


@pytest.fixture(scope="module")
def graph() -> StackGraph:
    return evaluate_component(alerts, stack="prod")


@pytest.fixture(scope="module")
def two_pipelines() -> StackGraph:
    """Two services' pipelines alerting through one topic."""
    return evaluate_component(alerts_for(("api", SAMPLE_PIPELINE), ("worker", OTHER_PIPELINE)), stack="prod")


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
    topic, rule = graph.one("aws:sns/topic:Topic").outputs["arn"], graph.one(RULE).outputs["arn"]
    statement = statements_by_sid(policy(graph.one(TOPIC_POLICY).inputs["policy"]))["AllowFailureRuleToPublish"]
    assert statement == {
        "Sid": "AllowFailureRuleToPublish",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule}},
    }


def test_target_waits_for_the_topic_policy(graph: StackGraph) -> None:
    target = graph.one(TARGET)
    assert graph.one(TOPIC_POLICY).urn in target.dependencies


def test_one_topic_policy_lists_every_rule_that_may_publish(two_pipelines: StackGraph) -> None:
    """A topic has one policy: one per rule would leave only the last one written in force."""
    rules = two_pipelines.of_type(RULE)
    (topic_policy,) = two_pipelines.of_type(TOPIC_POLICY)
    statement = statements_by_sid(policy(topic_policy.inputs["policy"]))["AllowFailureRuleToPublish"]
    sources = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sorted(sources if isinstance(sources, list) else [sources]) == sorted(r.outputs["arn"] for r in rules)
    assert len(rules) == 2
    assert all(topic_policy.depends_on("policy", rule) for rule in rules)


def test_every_target_waits_for_the_one_topic_policy(two_pipelines: StackGraph) -> None:
    (topic_policy,) = two_pipelines.of_type(TOPIC_POLICY)
    targets = two_pipelines.of_type(TARGET)
    assert len(targets) == 2
    assert [target.name for target in targets if topic_policy.urn not in target.dependencies] == []


def test_each_rule_is_named_for_its_service_and_delivered_by_its_own_target(two_pipelines: StackGraph) -> None:
    rules = {rule.name: rule for rule in two_pipelines.of_type(RULE)}
    assert sorted(rules) == ["cicd-prod-api-pipeline-failed", "cicd-prod-worker-pipeline-failed"]
    for target in two_pipelines.of_type(TARGET):
        rule = rules[target.name.removesuffix("-to-topic")]
        assert target.inputs["rule"] == rule.outputs["name"]
        assert target.depends_on("rule", rule)


@pytest.mark.parametrize(("service", "pipeline"), [("api", SAMPLE_PIPELINE), ("worker", OTHER_PIPELINE)])
def test_each_rule_fires_for_its_own_pipeline_only(two_pipelines: StackGraph, service: str, pipeline: str) -> None:
    rule = two_pipelines.one(RULE, f"-{service}-")
    for other in (SAMPLE_PIPELINE, OTHER_PIPELINE):
        event = sample("pipeline-execution-failed.json")
        event["detail"]["pipeline"] = other
        assert EventPattern.load(rule.inputs["eventPattern"]).matches_event(event) is (other == pipeline), other
    assert rule.inputs["description"] == f"cicd-pipeline prod {service}: pipeline execution FAILED, STOPPED"


def event_pattern(graph: StackGraph) -> EventPattern:
    return EventPattern.load(graph.one(RULE).inputs["eventPattern"])


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
    transformer = graph.one(TARGET).inputs["inputTransformer"]
    event = sample("pipeline-execution-failed.json")
    event["ingestion-time"] = 0
    message: Any = EventTemplateParser.parse(transformer["inputTemplate"], transformer["inputPaths"], event)
    assert message == (
        "CodePipeline app-pipeline-dev entered state FAILED at 2026-11-20T10:15:30Z "
        "(execution 12345678-abcd-4ef0-9876-0123456789ab). Details: "
        "https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/app-pipeline-dev"
        "/executions/12345678-abcd-4ef0-9876-0123456789ab/timeline?region=us-east-1"
    )
