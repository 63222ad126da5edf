"""Every AWS call one pipeline execution makes, who makes it, and the request context AWS sends with it.

This is data, kept beside the components whose policies must allow it: harness/run_simulation.py
resolves each entry against a captured resource graph (which role, which ARN) and judges it with
principalmapper's IAM evaluation (identity policies, permissions boundary, resource, key and trust
policies, conditions). tests/security/test_run_simulation.py runs it for the shipped stacks and for
variants with every option on, and removes each entry's grant once to see the simulation deny it.

Symbolic names, resolved by the engine per graph (harness/run_simulation.py, `_scopes`):

Actors
- "pipeline role": the role a CodePipeline pipeline runs as (its `roleArn`).
- "build role": each CodeBuild project's service role, in the pipeline that runs the project.
- "EventBridge": the service principal events.amazonaws.com delivering a rule's target to a topic.
- "CloudWatch Logs": the service principal logs.<region>.amazonaws.com, per KMS-encrypted log group.
- "step role": the role a build role assumes (its ASSUME_ROLE_ARN variable), where a joined graph
  defines it (the bootstrap's preview and deploy roles), for what `pulumi` calls after the assume-role.
- "GitHub deploy role" / "GitHub preview role": the roles GitHub Actions assumes to run `pulumi up` and
  `pulumi preview --refresh` of the stack that creates them. Their catalogue is pipeline/github_calls.py:
  each entry names the resource type (`registered`) whose every instance `pulumi` manages or reads.

Resources (each resolves to ARNs, with named values a context may use)
- "artifact objects" / "artifact bucket" / "artifact key": an object in the pipeline's artifact
  store, the store's bucket, and the KMS key the store encrypts with (values `bucket`, and
  `s3 encryption context`: the bucket's ARN with an S3 Bucket Key, else the object's).
- "connection": the Source action's connection (value `connection service`, the ARN's service prefix).
- "source objects" / "source bucket": an S3 source action's object and bucket.
- "build projects": the CodeBuild projects the pipeline's actions start.
- "approval topic" / "approval topic key": the topic an approval action notifies, and its key (value `topic`).
- "alert topic" / "alert topic key": the topic an EventBridge target publishes to, and its key
  (values `topic`, and `rule` in the actor's scope).
- "own log streams": a stream in the project's CloudWatch Logs group.
- "secrets manager variables" / "stored secret keys": the secrets behind the project's
  SECRETS_MANAGER variables, and, for secrets the graph holds, their keys (value `secret`).
- "parameter store variables": the SSM parameters behind its PARAMETER_STORE variables.
- "step role": the role ARN in its ASSUME_ROLE_ARN variable.
- "test report groups" / "coverage report groups": the report groups the project's TEST_REPORT_GROUP_ARN
  and COVERAGE_REPORT_GROUP_ARN variables name (pipeline/reports.py).
- "report export objects" / "report export key": an exported raw result file in a group's S3 export
  destination, and the key the export encrypts with (values `bucket`, `s3 encryption context`).
- "log group key": an encrypted log group's key (value `log group`).
- "state bucket" / "state objects" / "state bucket key": the bucket of the step's PULUMI_BACKEND_URL
  (s3://...), a stack's object in it, and the key the bucket encrypts with (values `bucket`,
  `s3 encryption context`).
- "secrets provider key": the key of the `awskms://` secrets provider the bootstrap that owns the
  step role and the backend exports (`secretsProvider`): stacks in its backend are created with it.
- "it", "its bucket", ... "every resource": for the GitHub roles, relations of the one registered
  resource an entry is resolved for (pipeline/github_calls.py lists them).

Context keys and values are templates: `{region}`, `{account}`, `{partition}` of the actor, and the
values named above; a tuple is a multi-valued key (aws:TagKeys). Every call reaches AWS over HTTPS,
so each carries aws:SecureTransport=true.

`when` names the facts the engine reads off the graph that must all hold; none means wherever the
actor exists. When they hold, the entry's resource must resolve to at least one ARN (the engine checks), so an
entry can neither go silently unchecked nor be checked where it does not apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

Actor = Literal[
    "pipeline role",
    "build role",
    "step role",
    "EventBridge",
    "CloudWatch Logs",
    "GitHub deploy role",
    "GitHub preview role",
]

Resource = Literal[
    "artifact objects",
    "artifact bucket",
    "artifact key",
    "connection",
    "source objects",
    "source bucket",
    "build projects",
    "approval topic",
    "approval topic key",
    "alert topic",
    "alert topic key",
    "own log streams",
    "secrets manager variables",
    "stored secret keys",
    "parameter store variables",
    "step role",
    "test report groups",
    "coverage report groups",
    "report export objects",
    "report export key",
    "log group key",
    "state bucket",
    "state objects",
    "state bucket key",
    "secrets provider key",
    # Relations of one registered resource, for the GitHub roles (pipeline/github_calls.py).
    "it",
    "its objects",
    "its log streams",
    "its bucket",
    "its role",
    "its topic",
    "its rule",
    "its secret",
    "its key",
    "its service role",
    "its connection",
    "its guardrails",  # a Slack channel configuration's guardrail policies (H12b, issue 12 §5)
    "every resource",
]

When = Literal[
    "connection source",
    "s3 source",
    "approval",
    "encrypted artifacts",
    "encrypted approval topic",
    "encrypted alert topic",
    "output artifacts",
    "secrets manager variables",
    "stored secrets",
    "parameter store variables",
    "step role",
    "test reports",  # the project names a TEST report group
    "coverage reports",  # the project names a CODE_COVERAGE report group
    "exported reports",  # a group the project names exports its raw files to S3
    "encrypted report export",  # ... encrypted with a KMS key
    "deploy step",
    "s3 backend",
    "encrypted s3 backend",
    "awskms secrets provider",
    # Of one registered resource, for the GitHub roles.
    "bounded role",  # a role, or a role policy's role, that carries a permissions boundary
    "created connection",  # a pipeline whose source connection the stack creates
    "configured connection",  # a pipeline whose source connection the config names
]

# A Deploy stage that rolls back (pipeline/delivery.py) adds no kind of call: the rollback is a new
# execution that runs the stage's actions again, as the pipeline and build roles, on the artifacts of the
# execution it rolls back to (https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html),
# which the entries below cover for every artifact object.

# --- The AWS documentation each entry comes from -------------------------------------------------
CODEPIPELINE_SERVICE_ROLE = "https://docs.aws.amazon.com/codepipeline/latest/userguide/how-to-custom-role.html"
CONNECTION_SOURCE_ACTION = (
    "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodestarConnectionSource.html"
)
CONNECTIONS_PERMISSIONS = (
    "https://docs.aws.amazon.com/dtconsole/latest/userguide/security_iam_id-based-policy-examples-connections.html"
)
S3_SOURCE_ACTION = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3.html"
CODEBUILD_ACTION = "https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeBuild.html"
APPROVALS = "https://docs.aws.amazon.com/codepipeline/latest/userguide/approvals.html"
SNS_KEY_MANAGEMENT = "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html"
SNS_FROM_AWS_SERVICES = SNS_KEY_MANAGEMENT + "#compatibility-with-aws-services"
EVENTBRIDGE_TO_SNS = (
    "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions"
)
CONFUSED_DEPUTY = "https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html"
LOGS_KMS = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html"
CODEBUILD_SERVICE_ROLE = "https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html"
S3_SSE_KMS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html"
S3_BUCKET_KEY = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html"
BUILDSPEC_SECRETS = (
    "https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec.env.secrets-manager"
)
BUILDSPEC_PARAMETERS = (
    "https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec.env.parameter-store"
)
SECRETS_MANAGER_KMS = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html"
ASSUME_ROLE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html"
CROSS_ACCOUNT = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html"
)
KMS_VIA_SERVICE = "https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service"
S3_GET_OBJECT = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html"
S3_PUT_OBJECT = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html"
S3_DELETE_OBJECT = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html"
KMS_DECRYPT = "https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html"
TEST_REPORT_PERMISSIONS = "https://docs.aws.amazon.com/codebuild/latest/userguide/test-permissions.html"
REPORT_EXPORT = "https://docs.aws.amazon.com/codebuild/latest/userguide/report-group-export-settings.html"
# What pulumi itself does with a self-managed backend and the awskms:// provider (not AWS's word):
PULUMI_DIY_BACKEND = "https://www.pulumi.com/docs/iac/concepts/state-and-backends/"
PULUMI_AWSKMS_SECRETS = "https://www.pulumi.com/docs/iac/concepts/secrets/"

# Every call below goes to an HTTPS endpoint: AWS services call each other over TLS, and the
# aws CLI and pulumi's SDK use https:// endpoints.
OVER_TLS: Mapping[str, str] = MappingProxyType({"aws:SecureTransport": "true"})

# A context value template: one value, or several for a multi-valued key such as aws:TagKeys.
ContextTemplate = str | tuple[str, ...]


def _context(**values: str) -> Mapping[str, str]:
    return MappingProxyType({**OVER_TLS, **values})


def _via(service: str, **values: str) -> Mapping[str, str]:
    """KMS called by `service` on the caller's behalf: kms:ViaService names it (KMS_VIA_SERVICE)."""
    return _context(**{"kms:ViaService": f"{service}.{{region}}.amazonaws.com"}, **values)


