"""Pipeline alerts in a Slack channel, through AWS Chatbot (now "Amazon Q Developer in chat applications").

What reaches the channel. Chatbot shows the events of the AWS services it supports, and otherwise only
its custom-notification format: `{"version": "1.0", "source": "custom", "content": {...}, ...}`
(https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html, "Event schema"). The e-mail
alert is a plain string, so Slack gets a topic of its own. It is fed by the e-mail's own rules
(pipeline/notifications.py: per pipeline, its execution's state changes in `alertStates`, and its
actions' in the action states those map to), each with a second target whose input transformer writes
that format from the same input paths: what alerts is decided once, for both channels. An action's
notification names stage and action and links the action's log
(`detail.execution-result.external-execution-url`). Both kinds carry `metadata.threadId`
`<pipeline>-<execution id>`, so a failed run's action failure and execution failure share one Slack
thread (where the channel's preferences allow threads, same page).

Where the configuration is created. The Chatbot API exists in us-east-2, us-west-2, eu-west-1 and
ap-southeast-1 only (https://docs.aws.amazon.com/chatbot/latest/APIReference/Welcome.html,
https://docs.aws.amazon.com/general/latest/gr/chatbot.html), and the configuration data "is stored in each of
the relevant available Regions". The configuration is therefore created through a provider
pinned to one of those (`api_region`, us-east-2 by default, the region of the Chatbot console), never the
stack's provider, whose region may have no Chatbot endpoint. The topic, rules and role stay in the
stack's region and account; the configuration names the topic by its ARN.

What its role may do. A configuration needs an IAM role Chatbot assumes, and channel guardrails: the
policies that cap what the role, and any user role a channel member picks, can do. "What your users can
do is the intersection of your guardrail policies and what is allowed by their roles", and without
guardrails "the AWS managed AdministratorAccess policy is applied by default"
(https://docs.aws.amazon.com/chatbot/latest/adminguide/understanding-permissions.html; the provider's
`guardrail_policy_arns`). For "a configuration that only delivers notifications" the same page names the
"Notification permissions" template: cloudwatch:Describe*, Get* and List* on * (the
AWS-Chatbot-NotificationsOnly-Policy of https://docs.aws.amazon.com/chatbot/latest/adminguide/chatbot-iam-policies.html).
The role gets exactly those, and so does the one guardrail, a customer-managed policy: no AWS managed
policy is as narrow (CloudWatchReadOnlyAccess also reads CloudWatch Logs, the build logs among them:
https://docs.aws.amazon.com/aws-managed-policy/latest/reference/CloudWatchReadOnlyAccess.html;
ReadOnlyAccess reads everything). The role trusts chatbot.amazonaws.com; no condition is added, since
Chatbot documents none it sends.

The encrypted topic. SNS "encrypts messages as soon as Amazon SNS receives them. The messages are stored in
encrypted form, and only decrypted when they are sent"
(https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html): a subscriber, Chatbot's
endpoint included, receives plaintext and needs no key grant. The publisher does:
EventBridge must be allowed kms:GenerateDataKey* and kms:Decrypt on the topic's customer-managed key
(https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services), which
the pipeline key's policy already grants (pipeline/encryption.py). So the Slack topic uses that key and
the key policy needs no Chatbot statement.

One step stays manual: the Slack workspace must be authorized once in the Chatbot console (us-east-2)
before a configuration can name it; the console then shows the workspace ID `workspace_id` takes.
Chatbot writes its own logs (`logging_level` ERROR) to a log group /aws/chatbot/<configuration name> it
creates in us-east-1, never expiring
(https://docs.aws.amazon.com/cdk/api/v2/python/aws_cdk.aws_chatbot/README.html, "Log Group").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pulumi
import pulumi_aws as aws

from pipeline.iam import Statement, policy_document, statement
from pipeline.notifications import EXECUTION_CONSOLE_URL, AlertKind, AlertRule, alert_target, topic_policy
from pipeline.shared import StackNames

# https://docs.aws.amazon.com/chatbot/latest/APIReference/Welcome.html: the only regions with the API.
CHATBOT_API_REGIONS: tuple[str, ...] = ("us-east-2", "us-west-2", "eu-west-1", "ap-southeast-1")
# The region of the Chatbot console ("can only be used in US East (Ohio)", same page).
DEFAULT_CHATBOT_REGION = "us-east-2"

# The API model's patterns (botocore chatbot 2017-10-11: SlackTeamId, SlackChannelId, ConfigurationName);
# tests/test_chatbot.py checks them against it.
SLACK_TEAM_ID_PATTERN = "[0-9A-Z]{1,255}"
SLACK_CHANNEL_ID_PATTERN = "[A-Za-z0-9]+"
SLACK_CHANNEL_ID_MAX = 255
CONFIGURATION_NAME_PATTERN = "[A-Za-z0-9-_]+"
CONFIGURATION_NAME_MAX = 128

CHATBOT_PRINCIPAL = "chatbot.amazonaws.com"
# The "Notification permissions" channel-role template (module docstring).
NOTIFICATION_PERMISSIONS: tuple[str, ...] = ("cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*")
# ERROR, INFO or NONE (CustomerCwLogLevel): failed deliveries are what someone would look for.
LOGGING_LEVEL = "ERROR"

# The logical names of the component's role and guardrail, after the component's own name: the GitHub
# deploy role's grants name exactly these (pipeline/github_grants.py).
ROLE_SUFFIX = "-role"
GUARDRAIL_SUFFIX = "-guardrail"


def slack_alerts_name(names: StackNames) -> str:
    """`<prefix>-slack`, e.g. cicd-prod-slack: the component's name and the configuration's name in Chatbot."""
    return f"{names.prefix}-slack"[:CONFIGURATION_NAME_MAX]


CUSTOM_NOTIFICATION_VERSION = "1.0"
CUSTOM_NOTIFICATION_SOURCE = "custom"
TEXT_TYPE = "client-markdown"


def _notification(title: str, description: str, next_steps: list[str], keywords: list[str], event: str) -> str:
    """A custom notification template (https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html).

    Placeholders sit inside JSON strings only (a placeholder may not be an object key), filled from
    pipeline/notifications.py's input paths.
    """
    return json.dumps(
        {
            "version": CUSTOM_NOTIFICATION_VERSION,
            "source": CUSTOM_NOTIFICATION_SOURCE,
            "id": "<id>",
            "content": {
                "textType": TEXT_TYPE,
                "title": title,
                "description": description,
                "nextSteps": next_steps,
                "keywords": keywords,
            },
            "metadata": {
                # One thread per run: its action alert and its execution alert.
                "threadId": "<pipeline>-<execution>",
                "summary": title,
                "eventType": event,
                "relatedResources": ["<pipelineArn>"],
            },
        }
    )


# Slack's templates, one per kind of alert rule, as the e-mail has its own (notifications.EMAIL_TEMPLATES).
CHATBOT_TEMPLATES: Mapping[AlertKind, str] = MappingProxyType(
    {
        "execution": _notification(
            "<pipeline>: execution <state>",
            "Execution `<execution>` of *<pipeline>* entered state *<state>* at <time>.",
            ["Open the execution: " + EXECUTION_CONSOLE_URL],
            ["<pipeline>", "<state>"],
            "CodePipelineExecution",
        ),
        "action": _notification(
            "<pipeline>: action <stage>/<action> <state>",
            "Action *<action>* in stage *<stage>* of *<pipeline>* entered state *<state>* at <time> "
            "(execution `<execution>`).",
            ["Read the action's log: <log>", "Open the execution: " + EXECUTION_CONSOLE_URL],
            ["<pipeline>", "<stage>", "<action>", "<state>"],
            "CodePipelineAction",
        ),
    }
)
# The names the templates had before the channels shared their rules.
EXECUTION_TEMPLATE, ACTION_TEMPLATE = CHATBOT_TEMPLATES["execution"], CHATBOT_TEMPLATES["action"]


def notification_statements() -> list[Statement]:
    """What the channel role, and the channel's guardrail, allow: the "Notification permissions" template.

    Exported for the stack's permissions boundary (pipeline/boundary.py), which must allow what the role
    it caps is given.
    """
    return [statement("ChatbotNotificationsOnly", list(NOTIFICATION_PERMISSIONS), ["*"])]


def chatbot_trust_policy() -> pulumi.Output[str]:
    """Only AWS Chatbot may assume the channel role."""
    return policy_document(
        [
            {
                "Sid": "TrustOnlyChatbot",
                "Effect": "Allow",
                "Principal": {"Service": CHATBOT_PRINCIPAL},
                "Action": "sts:AssumeRole",
            }
        ]
    )


def _matches(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None


@dataclass(frozen=True)
class SlackAlertsArgs:
    """Which Slack channel, which alert rules it delivers, the key of its topic, and where Chatbot's API is.

    `api_provider`, when given, must be an aws.Provider pinned to one of CHATBOT_API_REGIONS (its region
    cannot be checked here); otherwise the component builds one for `api_region`, with `default_tags`.
    """

    names: StackNames
    # The Slack workspace (team) ID the Chatbot console shows once the workspace is authorized.
    workspace_id: str
    channel_id: str
    # The alert rules whose events the channel receives: the e-mail's (FailureAlerts.alert_rules).
    rules: tuple[AlertRule, ...]
    key_arn: pulumi.Input[str]
    api_region: str = DEFAULT_CHATBOT_REGION
    api_provider: aws.Provider | None = None
    default_tags: Mapping[str, str] = field(default_factory=dict)
    # The stack's permissions boundary, for the channel role; None leaves the role without one.
    permissions_boundary_arn: pulumi.Input[str] | None = None

    def __post_init__(self) -> None:
        if self.api_region not in CHATBOT_API_REGIONS:
            raise ValueError(
                f"api_region {self.api_region!r}: the Chatbot API is only in {', '.join(CHATBOT_API_REGIONS)}"
            )
        if not _matches(SLACK_TEAM_ID_PATTERN, self.workspace_id):
            raise ValueError(f"workspace_id {self.workspace_id!r}: expected a Slack workspace ID such as T07EA123LEP")
        if not _matches(SLACK_CHANNEL_ID_PATTERN, self.channel_id) or len(self.channel_id) > SLACK_CHANNEL_ID_MAX:
            raise ValueError(f"channel_id {self.channel_id!r}: expected a Slack channel ID such as C07EZ1ABC23")
        if not _matches(CONFIGURATION_NAME_PATTERN, self.configuration_name):
            raise ValueError(f"configuration name {self.configuration_name!r}: letters, digits, '-' and '_' only")
        if not self.rules:
            raise ValueError("rules may not be empty: the channel would receive nothing")

    @property
    def configuration_name(self) -> str:
        """`<prefix>-slack`, e.g. cicd-prod-slack: the configuration's name in Chatbot."""
        return slack_alerts_name(self.names)


