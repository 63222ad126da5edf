"""Alerts: an encrypted SNS topic with e-mail subscribers, fed by EventBridge rules on CodePipeline's events.

What alerts, and what each alert says, is decided here once for every channel: the e-mail topic
(`FailureAlerts`) and the Slack channel (pipeline/chatbot.py) deliver the same rules, each through a
target of its own whose input transformer writes that channel's format from the same input paths.

Two kinds of event alert, per pipeline (https://docs.aws.amazon.com/codepipeline/latest/userguide/detect-state-changes-cloudwatch-events.html):

- the execution's state change (`CodePipeline Pipeline Execution State Change`), in the configured
  `alertStates`, as always: the run's verdict, with a link to the execution;
- the state change of the action that ended it (`CodePipeline Action Execution State Change`), naming
  stage and action and linking the action's own log (`detail.execution-result.external-execution-url`,
  for a CodeBuild action its build's page).

Action events have states of their own (ABANDONED, CANCELED, FAILED, STARTED, SUCCEEDED), so
`alertStates` is mapped to them (ACTION_STATES_ALERTING_WITH): an action state alerts when it is how an
action ends in a run whose configured execution state alerts.

- FAILED -> FAILED: the failed action is why the execution failed.
- STOPPING, STOPPED -> ABANDONED: "Stop and abandon ... After the execution is stopped, the action
  execution is in an Abandoned state while the pipeline execution is in a Stopped state"
  (https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-stop.html; "Abandoned: The action
  is abandoned due to a request to stop and abandon the pipeline execution",
  https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-view-console.html). A stop that
  waits lets the action finish: it alerts only if it fails, as FAILED.
- CANCELED -> CANCELED, the action's state of the same name ("Cancelled: The pipeline's definition was
  updated before the pipeline execution could be completed",
  https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PipelineExecution.html).
- SUPERSEDED, STARTED, RESUMED, SUCCEEDED -> none: a superseded execution was waiting between stages, so
  no action was cut short, and an alert per started or succeeded action would only repeat the
  execution's.

So one failed run alerts twice: once for the failed action, then once for the failed execution (each
stage holds one action, and a failed action ends the run). EventBridge cannot join two events into one
message without code of ours (a function), and neither alert can go: the execution alert is the one
alertStates has always promised (subscribers filter on it), and only the action alert says what failed
and where its log is. Slack threads the two (pipeline/chatbot.py).

EventBridge lives in pulumi_aws.cloudwatch (EventRule, EventTarget); there is no
pulumi_aws.events module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import pulumi
import pulumi_aws as aws

from pipeline.shared import StackNames

PIPELINE_STATE_CHANGE = "CodePipeline Pipeline Execution State Change"
ACTION_STATE_CHANGE = "CodePipeline Action Execution State Change"

# An alert rule watches one kind of event: a pipeline execution's, or one of its actions'.
AlertKind = Literal["execution", "action"]
DETAIL_TYPES: Mapping[AlertKind, str] = MappingProxyType(
    {"execution": PIPELINE_STATE_CHANGE, "action": ACTION_STATE_CHANGE}
)

# CodePipeline's action execution states, in its events (module docstring).
ACTION_STATES: tuple[str, ...] = ("ABANDONED", "CANCELED", "FAILED", "STARTED", "SUCCEEDED")
# Pipeline execution state in alertStates -> the action states that alert with it (module docstring).
ACTION_STATES_ALERTING_WITH: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "CANCELED": ("CANCELED",),
        "FAILED": ("FAILED",),
        "RESUMED": (),
        "STARTED": (),
        "STOPPED": ("ABANDONED",),
        "STOPPING": ("ABANDONED",),
        "SUCCEEDED": (),
        "SUPERSEDED": (),
    }
)


def action_alert_states(execution_states: Sequence[str]) -> tuple[str, ...]:
    """The action states that alert along with these execution states, in CodePipeline's order."""
    unknown = sorted(set(execution_states) - set(ACTION_STATES_ALERTING_WITH))
    if unknown:
        raise ValueError(f"{unknown}: CodePipeline's execution states are {', '.join(ACTION_STATES_ALERTING_WITH)}")
    wanted = {state for each in execution_states for state in ACTION_STATES_ALERTING_WITH[each]}
    return tuple(state for state in ACTION_STATES if state in wanted)


# EventBridge input transformers (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html):
# each <name> of a template is replaced by the value at its path. One table for every template of every
# channel; a target gets the paths its template uses (`input_paths`). EventBridge does not escape the
# values, so templates use only values that need no escaping in a JSON string: names, states, ids, ARNs,
# URLs and times, never the free-text summary of an action.
INPUT_PATHS: Mapping[str, str] = MappingProxyType(
    {
        "id": "$.id",
        "pipeline": "$.detail.pipeline",
        "pipelineArn": "$.resources[0]",
        "state": "$.detail.state",
        "execution": "$.detail.execution-id",
        "region": "$.region",
        "time": "$.time",
        "stage": "$.detail.stage",
        "action": "$.detail.action",
        "log": "$.detail.execution-result.external-execution-url",
    }
)
_PLACEHOLDER = re.compile(r"<([A-Za-z]+)>")
# Which of INPUT_PATHS each kind of event carries: an execution event has no stage, action or log.
KIND_PLACEHOLDERS: Mapping[AlertKind, frozenset[str]] = MappingProxyType(
    {
        "execution": frozenset({"id", "pipeline", "pipelineArn", "state", "execution", "region", "time"}),
        "action": frozenset(INPUT_PATHS),
    }
)


