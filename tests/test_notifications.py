"""AlertTopic and FailureAlerts, evaluated alone, and the rules checked against CodePipeline's real events.

Each pipeline has two rules: its execution's state changes in `alertStates`, and its actions' in the
action states those map to (pipeline/notifications.py). The sample events (tests/fixtures/events) go
through moto's EventPattern matcher and EventTemplateParser, as EventBridge would match and render them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern
from moto.events.utils import EventTemplateParser

from harness.capture import RegisteredResource, StackGraph
from harness.samples import SAMPLE_EVENTS, SAMPLE_PIPELINE
from pipeline.notifications import (
    ACTION_STATES,
    ACTION_STATES_ALERTING_WITH,
    INPUT_PATHS,
    AlertTopic,
    FailureAlerts,
    WatchedPipeline,
    action_alert_states,
    input_paths,
)
from pipeline.provider import AwsAccount
from pipeline.settings import PIPELINE_STATES, Settings
from tests.support import KEY_ARN, evaluate_component, policy, program, statements_by_sid

# The pipeline of the "other pipeline" sample event: a second service's pipeline in the stack.
OTHER_PIPELINE = "some-other-pipeline"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
# What CodePipeline emits, in order, for one run whose Build action fails (the shared sample events).
FAILED_RUN = (
    "pipeline-execution-started.json",
    "action-execution-failed.json",
    "stage-execution-failed.json",
    "pipeline-execution-failed.json",
)


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
    """prod: alertStates FAILED and STOPPED (Pulumi.prod.yaml), so actions alert when FAILED or ABANDONED."""
    return evaluate_component(alerts, stack="prod")


@pytest.fixture(scope="module")
def dev() -> StackGraph:
    """dev: alertStates FAILED only."""
    return evaluate_component(alerts, stack="dev")


@pytest.fixture(scope="module")
def two_pipelines() -> StackGraph:
    """Two services' pipelines alerting through one topic."""
    return evaluate_component(alerts_for(("api", SAMPLE_PIPELINE), ("worker", OTHER_PIPELINE)), stack="prod")


def sample(name: str, **detail: Any) -> Any:
    event = json.loads((SAMPLE_EVENTS / name).read_text())
    event["detail"].update(detail)
    event["ingestion-time"] = 0  # EventBridge stamps each event; moto's renderer reads the stamp
    return event


def rule(graph: StackGraph, kind: str = "pipeline", service: str = "") -> RegisteredResource:
    """The execution rule (`pipeline-failed`) or the action rule (`action-failed`) of the service's pipeline."""
    return graph.one(RULE, f"{'-' + service if service else ''}-{kind}-failed")


def target(graph: StackGraph, kind: str = "pipeline") -> RegisteredResource:
    return graph.one(TARGET, f"-{kind}-failed-to-topic")


def pattern(resource: RegisteredResource) -> EventPattern:
    return EventPattern.load(resource.inputs["eventPattern"])


def rendered(target: RegisteredResource, event: Any) -> Any:
    """The message the target hands the topic for `event`, as moto's input transformer renders it."""
    transformer = target.inputs["inputTransformer"]
    return EventTemplateParser.parse(transformer["inputTemplate"], transformer["inputPaths"], event)


def emails_for(graph: StackGraph, events: list[Any]) -> list[Any]:
    """Every message the topic gets for `events`: each rule that matches an event renders it through its target."""
    targets = {t.inputs["rule"]: t for t in graph.of_type(TARGET)}
    return [
        rendered(targets[each.outputs["name"]], event)
        for event in events
        for each in graph.of_type(RULE)
        if pattern(each).matches_event(event)
    ]


# --- The topic --------------------------------------------------------------------------------------


def test_topic_is_encrypted_with_the_customer_managed_key(graph: StackGraph) -> None:
    assert graph.one("aws:sns/topic:Topic").inputs["kmsMasterKeyId"] == KEY_ARN


def test_each_configured_address_is_subscribed_by_email(graph: StackGraph) -> None:
    topic = graph.one("aws:sns/topic:Topic").outputs["arn"]
    subscriptions = graph.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted((s.inputs["protocol"], s.inputs["endpoint"], s.inputs["topic"]) for s in subscriptions) == [
        ("email", "oncall@example.com", topic),
        ("email", "platform-team@example.com", topic),
    ]


def test_topic_policy_lets_only_the_pipelines_rules_publish_through_eventbridge(graph: StackGraph) -> None:
    topic = graph.one("aws:sns/topic:Topic").outputs["arn"]
    statement = statements_by_sid(policy(graph.one(TOPIC_POLICY).inputs["policy"]))["AllowFailureRuleToPublish"]
    assert statement == {
        "Sid": "AllowFailureRuleToPublish",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic,
        "Condition": {
            "ArnEquals": {"aws:SourceArn": [rule(graph).outputs["arn"], rule(graph, "action").outputs["arn"]]}
        },
    }


