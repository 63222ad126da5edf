"""What the GitHub Actions roles call: `pulumi up` (deploy role) and `pulumi preview --refresh` (preview
role) of the stack that creates them, per resource type the stack registers, with the request context
AWS sends.

This is data, kept beside pipeline/github.py, whose policies must allow it. Each entry names the Pulumi
type it is made for (`registered`); harness/run_simulation.py resolves it once per registered resource
of that type and judges it with principalmapper, as pipeline/run_calls.py's entries are judged: the
role's inline policy with its Deny statements, and the resource's own policy where it has one (the key
policy of a key, a bucket or topic policy). tests/test_github_roles.py runs it for the shipped stacks and
their variants, refuses a registered type without entries, and removes each entry's grant once to see
it refused.

`pulumi up` creates, updates (a change of the stack's `tags` config retags every resource) and deletes
each resource, as the AWS provider does; `pulumi preview --refresh` reads each one's current state
(https://www.pulumi.com/docs/iac/cli/commands/pulumi_preview/). Which resource an action is authorized
on, and which condition keys it sends, is the Service Authorization Reference's, cited per service.

Relations (`resource`), of the one registered resource an entry is resolved for:
- "it": its own ARN (its `arn` output, unless `arn` is an input naming another resource), with values
  `tag <Key>` for each of its tags (the provider's default tags and its own) and, for a role carrying a
  permissions boundary, `boundary`.
- "its objects" (a bucket): an object in it. "its log streams" (a log group): its ARN with `:*`.
- "its bucket", "its role", "its topic", "its rule", "its secret": the one its inputs name (`bucket`,
  `role` with its `boundary`, `topic` or a topic policy's `arn`, `rule`, `secretId`).
- "its key": the key an alias points to, or that a secret version's secret is encrypted with (values
  `tag <Key>`, and `secret` for the latter).
- "its service role": the role a project (`serviceRole`) or pipeline (`roleArn`) runs as.
- "its connection": a pipeline's source connection (values `connection service`, and `tag <Key>` where
  the stack creates it).
- "its service role" and "its guardrails" of a Slack channel configuration: its `iamRoleArn`, and the
  policies of its `guardrailPolicyArns` (values `tag <Key>`).
- "every resource": "*", for the actions the reference gives no resource type (UNSCOPABLE_ACTIONS).

Facts (`when`): "bounded role" (a role, or a role policy's role, carrying a boundary: the GitHub roles
carry none, and only the administrator changes them), "created connection" / "configured connection".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Literal

from pipeline.github_grants import SCOPING_TAGS
from pipeline.run_calls import KMS_VIA_SERVICE, OVER_TLS, SECRETS_MANAGER_KMS, ContextTemplate, Resource, RunCall, When

_REFERENCE = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_{}.html"
SERVICE_AUTHORIZATION_REFERENCE: Mapping[str, str] = MappingProxyType(
    {
        prefix: _REFERENCE.format(page)
        for prefix, page in {
            "iam": "awsidentityandaccessmanagementiam",
            "kms": "awskeymanagementservice",
            "s3": "amazons3",
            "logs": "amazoncloudwatchlogs",
            "codebuild": "awscodebuild",
            "codepipeline": "awscodepipeline",
            "codestar-connections": "awscodestarconnections",
            "codeconnections": "awscodeconnections",
            "sns": "amazonsns",
            "events": "amazoneventbridge",
            "secretsmanager": "awssecretsmanager",
            "chatbot": "awschatbot",
        }.items()
    }
)
PASS_ROLE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html"
BOUNDARIES = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html"
KMS_TAGS = "https://docs.aws.amazon.com/kms/latest/developerguide/tag-authorization.html"
KMS_ALIAS_ACCESS = "https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html"
CONNECTION_TAGS = "https://docs.aws.amazon.com/dtconsole/latest/userguide/connections-tag-based-access-control.html"
LOG_GROUP_ARN = "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_LogGroup.html"
# The reference's table of API operations and the actions each authorizes: CreateSlackChannelConfiguration
# also authorizes chatbot:TagResource and iam:PassRole (iam:PassedToService chatbot.amazonaws.com).
CHATBOT_OPERATIONS = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_chatbot.html"

# A tag of the stacks' `tags` config (Pulumi.<stack>.yaml): changing it retags every resource.
A_CONFIG_TAG = "Team"
# The tags AWS sends as aws:ResourceTag/<key> that the roles' policies read: the ones scoping keys and
# connections, whose ARNs are random ids, to this stack (pipeline/github.py). AWS sends every tag of
# the resource; the others decide nothing in these policies.
_TAGGED: Mapping[str, ContextTemplate] = MappingProxyType(
    {**OVER_TLS, **{f"aws:ResourceTag/{key}": f"{{tag {key}}}" for key in SCOPING_TAGS}}
)
# TagResource/UntagResource name the keys they change in aws:TagKeys.
_RETAGGED: Mapping[str, ContextTemplate] = MappingProxyType({**_TAGGED, "aws:TagKeys": (A_CONFIG_TAG,)})
_WITHIN_THE_BOUNDARY: Mapping[str, ContextTemplate] = MappingProxyType(
    {**OVER_TLS, "iam:PermissionsBoundary": "{boundary}"}
)


def _passed_to(service: str) -> Mapping[str, ContextTemplate]:
    return MappingProxyType({**OVER_TLS, "iam:PassedToService": service})


def _calls(
    verb: Literal["up", "preview"],
    registered: str,
    actions: Sequence[str],
    why: str,
    resource: Resource = "it",
    *,
    when: tuple[When, ...] = (),
    context: Mapping[str, ContextTemplate] = OVER_TLS,
    doc: str = "",
    see: tuple[str, ...] = (),
) -> tuple[RunCall, ...]:
    """One entry per action; `doc` defaults to the Service Authorization Reference page of its service."""
    kind = registered.rsplit(":", 1)[1]
    qualifiers = "".join(f".{each.replace(' ', '-')}" for each in ((resource,) if resource != "it" else ()) + when)
    return tuple(
        RunCall(
            f"github.{verb}.{kind}.{action.split(':')[1]}{qualifiers}",
            "GitHub deploy role" if verb == "up" else "GitHub preview role",
            action,
            resource,
            doc or SERVICE_AUTHORIZATION_REFERENCE[action.split(":")[0]],
            why,
            when,
            context,
            see,
            registered,
        )
        for action in actions
    )


ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
BUCKET = "aws:s3/bucket:Bucket"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
PIPELINE = "aws:codepipeline/pipeline:Pipeline"
REPORT_GROUP = "aws:codebuild/reportGroup:ReportGroup"
CONNECTION = "aws:codestarconnections/connection:Connection"
TOPIC_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
SLACK_CHANNEL = "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration"
_REFRESH = "pulumi preview --refresh reads its current state."
# A pipeline's source connection: the stack's own, reached through its tags, or one the config names.
_CONNECTION_CONTEXTS: tuple[tuple[When, Mapping[str, ContextTemplate]], ...] = (
    ("created connection", _TAGGED),
    ("configured connection", OVER_TLS),
)

# The bucket's sub-resources: (type, what `pulumi up` writes, what a refresh reads), on the bucket.
_BUCKET_SETTINGS = (
    (
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
    ),
    (
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "s3:PutBucketOwnershipControls",
        "s3:GetBucketOwnershipControls",
    ),
    ("aws:s3/bucketVersioning:BucketVersioning", "s3:PutBucketVersioning", "s3:GetBucketVersioning"),
    (
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "s3:PutEncryptionConfiguration",
        "s3:GetEncryptionConfiguration",
    ),
    (
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "s3:PutLifecycleConfiguration",
        "s3:GetLifecycleConfiguration",
    ),
    ("aws:s3/bucketPolicy:BucketPolicy", "s3:PutBucketPolicy", "s3:GetBucketPolicy"),
)

GITHUB_CALLS: tuple[RunCall, ...] = (
    # --- IAM ---------------------------------------------------------------------------------------
    *_calls("up", ROLE, ("iam:TagRole", "iam:UntagRole"), "A change of the stack's tags retags every role."),
    *_calls(
        "up",
        ROLE,
        ("iam:CreateRole", "iam:PutRolePermissionsBoundary"),
        "A service role is created with the stack's boundary on it; IAM sends the boundary it will carry.",
        when=("bounded role",),
        context=_WITHIN_THE_BOUNDARY,
        see=(BOUNDARIES,),
    ),
    *_calls(
        "up",
        ROLE,
        ("iam:DeleteRole",),
        "A service role goes with the stack (its trust never changes: github_grants.py StackRoles).",
        when=("bounded role",),
    ),
    *_calls("preview", ROLE, ("iam:GetRole",), _REFRESH),
    *_calls(
        "up",
        ROLE_POLICY,
        ("iam:PutRolePolicy", "iam:DeleteRolePolicy"),
        "A service role's inline policy is written and removed on its role; IAM sends the role's boundary.",
        "its role",
        when=("bounded role",),
        context=_WITHIN_THE_BOUNDARY,
        see=(BOUNDARIES,),
    ),
    *_calls("preview", ROLE_POLICY, ("iam:GetRolePolicy",), _REFRESH, "its role"),
    *_calls(
        "up",
        "aws:iam/policy:Policy",
        ("iam:TagPolicy", "iam:UntagPolicy"),
        "The boundary policy is only retagged by CI; its document is the administrator's (deploy_denials).",
    ),
    *_calls("preview", "aws:iam/policy:Policy", ("iam:GetPolicy", "iam:GetPolicyVersion"), _REFRESH),
    *_calls(
        "up",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        ("iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider"),
        "The stack creates GitHub's OIDC provider where the account has none.",
    ),
    *_calls(
        "preview", "aws:iam/openIdConnectProvider:OpenIdConnectProvider", ("iam:GetOpenIDConnectProvider",), _REFRESH
    ),
    # --- KMS ---------------------------------------------------------------------------------------
    *_calls(
        "up",
        KEY,
        ("kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:ScheduleKeyDeletion"),
        "The key's policy and rotation follow the stack; KMS sends the key's tags as aws:ResourceTag.",
        context=_TAGGED,
        see=(KMS_TAGS,),
    ),
    *_calls(
        "up",
        KEY,
        ("kms:TagResource", "kms:UntagResource"),
        "A change of the stack's tags retags the key, naming the changed keys in aws:TagKeys.",
        context=_RETAGGED,
        see=(KMS_TAGS,),
    ),
    *_calls(
        "preview",
        KEY,
        ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus"),
        _REFRESH,
        context=_TAGGED,
        see=(KMS_TAGS,),
    ),
    *_calls(
        "up",
        ALIAS,
        ("kms:CreateAlias", "kms:DeleteAlias"),
        "An alias operation is authorized on the alias ...",
        see=(KMS_ALIAS_ACCESS,),
    ),
    *_calls(
        "up",
        ALIAS,
        ("kms:CreateAlias",),
        "... and on the key it points to, whose tags KMS sends.",
        "its key",
        context=_TAGGED,
        see=(KMS_ALIAS_ACCESS,),
    ),
    *_calls("preview", ALIAS, ("kms:ListAliases",), _REFRESH + " ListAliases has no resource type.", "every resource"),
    # --- S3 ----------------------------------------------------------------------------------------
    *_calls(
        "up",
        BUCKET,
        ("s3:CreateBucket", "s3:PutBucketTagging", "s3:DeleteBucket"),
        "The artifact bucket is created, tagged and deleted with the stack.",
    ),
    *_calls(
        "up",
        BUCKET,
        ("s3:DeleteObject", "s3:DeleteObjectVersion"),
        "forceDestroyArtifacts empties the bucket, every version of every object, before deleting it.",
        "its objects",
    ),
    *_calls("preview", BUCKET, ("s3:ListBucket", "s3:GetBucketTagging", "s3:GetBucketAcl"), _REFRESH),
    *(
        call
        for registered, write, read in _BUCKET_SETTINGS
        for call in (
            *_calls("up", registered, (write,), "A bucket setting is written on its bucket.", "its bucket"),
            *_calls("preview", registered, (read,), _REFRESH, "its bucket"),
        )
    ),
    # --- CloudWatch Logs ---------------------------------------------------------------------------
    *_calls(
        "up",
        LOG_GROUP,
        ("logs:DescribeLogGroups",),
        "The provider finds a group by listing; DescribeLogGroups has no resource type.",
        "every resource",
    ),
    *(
        call
        for relation in ("it", "its log streams")
        for call in _calls(
            "up",
            LOG_GROUP,
            ("logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:AssociateKmsKey", "logs:DeleteLogGroup"),
            "IAM authorizes most log-group actions on the group's ARN ending in `:*`; both forms are granted.",
            relation,
            see=(LOG_GROUP_ARN,),
        )
    ),
    *_calls("preview", LOG_GROUP, ("logs:DescribeLogGroups",), _REFRESH, "every resource"),
    *_calls(
        "preview",
        LOG_GROUP,
        ("logs:ListTagsForResource",),
        _REFRESH + " Tag actions take the ARN without `:*`.",
        see=(LOG_GROUP_ARN,),
    ),
    # --- CodeBuild, CodePipeline, connections ------------------------------------------------------
    *_calls(
        "up",
        "aws:codebuild/project:Project",
        ("codebuild:CreateProject", "codebuild:UpdateProject", "codebuild:DeleteProject"),
        "The build projects follow the stack.",
    ),
    *_calls(
        "up",
        "aws:codebuild/project:Project",
        ("iam:PassRole",),
        "Creating or updating a project hands its service role to CodeBuild.",
        "its service role",
        context=_passed_to("codebuild.amazonaws.com"),
        see=(PASS_ROLE,),
    ),
    *_calls("preview", "aws:codebuild/project:Project", ("codebuild:BatchGetProjects",), _REFRESH),
    *_calls(
        "up",
        REPORT_GROUP,
        ("codebuild:CreateReportGroup", "codebuild:UpdateReportGroup", "codebuild:DeleteReportGroup"),
        "The Build steps' report groups follow the stack; their tags go with CreateReportGroup and "
        "UpdateReportGroup (CodeBuild has no TagResource).",
    ),
    *_calls("preview", REPORT_GROUP, ("codebuild:BatchGetReportGroups",), _REFRESH),
    *_calls(
        "up",
        PIPELINE,
        ("codepipeline:CreatePipeline", "codepipeline:UpdatePipeline", "codepipeline:DeletePipeline"),
        "The pipeline follows the stack.",
    ),
    *_calls(
        "up",
        PIPELINE,
        ("iam:PassRole",),
        "Creating or updating the pipeline hands its role to CodePipeline.",
        "its service role",
        context=_passed_to("codepipeline.amazonaws.com"),
        see=(PASS_ROLE,),
    ),
    *(
        call
        for fact, tags in _CONNECTION_CONTEXTS
        for call in _calls(
            "up",
            PIPELINE,
            ("{connection service}:PassConnection",),
            "Creating or updating the pipeline hands its source connection to CodePipeline; the prefix is "
            "the connection ARN's service. The stack's own connection is told from others by its tags.",
            "its connection",
            when=(fact,),
            context=MappingProxyType({**tags, "{connection service}:PassedToService": "codepipeline.amazonaws.com"}),
            doc=SERVICE_AUTHORIZATION_REFERENCE["codestar-connections"],
            see=(SERVICE_AUTHORIZATION_REFERENCE["codeconnections"], CONNECTION_TAGS),
        )
    ),
    *_calls("preview", PIPELINE, ("codepipeline:GetPipeline", "codepipeline:ListTagsForResource"), _REFRESH),
    *_calls(
        "up",
        CONNECTION,
        ("codestar-connections:DeleteConnection",),
        "The connection goes with the stack; its tags scope it to the stack.",
        context=_TAGGED,
        see=(CONNECTION_TAGS,),
    ),
    *_calls(
        "up",
        CONNECTION,
        ("codestar-connections:TagResource",),
        "A change of the stack's tags retags the connection, naming the changed keys in aws:TagKeys.",
        context=_RETAGGED,
        see=(CONNECTION_TAGS,),
    ),
    *_calls("preview", CONNECTION, ("codestar-connections:GetConnection",), _REFRESH, context=_TAGGED),
    # --- SNS, EventBridge --------------------------------------------------------------------------
    *_calls(
        "up",
        "aws:sns/topic:Topic",
        ("sns:CreateTopic", "sns:SetTopicAttributes", "sns:DeleteTopic"),
        "The alert topic follows the stack.",
    ),
    *_calls("preview", "aws:sns/topic:Topic", ("sns:GetTopicAttributes",), _REFRESH),
    *_calls("up", TOPIC_SUBSCRIPTION, ("sns:Subscribe",), "An e-mail subscription is made on its topic.", "its topic"),
    *_calls(
        "up",
        TOPIC_SUBSCRIPTION,
        ("sns:Unsubscribe",),
        "Unsubscribe has no resource type.",
        "every resource",
    ),
    *_calls(
        "preview",
        TOPIC_SUBSCRIPTION,
        ("sns:GetSubscriptionAttributes",),
        _REFRESH + " GetSubscriptionAttributes has no resource type.",
        "every resource",
    ),
    *_calls("preview", TOPIC_SUBSCRIPTION, ("sns:ListSubscriptionsByTopic",), _REFRESH, "its topic"),
    *_calls(
        "up",
        "aws:sns/topicPolicy:TopicPolicy",
        ("sns:SetTopicAttributes",),
        "A topic policy is a topic attribute.",
        "its topic",
    ),
    *_calls("preview", "aws:sns/topicPolicy:TopicPolicy", ("sns:GetTopicAttributes",), _REFRESH, "its topic"),
    *_calls(
        "up",
        "aws:cloudwatch/eventRule:EventRule",
        ("events:PutRule", "events:TagResource", "events:DeleteRule"),
        "The failure rule follows the stack.",
    ),
    *_calls("preview", "aws:cloudwatch/eventRule:EventRule", ("events:DescribeRule",), _REFRESH),
    *_calls(
        "up",
        "aws:cloudwatch/eventTarget:EventTarget",
        ("events:PutTargets", "events:RemoveTargets"),
        "A target is written on its rule.",
        "its rule",
    ),
    *_calls("preview", "aws:cloudwatch/eventTarget:EventTarget", ("events:ListTargetsByRule",), _REFRESH, "its rule"),
    # --- AWS Chatbot (the Slack channel) -------------------------------------------------------------
    *_calls(
        "up",
        SLACK_CHANNEL,
        ("chatbot:CreateSlackChannelConfiguration", "chatbot:TagResource", "chatbot:UntagResource"),
        "The configuration is created with the provider's tags, and retagged when the stack's tags change; "
        "none of the three has a resource type.",
        "every resource",
        see=(CHATBOT_OPERATIONS,),
    ),
    *_calls(
        "up",
        SLACK_CHANNEL,
        ("chatbot:UpdateSlackChannelConfiguration", "chatbot:DeleteSlackChannelConfiguration"),
        "The configuration follows the stack: its topic, role, guardrail and logging level.",
    ),
    *_calls(
        "up",
        SLACK_CHANNEL,
        ("iam:PassRole",),
        "Creating or updating the configuration hands its role to Chatbot.",
        "its service role",
        context=_passed_to("chatbot.amazonaws.com"),
        doc=CHATBOT_OPERATIONS,
        see=(PASS_ROLE,),
    ),
    *_calls(
        "up",
        SLACK_CHANNEL,
        ("iam:CreatePolicy", "iam:DeletePolicy"),
        "The channel's guardrail policy is created, replaced when its document changes (never versioned), and "
        "deleted with the stack; no role carries it.",
        "its guardrails",
    ),
    *_calls(
        "preview",
        SLACK_CHANNEL,
        ("chatbot:DescribeSlackChannelConfigurations", "chatbot:ListTagsForResource"),
        _REFRESH + " Neither has a resource type.",
        "every resource",
    ),
    # --- Secrets Manager ---------------------------------------------------------------------------
    *_calls(
        "up",
        "aws:secretsmanager/secret:Secret",
        ("secretsmanager:CreateSecret", "secretsmanager:DeleteSecret"),
        "The stored Pulumi token's secret follows the stack.",
    ),
    *_calls("preview", "aws:secretsmanager/secret:Secret", ("secretsmanager:DescribeSecret",), _REFRESH),
    *_calls(
        "up",
        SECRET_VERSION,
        ("secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue"),
        "The provider writes the secret's value and reads it back.",
        "its secret",
    ),
    *_calls(
        "up",
        SECRET_VERSION,
        ("kms:GenerateDataKey", "kms:Decrypt"),
        "Secrets Manager encrypts and decrypts the value under the secret's key as the caller, naming "
        "itself in kms:ViaService and the secret in the encryption context.",
        "its key",
        context=MappingProxyType(
            {
                **OVER_TLS,
                "kms:ViaService": "secretsmanager.{region}.amazonaws.com",
                "kms:EncryptionContext:SecretARN": "{secret}",
            }
        ),
        doc=SECRETS_MANAGER_KMS,
        see=(KMS_VIA_SERVICE,),
    ),
    *_calls("preview", SECRET_VERSION, ("secretsmanager:ListSecretVersionIds",), _REFRESH, "its secret"),
)


def github_calls_by_id() -> dict[str, RunCall]:
    """The catalogue keyed by id; ids are unique (a duplicate would hide an entry from the reports)."""
    by_id = {call.id: call for call in GITHUB_CALLS}
    if len(by_id) != len(GITHUB_CALLS):
        raise ValueError("GITHUB_CALLS ids must be unique")
    return by_id