class SlackAlerts(pulumi.ComponentResource):
    """A Slack channel configuration in AWS Chatbot, fed custom notifications by its own encrypted topic.

    Name it `slack_alerts_name(names)`: the GitHub deploy role may manage the role and guardrail of that
    name only (pipeline/github_grants.py).
    """

    api_provider: aws.Provider
    topic: aws.sns.Topic
    topic_policy: aws.sns.TopicPolicy
    targets: list[aws.cloudwatch.EventTarget]
    guardrail: aws.iam.Policy
    role: aws.iam.Role
    configuration: aws.chatbot.SlackChannelConfiguration

    def __init__(self, name: str, args: SlackAlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("cicd:chatbot:SlackAlerts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        label = args.names.label

        # Chatbot's API region, whatever the stack's is (module docstring).
        self.api_provider = args.api_provider or aws.Provider(
            f"{name}-chatbot-api",
            region=args.api_region,
            default_tags=aws.ProviderDefaultTagsArgs(tags=dict(args.default_tags)),
            opts=child,
        )

        self.topic = aws.sns.Topic(
            name, display_name=f"{label} Slack alerts", kms_master_key_id=args.key_arn, opts=child
        )
        self.topic_policy = aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=topic_policy(self.topic.arn, [rule.arn for rule in args.rules], sid="AllowSlackRulesToPublish"),
            opts=child,
        )
        self.targets = [
            alert_target(
                f"{rule.logical_name}-to-slack",
                rule,
                self.topic.arn,
                CHATBOT_TEMPLATES[rule.kind],
                # Without the topic policy the first alerts would be refused.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.topic_policy]),
            )
            for rule in args.rules
        ]

        statements = notification_statements()
        self.guardrail = aws.iam.Policy(
            f"{name}{GUARDRAIL_SUFFIX}",
            description=f"{label}: the most the Slack channel may do (notifications only)",
            policy=policy_document(statements),
            # A changed document makes a new policy (auto-named, so it can exist beside the old one until
            # the configuration has moved to it), never a new version: the GitHub deploy role may create
            # and delete this policy, but no one may version a policy (iam:CreatePolicyVersion on a policy
            # attached to oneself is a privilege escalation, pipeline/github_grants.py).
            opts=pulumi.ResourceOptions(parent=self, replace_on_changes=["policy"]),
        )
        self.role = aws.iam.Role(
            f"{name}{ROLE_SUFFIX}",
            description=f"{label}: the role AWS Chatbot assumes for the Slack channel",
            assume_role_policy=chatbot_trust_policy(),
            max_session_duration=3600,
            permissions_boundary=args.permissions_boundary_arn,
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}{ROLE_SUFFIX}-policy", role=self.role.name, policy=policy_document(statements), opts=child
        )
        self.configuration = aws.chatbot.SlackChannelConfiguration(
            f"{name}-channel",
            configuration_name=args.configuration_name,
            slack_team_id=args.workspace_id,
            slack_channel_id=args.channel_id,
            iam_role_arn=self.role.arn,
            guardrail_policy_arns=[self.guardrail.arn],
            sns_topic_arns=[self.topic.arn],
            logging_level=LOGGING_LEVEL,
            # Chatbot's region, not the stack's; the role's permissions are in place before it is used.
            opts=pulumi.ResourceOptions(parent=self, provider=self.api_provider, depends_on=[role_policy]),
        )

        self.topic_arn = self.topic.arn
        self.configuration_arn = self.configuration.chat_configuration_arn
        self.register_outputs(
            {
                "topicArn": self.topic.arn,
                "configurationArn": self.configuration.chat_configuration_arn,
                "roleArn": self.role.arn,
            }
        )