def test_every_target_waits_for_the_topic_policy(graph: StackGraph) -> None:
    targets = graph.of_type(TARGET)
    assert len(targets) == 2
    assert all(graph.one(TOPIC_POLICY).urn in each.dependencies for each in targets)


def test_one_topic_policy_lists_every_rule_that_may_publish(two_pipelines: StackGraph) -> None:
    """A topic has one policy: one per rule would leave only the last one written in force."""
    rules = two_pipelines.of_type(RULE)
    (topic_policy,) = two_pipelines.of_type(TOPIC_POLICY)
    statement = statements_by_sid(policy(topic_policy.inputs["policy"]))["AllowFailureRuleToPublish"]
    sources = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sorted(sources if isinstance(sources, list) else [sources]) == sorted(r.outputs["arn"] for r in rules)
    assert len(rules) == 4  # an execution rule and an action rule per pipeline
    assert all(topic_policy.depends_on("policy", rule) for rule in rules)


def test_every_target_waits_for_the_one_topic_policy(two_pipelines: StackGraph) -> None:
    (topic_policy,) = two_pipelines.of_type(TOPIC_POLICY)
    targets = two_pipelines.of_type(TARGET)
    assert len(targets) == 4
    assert [target.name for target in targets if topic_policy.urn not in target.dependencies] == []


def test_each_rule_is_named_for_its_service_and_delivered_by_its_own_target(two_pipelines: StackGraph) -> None:
    rules = {rule.name: rule for rule in two_pipelines.of_type(RULE)}
    assert sorted(rules) == [
        "cicd-prod-api-action-failed",
        "cicd-prod-api-pipeline-failed",
        "cicd-prod-worker-action-failed",
        "cicd-prod-worker-pipeline-failed",
    ]
    for target in two_pipelines.of_type(TARGET):
        rule = rules[target.name.removesuffix("-to-topic")]
        assert target.inputs["rule"] == rule.outputs["name"]
        assert target.depends_on("rule", rule)


@pytest.mark.parametrize("kind", ["pipeline", "action"])
@pytest.mark.parametrize(("service", "pipeline"), [("api", SAMPLE_PIPELINE), ("worker", OTHER_PIPELINE)])
def test_each_rule_fires_for_its_own_pipeline_only(
    two_pipelines: StackGraph, service: str, pipeline: str, kind: str
) -> None:
    watched = rule(two_pipelines, kind, service)
    sample_file = "pipeline-execution-failed.json" if kind == "pipeline" else "action-execution-failed.json"
    for other in (SAMPLE_PIPELINE, OTHER_PIPELINE):
        assert pattern(watched).matches_event(sample(sample_file, pipeline=other)) is (other == pipeline), other
    states = "execution FAILED, STOPPED" if kind == "pipeline" else "action ABANDONED, FAILED"
    assert watched.inputs["description"] == f"cicd-pipeline prod {service}: pipeline {states}"


# --- What alerts: the execution's states as configured, and the actions' states they map to ----------


@pytest.mark.parametrize(
    ("sample_file", "execution", "action"),
    [
        ("pipeline-execution-failed.json", True, False),
        ("pipeline-execution-succeeded.json", False, False),
        ("pipeline-execution-started.json", False, False),
        ("pipeline-execution-superseded.json", False, False),
        ("other-pipeline-execution-failed.json", False, False),
        ("stage-execution-failed.json", False, False),
        ("action-execution-failed.json", False, True),
    ],
)
def test_rules_match_only_this_pipelines_alerting_states(
    graph: StackGraph, sample_file: str, execution: bool, action: bool
) -> None:
    assert pattern(rule(graph)).matches_event(sample(sample_file)) is execution
    assert pattern(rule(graph, "action")).matches_event(sample(sample_file)) is action


def test_stopped_alerts_only_where_configured(graph: StackGraph, dev: StackGraph) -> None:
    stopped = sample("pipeline-execution-failed.json", state="STOPPED")
    assert pattern(rule(graph)).matches_event(stopped)  # Pulumi.prod.yaml alerts on FAILED and STOPPED
    assert not pattern(rule(dev)).matches_event(stopped)


def test_an_abandoned_action_alerts_where_stopped_runs_do(graph: StackGraph, dev: StackGraph) -> None:
    """Stop and abandon leaves the action ABANDONED and the execution STOPPED (pipelines-stop.html)."""
    abandoned = sample("action-execution-failed.json", state="ABANDONED")
    assert pattern(rule(graph, "action")).matches_event(abandoned)
    assert not pattern(rule(dev, "action")).matches_event(abandoned)


@pytest.mark.parametrize("state", ["STARTED", "SUCCEEDED", "CANCELED"])
def test_an_action_that_did_not_fail_alerts_nowhere_by_default(graph: StackGraph, state: str) -> None:
    assert not pattern(rule(graph, "action")).matches_event(sample("action-execution-failed.json", state=state))