def input_paths(template: str, kind: AlertKind) -> dict[str, str]:
    """The input paths `template` uses, for an event of `kind`; a placeholder it cannot fill is refused."""
    used = set(_PLACEHOLDER.findall(template))
    unknown = sorted(used - KIND_PLACEHOLDERS[kind])
    if unknown:
        raise ValueError(f"the {kind} template uses {unknown}, which {kind} events do not carry")
    return {name: path for name, path in INPUT_PATHS.items() if name in used}


# The execution's page in the CodePipeline console, every channel's link to the run.
EXECUTION_CONSOLE_URL = (
    "https://<region>.console.aws.amazon.com/codesuite/codepipeline/pipelines/<pipeline>"
    "/executions/<execution>/timeline?region=<region>"
)
# The e-mail: plain text. SNS targets take the template as a JSON string, hence the surrounding quotes.
# The execution alert is today's, word for word, so mail filters written for it keep working.
EMAIL_TEMPLATES: Mapping[AlertKind, str] = MappingProxyType(
    {
        "execution": '"CodePipeline <pipeline> entered state <state> at <time> (execution <execution>). '
        f'Details: {EXECUTION_CONSOLE_URL}"',
        "action": '"CodePipeline <pipeline>: action <action> in stage <stage> entered state <state> at <time> '
        f'(execution <execution>). Log: <log> Details: {EXECUTION_CONSOLE_URL}"',
    }
)


def alert_event_pattern(kind: AlertKind, pipeline_name: pulumi.Input[str], states: Sequence[str]) -> pulumi.Output[str]:
    """Match this pipeline's state changes of one kind (execution or action) in the given states, nothing else."""
    return pulumi.Output.json_dumps(
        {
            "source": ["aws.codepipeline"],
            "detail-type": [DETAIL_TYPES[kind]],
            "detail": {"pipeline": [pipeline_name], "state": list(states)},
        }
    )


def topic_policy(
    topic_arn: pulumi.Input[str], rule_arns: Sequence[pulumi.Input[str]], *, sid: str = "AllowFailureRuleToPublish"
) -> pulumi.Output[str]:
    """Let only these rules, through EventBridge, publish; refuse publishing without TLS.

    A topic has one policy (SetTopicAttributes `Policy` replaces it whole), so it lists every rule that
    may publish: one policy per rule would leave only the last one written in force. The EventBridge
    statement is the one AWS documents for SNS targets, narrowed to the rules by aws:SourceArn:
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions
    A condition key given a list of values matches any of them (OR):
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
    """
    if not rule_arns:
        raise ValueError("a topic policy names at least one rule")
    # One rule stays a string, as the policy of a stack with one rule always had it.
    sources: pulumi.Input[str] | list[pulumi.Input[str]] = rule_arns[0] if len(rule_arns) == 1 else list(rule_arns)
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": sources}},
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    )


@dataclass(frozen=True)
class AlertTopicArgs:
    """Whose topic it is, the key it is encrypted with, and who is subscribed by e-mail."""

    names: StackNames
    key_arn: pulumi.Input[str]
    emails: tuple[str, ...] = ()


