"""Alerts: an encrypted SNS topic with e-mail subscribers, fed by an EventBridge rule.

EventBridge lives in pulumi_aws.cloudwatch (EventRule, EventTarget); there is no
pulumi_aws.events module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from pipeline.shared import StackNames

PIPELINE_STATE_CHANGE = "CodePipeline Pipeline Execution State Change"

# EventBridge input transformer: the message subscribers read. SNS targets take the
# template as a JSON string, hence the surrounding quotes.
ALERT_INPUT_PATHS = {
    "pipeline": "$.detail.pipeline",
    "state": "$.detail.state",
    "execution": "$.detail.execution-id",
    "region": "$.region",
    "time": "$.time",
}
ALERT_TEMPLATE = (
    '"CodePipeline <pipeline> entered state <state> at <time> (execution <execution>). '
    "Details: https://<region>.console.aws.amazon.com/codesuite/codepipeline/pipelines/<pipeline>"
    '/executions/<execution>/timeline?region=<region>"'
)


def failure_event_pattern(pipeline_name: pulumi.Input[str], states: tuple[str, ...]) -> pulumi.Output[str]:
    """Match this pipeline's execution state changes in the alerting states, nothing else."""
    return pulumi.Output.json_dumps(
        {
            "source": ["aws.codepipeline"],
            "detail-type": [PIPELINE_STATE_CHANGE],
            "detail": {"pipeline": [pipeline_name], "state": list(states)},
        }
    )


def topic_policy(topic_arn: pulumi.Input[str], rule_arns: Sequence[pulumi.Input[str]]) -> pulumi.Output[str]:
    """Let only these rules, through EventBridge, publish; refuse publishing without TLS.

    A topic has one policy (SetTopicAttributes `Policy` replaces it whole), so it lists every rule that
    may publish: one policy per rule would leave only the last one written in force. The EventBridge
    statement is the one AWS documents for SNS targets, narrowed to the rules by aws:SourceArn:
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions
    A condition key given a list of values matches any of them (OR):
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
    """
    # One rule stays a string, as the policy of a stack with one pipeline always had it: such a stack's
    # update leaves the policy as it is.
    sources: pulumi.Input[str] | list[pulumi.Input[str]] = rule_arns[0] if len(rule_arns) == 1 else list(rule_arns)
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowFailureRuleToPublish",
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
    """One pipeline a failure rule watches: its names, and its name output (so the rule waits for it)."""

    names: StackNames
    pipeline_name: pulumi.Input[str]

    @property
    def rule_name(self) -> str:
        """The rule's logical name, `cicd-dev-api-pipeline-failed` (`cicd-dev-pipeline-failed` without a service)."""
        return f"{self.names.service_prefix}-pipeline-failed"


@dataclass(frozen=True)
class FailureAlertArgs:
    """Which pipelines to watch, in which states, and where to tell."""

    names: StackNames
    pipelines: tuple[WatchedPipeline, ...]
    topic_arn: pulumi.Input[str]
    # CodePipeline execution states that alert.
    states: tuple[str, ...] = ("FAILED",)


class FailureAlerts(pulumi.ComponentResource):
    """One EventBridge rule per pipeline on its state changes, the topic's one policy, and a target per rule.

    Per pipeline: a rule whose pattern names that pipeline through its name output, and a target
    delivering it to the topic. Per stack: the topic policy listing every rule (`topic_policy`), which
    every target waits for, so the first alert of any pipeline is accepted.

    The type token stays `cicd:notifications:FailureAlert`, and the rule, target and policy of a stack
    without services keep the logical names they had when this component watched one pipeline: a URN
    holds its parent's type token, so the resources of a deployed stack keep their URNs and update in
    place (tests/test_urns.py).
    """

    rules: list[aws.cloudwatch.EventRule]
    targets: list[aws.cloudwatch.EventTarget]
    policy: aws.sns.TopicPolicy

    def __init__(self, name: str, args: FailureAlertArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("cicd:notifications:FailureAlert", name, None, opts)
        if not args.pipelines:
            raise ValueError("failure alerts watch at least one pipeline")
        child = pulumi.ResourceOptions(parent=self)
        topic_arn = args.topic_arn
        self.rules = [
            aws.cloudwatch.EventRule(
                watched.rule_name,
                description=f"{watched.names.label}: pipeline execution " + ", ".join(args.states),
                event_pattern=failure_event_pattern(watched.pipeline_name, args.states),
                opts=child,
            )
            for watched in args.pipelines
        ]
        self.policy = aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=topic_arn,
            policy=topic_policy(topic_arn, [rule.arn for rule in self.rules]),
            opts=child,
        )
        self.targets = [
            aws.cloudwatch.EventTarget(
                f"{watched.rule_name}-to-topic",
                # The rule's output, never its name re-typed: the Go version's string made the
                # target race the rule ("Rule ... does not exist on EventBus default").
                rule=rule.name,
                arn=topic_arn,
                input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                    input_paths=ALERT_INPUT_PATHS, input_template=ALERT_TEMPLATE
                ),
                # Without the topic policy naming its rule, the first alerts would be refused.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy]),
            )
            for watched, rule in zip(args.pipelines, self.rules, strict=True)
        ]
        self.rule_arns = [rule.arn for rule in self.rules]
        self.register_outputs({"ruleArns": self.rule_arns, "ruleNames": [rule.name for rule in self.rules]})