def test_the_mapping_covers_every_execution_state_and_names_only_action_states() -> None:
    assert set(ACTION_STATES_ALERTING_WITH) == set(PIPELINE_STATES)
    assert {state for mapped in ACTION_STATES_ALERTING_WITH.values() for state in mapped} <= set(ACTION_STATES)


@pytest.mark.parametrize(
    ("execution_states", "action_states"),
    [
        (("FAILED",), ("FAILED",)),
        (("FAILED", "STOPPED"), ("ABANDONED", "FAILED")),
        (("STOPPING", "STOPPED"), ("ABANDONED",)),
        (("CANCELED",), ("CANCELED",)),
        (("SUPERSEDED", "SUCCEEDED", "STARTED", "RESUMED"), ()),
        (tuple(PIPELINE_STATES), ("ABANDONED", "CANCELED", "FAILED")),
    ],
)
def test_alert_states_map_to_action_states(execution_states: tuple[str, ...], action_states: tuple[str, ...]) -> None:
    assert action_alert_states(execution_states) == action_states


def test_an_unknown_execution_state_is_refused() -> None:
    with pytest.raises(ValueError, match="CodePipeline's execution states are"):
        action_alert_states(("BROKEN",))


def test_without_an_action_state_there_is_no_action_rule() -> None:
    """alertStates [SUCCEEDED]: nothing failed, so no action alerts; the one rule stays a string in the policy."""
    graph = evaluate_component(alerts, {"alertStates": ["SUCCEEDED"]}, stack="dev")
    (only,) = graph.of_type(RULE)
    assert only.name == "cicd-dev-pipeline-failed"
    statement = statements_by_sid(policy(graph.one(TOPIC_POLICY).inputs["policy"]))["AllowFailureRuleToPublish"]
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == only.outputs["arn"]


# --- What each e-mail says, and how many one failed run sends -----------------------------------------


def test_execution_message_names_pipeline_state_execution_and_console_link(graph: StackGraph) -> None:
    message = rendered(target(graph), sample("pipeline-execution-failed.json"))
    assert message == (
        "CodePipeline app-pipeline-dev entered state FAILED at 2026-11-20T10:15:30Z "
        "(execution 12345678-abcd-4ef0-9876-0123456789ab). Details: "
        "https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/app-pipeline-dev"
        "/executions/12345678-abcd-4ef0-9876-0123456789ab/timeline?region=us-east-1"
    )


def test_action_message_names_pipeline_stage_action_and_links_its_log(graph: StackGraph) -> None:
    event = sample("action-execution-failed.json")
    message = rendered(target(graph, "action"), event)
    assert message == (
        "CodePipeline app-pipeline-dev: action Build in stage Build entered state FAILED at 2026-11-20T10:15:30Z "
        "(execution 12345678-abcd-4ef0-9876-0123456789ab). "
        f"Log: {event['detail']['execution-result']['external-execution-url']} Details: "
        "https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/app-pipeline-dev"
        "/executions/12345678-abcd-4ef0-9876-0123456789ab/timeline?region=us-east-1"
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_one_failed_run_sends_two_emails_the_actions_then_the_executions(
    graph: StackGraph, dev: StackGraph, stack: str
) -> None:
    """Every event of a run whose Build action fails, through every rule: the action's e-mail, then the run's."""
    messages = emails_for(graph if stack == "prod" else dev, [sample(name) for name in FAILED_RUN])
    assert len(messages) == 2
    assert messages[0].startswith("CodePipeline app-pipeline-dev: action Build in stage Build entered state FAILED")
    assert messages[1].startswith("CodePipeline app-pipeline-dev entered state FAILED")


def test_a_successful_run_sends_nothing(graph: StackGraph) -> None:
    run = [
        sample("pipeline-execution-started.json"),
        sample("action-execution-failed.json", state="SUCCEEDED"),
        sample("pipeline-execution-succeeded.json"),
    ]
    assert emails_for(graph, run) == []


def test_each_target_reads_only_the_paths_its_template_uses(graph: StackGraph) -> None:
    for each in graph.of_type(TARGET):
        transformer = each.inputs["inputTransformer"]
        used = {name for name in INPUT_PATHS if f"<{name}>" in transformer["inputTemplate"]}
        assert set(transformer["inputPaths"]) == used, each.name


def test_a_template_may_not_use_what_its_events_do_not_carry() -> None:
    """An execution event has no stage, action or log: its template could not fill them."""
    with pytest.raises(ValueError, match=r"the execution template uses \['log'\]"):
        input_paths('"see <log>"', "execution")
    assert input_paths('"<stage>/<action>: <log>"', "action") == {
        "stage": "$.detail.stage",
        "action": "$.detail.action",
        "log": "$.detail.execution-result.external-execution-url",
    }