class AlertTopic(pulumi.ComponentResource):
    """The SNS topic people subscribe to, encrypted with the pipeline's customer-managed key."""

    topic: aws.sns.Topic

    def __init__(self, name: str, args: AlertTopicArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("cicd:notifications:AlertTopic", name, None, opts)
        self.topic = aws.sns.Topic(
            name,
            display_name=args.names.label,
            kms_master_key_id=args.key_arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        for index, email in enumerate(args.emails):
            aws.sns.TopicSubscription(
                f"{name}-email-{index}",
                topic=self.topic.arn,
                protocol="email",
                endpoint=email,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.arn = self.topic.arn
        self.register_outputs({"arn": self.topic.arn})


@dataclass(frozen=True)
class WatchedPipeline:
    """One pipeline the alert rules watch: its names, and its name output (so the rules wait for it)."""

    names: StackNames
    pipeline_name: pulumi.Input[str]

    def rule_name(self, kind: AlertKind = "execution") -> str:
        """The rule's logical name: `cicd-dev-api-pipeline-failed` for the execution's state changes,
        `cicd-dev-api-action-failed` for its actions' (`cicd-dev-...` without a service)."""
        return f"{self.names.service_prefix}-{'pipeline' if kind == 'execution' else 'action'}-failed"


@dataclass(frozen=True)
class AlertRule:
    """One registered alert rule, as a channel delivering it (e-mail, Slack) needs it."""

    kind: AlertKind
    # The rule's logical name; a channel names its target `<logical name>-to-<channel>`.
    logical_name: str
    # The rule's outputs, so a target waits for its rule and a topic policy names it.
    name: pulumi.Input[str]
    arn: pulumi.Input[str]


@dataclass(frozen=True)
class FailureAlertArgs:
    """Which pipelines to watch, in which execution states, and where to tell."""

    names: StackNames
    pipelines: tuple[WatchedPipeline, ...]
    topic_arn: pulumi.Input[str]
    # CodePipeline execution states that alert; the action states follow (ACTION_STATES_ALERTING_WITH).
    states: tuple[str, ...] = ("FAILED",)

    @property
    def action_states(self) -> tuple[str, ...]:
        return action_alert_states(self.states)


class FailureAlerts(pulumi.ComponentResource):
    """Per pipeline an execution rule and an action rule with their e-mail targets, and the topic's one policy.

    Per pipeline: a rule on its execution's state changes in the alerting states, and (where those
    states map to action states) a rule on its actions' state changes, each naming the pipeline through
    its name output, each with a target delivering it to the topic. Per stack: the topic policy listing
    every rule (`topic_policy`), which every target waits for, so the first alert of any rule is accepted.
    `alert_rules` hands every rule to another channel (pipeline/chatbot.py).

    The type token stays `cicd:notifications:FailureAlert`, and the execution rule, its target and the
    policy of a stack without services keep the logical names they had when this component watched one
    pipeline: a URN holds its parent's type token, so those resources of a deployed stack keep their URNs
    and update in place (tests/test_urns.py); the action rules and their targets are new.
    """

    # `action_rules` (a rule or None per pipeline) has no annotation here: Pulumi evaluates a component's
    # class annotations, and `X | None` fails where a test has swapped X for a function (tests/test_graph.py).
    rules: list[aws.cloudwatch.EventRule]
    targets: list[aws.cloudwatch.EventTarget]
    policy: aws.sns.TopicPolicy
    alert_rules: list[AlertRule]

    def __init__(self, name: str, args: FailureAlertArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("cicd:notifications:FailureAlert", name, None, opts)
        if not args.pipelines:
            raise ValueError("failure alerts watch at least one pipeline")
        child = pulumi.ResourceOptions(parent=self)
        topic_arn, action_states = args.topic_arn, args.action_states

        def rule(watched: WatchedPipeline, kind: AlertKind, states: tuple[str, ...]) -> aws.cloudwatch.EventRule:
            return aws.cloudwatch.EventRule(
                watched.rule_name(kind),
                description=f"{watched.names.label}: pipeline {kind} " + ", ".join(states),
                event_pattern=alert_event_pattern(kind, watched.pipeline_name, states),
                opts=child,
            )

        self.rules = [rule(watched, "execution", args.states) for watched in args.pipelines]
        self.action_rules = [
            rule(watched, "action", action_states) if action_states else None for watched in args.pipelines
        ]
        self.alert_rules = []
        for watched, execution, action in zip(args.pipelines, self.rules, self.action_rules, strict=True):
            self.alert_rules.append(
                AlertRule("execution", watched.rule_name("execution"), execution.name, execution.arn)
            )
            if action is not None:
                self.alert_rules.append(AlertRule("action", watched.rule_name("action"), action.name, action.arn))
        self.policy = aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=topic_arn,
            policy=topic_policy(topic_arn, [each.arn for each in self.alert_rules]),
            opts=child,
        )
        self.targets = [
            alert_target(
                f"{each.logical_name}-to-topic",
                each,
                topic_arn,
                EMAIL_TEMPLATES[each.kind],
                # Without the topic policy naming its rule, the first alerts would be refused.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy]),
            )
            for each in self.alert_rules
        ]
        self.rule_arns = [each.arn for each in self.rules]
        self.action_rule_arns = [None if each is None else each.arn for each in self.action_rules]
        self.register_outputs(
            {
                "ruleArns": [each.arn for each in self.alert_rules],
                "ruleNames": [each.name for each in self.alert_rules],
            }
        )


def alert_target(
    name: str, rule: AlertRule, topic_arn: pulumi.Input[str], template: str, opts: pulumi.ResourceOptions
) -> aws.cloudwatch.EventTarget:
    """Deliver `rule`'s events to a topic, written by `template` (one of a channel's templates for the rule's kind)."""
    return aws.cloudwatch.EventTarget(
        name,
        # The rule's output, never its name re-typed: the Go version's string made the target race the
        # rule ("Rule ... does not exist on EventBus default").
        rule=rule.name,
        arn=topic_arn,
        input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
            input_paths=input_paths(template, rule.kind), input_template=template
        ),
        opts=opts,
    )