# S3 asks KMS with the object's ARN as encryption context, or the bucket's with an S3 Bucket Key
# (S3_BUCKET_KEY); the engine picks the one the bucket's encryption configuration implies.
_THROUGH_S3 = _via("s3", **{"kms:EncryptionContext:aws:s3:arn": "{s3 encryption context}"})


@dataclass(frozen=True)
class RunCall:
    """One call of one actor: the action, the resource it names, the context AWS sends, and the source."""

    id: str
    actor: Actor
    action: str  # may name `{connection service}`, the prefix taken from the connection's ARN
    resource: Resource
    doc: str
    why: str
    when: tuple[When, ...] = ()  # facts that must all hold; none means always
    context: Mapping[str, ContextTemplate] = field(default_factory=lambda: OVER_TLS)
    see: tuple[str, ...] = ()  # further sources: other AWS pages, or pulumi's for what pulumi calls
    # The Pulumi type whose every registered instance the call is made for (the GitHub roles'
    # entries); "" for the run's actors, whose calls are not per resource.
    registered: str = ""


RUN_CALLS: tuple[RunCall, ...] = (
    # --- The pipeline role, per action kind -------------------------------------------------------
    RunCall(
        "pipeline.source.use-connection",
        "pipeline role",
        "{connection service}:UseConnection",
        "connection",
        CONNECTIONS_PERMISSIONS,
        "The connection source action fetches the repository through the connection; the action's "
        "prefix is the ARN's service (codestar-connections or codeconnections).",
        when=("connection source",),
        see=(CONNECTION_SOURCE_ACTION,),
    ),
    RunCall(
        "pipeline.source.upload-artifact",
        "pipeline role",
        "s3:PutObject",
        "artifact objects",
        CODEPIPELINE_SERVICE_ROLE,
        "Every source action writes its output artifact to the artifact store.",
    ),
    RunCall(
        "pipeline.source.upload-artifact-acl",
        "pipeline role",
        "s3:PutObjectAcl",
        "artifact objects",
        CODEPIPELINE_SERVICE_ROLE,
        "The documented service-role policy grants it; a connection source uploads with an ACL and "
        'fails with "Upload to S3 failed ... Access Denied" without it (aws-cdk issue 13557).',
        when=("connection source",),
        see=(CONNECTION_SOURCE_ACTION,),
    ),
    RunCall(
        "pipeline.source.encrypt-artifact",
        "pipeline role",
        "kms:GenerateDataKey",
        "artifact key",
        S3_SSE_KMS,
        "Uploading an SSE-KMS object needs kms:GenerateDataKey on its key, asked by S3 for the caller.",
        when=("encrypted artifacts",),
        context=_THROUGH_S3,
    ),
    RunCall(
        "pipeline.artifacts.read",
        "pipeline role",
        "s3:GetObject",
        "artifact objects",
        CODEPIPELINE_SERVICE_ROLE,
        "The documented minimum service-role policy reads the pipeline's artifacts.",
    ),
    RunCall(
        "pipeline.artifacts.read-version",
        "pipeline role",
        "s3:GetObjectVersion",
        "artifact objects",
        CODEPIPELINE_SERVICE_ROLE,
        "The artifact store is versioned; the documented policy reads object versions.",
    ),
    RunCall(
        "pipeline.artifacts.decrypt",
        "pipeline role",
        "kms:Decrypt",
        "artifact key",
        S3_SSE_KMS,
        "Reading an SSE-KMS object needs kms:Decrypt on its key, asked by S3 for the caller.",
        when=("encrypted artifacts",),
        context=_THROUGH_S3,
    ),
    *(
        RunCall(
            f"pipeline.artifacts.inspect-bucket.{action.split(':')[1]}",
            "pipeline role",
            action,
            "artifact bucket",
            CODEPIPELINE_SERVICE_ROLE,
            "The documented minimum service-role policy reads these of the artifact bucket.",
        )
        for action in ("s3:GetBucketVersioning", "s3:GetBucketAcl", "s3:GetBucketLocation")
    ),
    RunCall(
        "pipeline.source.s3-read-object",
        "pipeline role",
        "s3:GetObject",
        "source objects",
        S3_SOURCE_ACTION,
        "The S3 source action reads the configured object.",
        when=("s3 source",),
    ),
    RunCall(
        "pipeline.source.s3-read-object-version",
        "pipeline role",
        "s3:GetObjectVersion",
        "source objects",
        S3_SOURCE_ACTION,
        "The S3 source action reads a version of the object (the bucket must be versioned).",
        when=("s3 source",),
    ),
    RunCall(
        "pipeline.source.s3-bucket-versioning",
        "pipeline role",
        "s3:GetBucketVersioning",
        "source bucket",
        S3_SOURCE_ACTION,
        "The S3 source action checks that the source bucket is versioned.",
        when=("s3 source",),
    ),
    RunCall(
        "pipeline.codebuild.start",
        "pipeline role",
        "codebuild:StartBuild",
        "build projects",
        CODEBUILD_ACTION,
        "A CodeBuild action starts a build of its project.",
    ),
    RunCall(
        "pipeline.codebuild.poll",
        "pipeline role",
        "codebuild:BatchGetBuilds",
        "build projects",
        CODEBUILD_ACTION,
        "A CodeBuild action polls its build until it ends.",
    ),
    RunCall(
        "pipeline.approval.publish",
        "pipeline role",
        "sns:Publish",
        "approval topic",
        APPROVALS,
        "An approval action publishes its notification to the configured topic as the pipeline role.",
        when=("approval",),
    ),
    RunCall(
        "pipeline.approval.encrypt",
        "pipeline role",
        "kms:GenerateDataKey",
        "approval topic key",
        SNS_KEY_MANAGEMENT,
        "Publishing to an encrypted topic needs kms:GenerateDataKey* and kms:Decrypt for the publisher.",
        when=("encrypted approval topic",),
        context=_via("sns", **{"kms:EncryptionContext:aws:sns:topicArn": "{topic}"}),
    ),
    RunCall(
        "pipeline.approval.decrypt",
        "pipeline role",
        "kms:Decrypt",
        "approval topic key",
        SNS_KEY_MANAGEMENT,
        "Publishing to an encrypted topic needs kms:GenerateDataKey* and kms:Decrypt for the publisher.",
        when=("encrypted approval topic",),
        context=_via("sns", **{"kms:EncryptionContext:aws:sns:topicArn": "{topic}"}),
    ),
    # --- Each CodeBuild role ----------------------------------------------------------------------
    RunCall(
        "build.logs.create-stream",
        "build role",
        "logs:CreateLogStream",
        "own log streams",
        CODEBUILD_SERVICE_ROLE,
        "CodeBuild creates the build's stream in the project's log group.",
    ),
    RunCall(
        "build.logs.put-events",
        "build role",
        "logs:PutLogEvents",
        "own log streams",
        CODEBUILD_SERVICE_ROLE,
        "CodeBuild writes the build's output to that stream.",
    ),
    RunCall(
        "build.artifacts.download",
        "build role",
        "s3:GetObject",
        "artifact objects",
        CODEBUILD_SERVICE_ROLE,
        "CodeBuild downloads the action's input artifact from the artifact store.",
    ),
    RunCall(
        "build.artifacts.download-version",
        "build role",
        "s3:GetObjectVersion",
        "artifact objects",
        CODEBUILD_SERVICE_ROLE,
        "The documented CodeBuild service role reads object versions of its input.",
    ),
    RunCall(
        "build.artifacts.decrypt",
        "build role",
        "kms:Decrypt",
        "artifact key",
        S3_SSE_KMS,
        "The input artifact is SSE-KMS encrypted: reading it needs kms:Decrypt, asked by S3.",
        when=("encrypted artifacts",),
        context=_THROUGH_S3,
    ),
    *(
        RunCall(
            f"build.artifacts.locate-bucket.{action.split(':')[1]}",
            "build role",
            action,
            "artifact bucket",
            CODEBUILD_SERVICE_ROLE,
            "The documented CodeBuild service role reads these of the bucket it uses.",
        )
        for action in ("s3:GetBucketAcl", "s3:GetBucketLocation")
    ),
    # No output-artifact entries: neither CodeBuild action declares an output artifact (the Build
    # action's unused one was removed). test_every_fact_found_is_covered fails if one comes back.
    RunCall(
        "build.secrets.read",
        "build role",
        "secretsmanager:GetSecretValue",
        "secrets manager variables",
        BUILDSPEC_SECRETS,
        "CodeBuild resolves each SECRETS_MANAGER variable with the service role when the build starts.",
        when=("secrets manager variables",),
    ),
    RunCall(
        "build.secrets.decrypt",
        "build role",
        "kms:Decrypt",
        "stored secret keys",
        SECRETS_MANAGER_KMS,
        "Secrets Manager decrypts the secret's data key with the caller's permission on the secret's key.",
        when=("stored secrets",),
        context=_via("secretsmanager", **{"kms:EncryptionContext:SecretARN": "{secret}"}),
    ),
    RunCall(
        "build.parameters.read",
        "build role",
        "ssm:GetParameters",
        "parameter store variables",
        BUILDSPEC_PARAMETERS,
        "CodeBuild resolves each PARAMETER_STORE variable with the service role when the build starts.",
        when=("parameter store variables",),
    ),
    # Test reports, published by the Build step's build role to the groups its variables name. CodeBuild
    # makes these calls itself, as the service role ("BatchPutTestCases, CreateReport, UpdateReport, and
    # BatchPutCodeCoverages are not public permissions. You cannot call a corresponding AWS CLI command or
    # SDK method for these permissions", TEST_REPORT_PERMISSIONS). No CreateReportGroup: the groups are
    # the stack's, named by ARN.
    *(
        RunCall(
            f"build.test-reports.{action.split(':')[1]}",
            "build role",
            action,
            "test report groups",
            TEST_REPORT_PERMISSIONS,
            "CodeBuild creates a report in the TEST group for each build, adds its test cases and updates it.",
            when=("test reports",),
        )
        for action in ("codebuild:CreateReport", "codebuild:BatchPutTestCases", "codebuild:UpdateReport")
    ),
    *(
        RunCall(
            f"build.coverage-reports.{action.split(':')[1]}",
            "build role",
            action,
            "coverage report groups",
            TEST_REPORT_PERMISSIONS,
            "A code coverage report needs BatchPutCodeCoverages besides the report's create and update.",
            when=("coverage reports",),
        )
        for action in ("codebuild:CreateReport", "codebuild:BatchPutCodeCoverages", "codebuild:UpdateReport")
    ),
    RunCall(
        "build.report-export.upload",
        "build role",
        "s3:PutObject",
        "report export objects",
        REPORT_EXPORT,
        "A group's raw result files are exported to its S3 destination: \"The CodeBuild service role "
        'specified in the project is used for permissions to upload to the S3 bucket."',
        when=("exported reports",),
    ),
    RunCall(
        "build.report-export.encrypt",
        "build role",
        "kms:GenerateDataKey",
        "report export key",
        S3_SSE_KMS,
        "The export encrypts with the group's key: uploading an SSE-KMS object needs kms:GenerateDataKey, "
        "asked by S3 for the uploading role.",
        when=("encrypted report export",),
        context=_THROUGH_S3,
        see=(REPORT_EXPORT,),
    ),
    RunCall(
        "build.step-role.assume",
        "build role",
        "sts:AssumeRole",
        "step role",
        ASSUME_ROLE,
        "The buildspec assumes the step's role; the caller's policy and the role's trust policy must "
        "both allow it, in either account when the role is in another one.",
        when=("step role",),
        see=(CROSS_ACCOUNT,),
    ),
    # --- EventBridge, delivering the failure alert --------------------------------------------------
    RunCall(
        "events.alert.publish",
        "EventBridge",
        "sns:Publish",
        "alert topic",
        EVENTBRIDGE_TO_SNS,
        "The topic policy must let events.amazonaws.com publish; EventBridge names the rule and its "
        "account as aws:SourceArn and aws:SourceAccount.",
        context=_context(**{"aws:SourceArn": "{rule}", "aws:SourceAccount": "{account}"}),
        see=(CONFUSED_DEPUTY,),
    ),
    *(
        RunCall(
            f"events.alert.{action.split(':')[1].lower()}",
            "EventBridge",
            action,
            "alert topic key",
            SNS_FROM_AWS_SERVICES,
            "An AWS service publishing to an encrypted topic needs the key policy to allow it "
            "kms:GenerateDataKey* and kms:Decrypt; the AWS-managed SNS key cannot grant that.",
            when=("encrypted alert topic",),
            see=(CONFUSED_DEPUTY,),
            context=_context(
                **{
                    "aws:SourceArn": "{rule}",
                    "aws:SourceAccount": "{account}",
                    "kms:EncryptionContext:aws:sns:topicArn": "{topic}",
                }
            ),
        )
        for action in ("kms:GenerateDataKey", "kms:Decrypt")
    ),
    # --- CloudWatch Logs, per encrypted log group --------------------------------------------------
    *(
        RunCall(
            f"logs.key.{action.split(':')[1].lower()}",
            "CloudWatch Logs",
            action,
            "log group key",
            LOGS_KMS,
            "CloudWatch Logs encrypts and decrypts an encrypted group's data with its key, naming the "
            "group's ARN as kms:EncryptionContext:aws:logs:arn.",
            context=_context(**{"kms:EncryptionContext:aws:logs:arn": "{log group}"}),
        )
        for action in ("kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt")
    ),
    # --- The assumed step roles, as `pulumi preview` (Build) and `pulumi up` (Deploy) reach the backend ---
    RunCall(
        "step.state.list",
        "step role",
        "s3:ListBucket",
        "state bucket",
        S3_GET_OBJECT,
        "pulumi's S3 backend tells a missing stack file from a forbidden one: with s3:ListBucket S3 "
        "answers GetObject on a missing key with 404, without it with 403.",
        when=("s3 backend",),
        see=(PULUMI_DIY_BACKEND,),
    ),
    RunCall(
        "step.state.read",
        "step role",
        "s3:GetObject",
        "state objects",
        S3_GET_OBJECT,
        "pulumi reads the stack's checkpoint from the backend bucket as the assumed role.",
        when=("s3 backend",),
        see=(PULUMI_DIY_BACKEND,),
    ),
    RunCall(
        "step.state.decrypt",
        "step role",
        "kms:Decrypt",
        "state bucket key",
        S3_SSE_KMS,
        "The state objects are SSE-KMS encrypted: reading them needs kms:Decrypt, asked by S3.",
        when=("encrypted s3 backend",),
        context=_THROUGH_S3,
    ),
    RunCall(
        "step.state.write",
        "step role",
        "s3:PutObject",
        "state objects",
        S3_PUT_OBJECT,
        "pulumi up writes the stack's lock, checkpoint, backup and history objects.",
        when=("s3 backend", "deploy step"),
        see=(PULUMI_DIY_BACKEND,),
    ),
    RunCall(
        "step.state.delete",
        "step role",
        "s3:DeleteObject",
        "state objects",
        S3_DELETE_OBJECT,
        "pulumi up deletes its lock object when the update ends.",
        when=("s3 backend", "deploy step"),
        see=(PULUMI_DIY_BACKEND,),
    ),
    RunCall(
        "step.state.encrypt",
        "step role",
        "kms:GenerateDataKey",
        "state bucket key",
        S3_SSE_KMS,
        "Writing SSE-KMS state objects needs kms:GenerateDataKey, asked by S3.",
        when=("encrypted s3 backend", "deploy step"),
        context=_THROUGH_S3,
    ),
    RunCall(
        "step.secrets.decrypt",
        "step role",
        "kms:Decrypt",
        "secrets provider key",
        KMS_DECRYPT,
        "The awskms:// secrets provider unwraps the stack's data key with KMS Decrypt on every run, as "
        "the caller (no kms:ViaService). Its Encrypt happens once, when a person creates the stack.",
        when=("awskms secrets provider",),
        see=(PULUMI_AWSKMS_SECRETS,),
    ),
)


def run_calls_by_id() -> dict[str, RunCall]:
    """The catalogue keyed by id; ids are unique (a duplicate would hide an entry from the reports)."""
    by_id = {call.id: call for call in RUN_CALLS}
    if len(by_id) != len(RUN_CALLS):
        raise ValueError("RUN_CALLS ids must be unique")
    return by_id
