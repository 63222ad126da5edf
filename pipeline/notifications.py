"""Alerts: an encrypted SNS topic with e-mail subscribers, fed by an EventBridge rule.

EventBridge lives in pulumi_aws.cloudwatch (EventRule, EventTarget); there is no
pulumi_aws.events module.
"""

from __future__ import annotations

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


def topic_policy(topic_arn: pulumi.Input[str], rule_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """Let only this rule, through EventBridge, publish; refuse publishing without TLS.

    The EventBridge statement is the one AWS documents for SNS targets, narrowed to the
    rule by aws:SourceArn:
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions
    """
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
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
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
class FailureAlertArgs:
    """Which pipeline to watch (its name output, so the rule waits for it), in which states, and where to tell."""

    names: StackNames
    pipeline_name: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    # CodePipeline execution states that alert.
    states: tuple[str, ...] = ("FAILED",)


class FailureAlert(pulumi.ComponentResource):
    """An EventBridge rule on the pipeline's state changes, delivered to the topic."""

    rule: aws.cloudwatch.EventRule
    target: aws.cloudwatch.EventTarget

    def __init__(self, name: str, args: FailureAlertArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("cicd:notifications:FailureAlert", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        topic_arn = args.topic_arn
        self.rule = aws.cloudwatch.EventRule(
            name,
            description=f"{args.names.label}: pipeline execution " + ", ".join(args.states),
            event_pattern=failure_event_pattern(args.pipeline_name, args.states),
            opts=child,
        )
        policy = aws.sns.TopicPolicy(
            f"{name}-topic-policy", arn=topic_arn, policy=topic_policy(topic_arn, self.rule.arn), opts=child
        )
        self.target = aws.cloudwatch.EventTarget(
            f"{name}-to-topic",
            # The rule's output, never its name re-typed: the Go version's string made the
            # target race the rule ("Rule ... does not exist on EventBus default").
            rule=self.rule.name,
            arn=topic_arn,
            input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                input_paths=ALERT_INPUT_PATHS, input_template=ALERT_TEMPLATE
            ),
            # Without the topic policy the first alerts would be refused.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.arn = self.rule.arn
        self.register_outputs({"ruleArn": self.rule.arn, "ruleName": self.rule.name})
