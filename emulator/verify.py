"""What a deployment must look like, read back through boto3: shared by `make local` and the tests.

Each check reads the emulated account (not the program's inputs) and raises CheckFailedError naming
what it found; names come from the stack outputs and the deployment's state, as an operator's
checks against a real account would.
"""

from __future__ import annotations

import fnmatch
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from botocore.exceptions import BotoCoreError, ClientError
from moto.events.models import EventPattern
from moto.events.utils import EventMessageType, EventTemplateParser

from emulator.lifecycle import Deployment, changes, rerun
from harness.capture import ProgramFailedError
from harness.samples import SAMPLE_EVENTS, SAMPLE_PIPELINE, SAMPLE_REGION

ALERTING_SAMPLE = "pipeline-execution-failed.json"
QUIET_SAMPLES = (
    "pipeline-execution-succeeded.json",
    "pipeline-execution-started.json",
    "other-pipeline-execution-failed.json",
)
# The action rule's: its pipeline's failed action alerts; the run's own events, and a stage's, do not.
ALERTING_ACTION_SAMPLE = "action-execution-failed.json"
QUIET_ACTION_SAMPLES = (
    "pipeline-execution-failed.json",
    "stage-execution-failed.json",
    "pipeline-execution-started.json",
)


class CheckFailedError(Exception):
    """The deployed state is not what it must be."""


ANYONE = "*"


def expect(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailedError(message)


# --- policy reading ----------------------------------------------------------------------------


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def parsed(text: str | dict[str, Any]) -> dict[str, Any]:
    return text if isinstance(text, dict) else cast(dict[str, Any], json.loads(text))


def _principal_matches(statement: dict[str, Any], principal: str | None) -> bool:
    value = statement.get("Principal")
    if principal is None:
        return value is None
    if principal == ANYONE:
        return value in ("*", {"AWS": "*"})
    return isinstance(value, dict) and principal in as_list(value.get("Service", []))


def statements_for(
    document: str | dict[str, Any], effect: str, action: str, resource: str, principal: str | None
) -> list[dict[str, Any]]:
    """The statements with `effect` that cover `action` on `resource` for `principal`.

    `principal` is a service principal, ANYONE for "*", or None for an identity policy's
    statements (which name no principal).
    """
    found = []
    for statement in as_list(parsed(document).get("Statement", [])):
        if statement.get("Effect") != effect or not _principal_matches(statement, principal):
            continue
        actions = [pattern.lower() for pattern in as_list(statement.get("Action", []))]
        resources = as_list(statement.get("Resource", []))
        if any(fnmatch.fnmatchcase(action.lower(), pattern) for pattern in actions) and any(
            fnmatch.fnmatchcase(resource, pattern) for pattern in resources
        ):
            found.append(statement)
    return found


# --- the checks --------------------------------------------------------------------------------


# --- bucket checks, shared by the artifact bucket and the bootstrap's state bucket ---------------


def expect_versioned(deployment: Deployment, bucket: str) -> None:
    status = deployment.client("s3").get_bucket_versioning(Bucket=bucket).get("Status")
    expect(status == "Enabled", f"versioning of {bucket} is {status!r}, not Enabled")


def expect_sse_kms(deployment: Deployment, bucket: str, key_arn: str) -> None:
    answer = deployment.client("s3").get_bucket_encryption(Bucket=bucket)
    rules = answer["ServerSideEncryptionConfiguration"]["Rules"]
    expect(len(rules) == 1, f"expected one encryption rule on {bucket}, found {rules}")
    default = rules[0]["ApplyServerSideEncryptionByDefault"]
    expect(default.get("SSEAlgorithm") == "aws:kms", f"{bucket} encrypts with {default.get('SSEAlgorithm')}")
    expect(
        default.get("KMSMasterKeyID") == key_arn, f"{bucket} uses key {default.get('KMSMasterKeyID')}, not {key_arn}"
    )
    expect(rules[0].get("BucketKeyEnabled") is True, f"{bucket} has no S3 bucket key (every object would call KMS)")


def expect_public_access_blocked(deployment: Deployment, bucket: str) -> None:
    block = deployment.client("s3").get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    off = sorted(name for name, on in block.items() if on is not True)
    expect(len(block) == 4 and not off, f"public access block of {bucket} leaves {off or block} open")


def expect_tls_only(deployment: Deployment, bucket: str) -> None:
    policy = deployment.client("s3").get_bucket_policy(Bucket=bucket)["Policy"]
    for action, resource in (
        ("s3:ListBucket", f"arn:aws:s3:::{bucket}"),
        ("s3:GetObject", f"arn:aws:s3:::{bucket}/artifact.zip"),
        ("s3:PutObject", f"arn:aws:s3:::{bucket}/artifact.zip"),
    ):
        denials = [
            statement
            for statement in statements_for(policy, "Deny", action, resource, ANYONE)
            if statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        expect(denials, f"the policy of {bucket} does not deny {action} without TLS on {resource}: {policy}")


# --- the pipeline's checks ---------------------------------------------------------------------


def bucket_lifecycle(deployment: Deployment) -> str:
    bucket = deployment.outputs["artifactBucket"]
    days = int(deployment.config["cicd-pipeline:artifactExpiryDays"])
    rules = deployment.client("s3").get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    enabled = [rule for rule in rules if rule["Status"] == "Enabled" and rule.get("Filter", {}).get("Prefix", "") == ""]
    expect(len(enabled) == 1, f"expected one enabled whole-bucket lifecycle rule on {bucket}, found {rules}")
    rule = enabled[0]
    expect(
        rule.get("Expiration", {}).get("Days") == days,
        f"artifacts expire after {rule.get('Expiration')}, not {days} days",
    )
    noncurrent = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
    expect(noncurrent == days, f"old versions expire after {noncurrent}, not {days} days")
    abort = rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation")
    expect(abort, "incomplete multipart uploads are never cleaned up")
    return f"artifacts and old versions expire after {days} days, stale uploads after {abort}"


# What the stack exports of each service's pipeline: top-level for a stack without `services`, under
# `services.<name>` for a stack with them (__main__.py). `actionRuleArn` only where alertStates map to
# action states (pipeline/notifications.py).
PIPELINE_OUTPUTS = ("pipelineName", "pipelineArn", "pipelineConsoleUrl", "failureRuleArn", "buildProjectNames")
OPTIONAL_PIPELINE_OUTPUTS = ("actionRuleArn",)


@dataclass(frozen=True)
class ServicePipeline:
    """One service's pipeline as the stack outputs name it ("" for the one pipeline of a stack without services)."""

    service: str
    outputs: dict[str, Any]

    @property
    def label(self) -> str:
        return self.service or "the pipeline"

    @property
    def rule_name(self) -> str:
        """The rule on the execution's state changes."""
        return str(self.outputs["failureRuleArn"]).rpartition("/")[2]

    @property
    def action_rule_name(self) -> str | None:
        """The rule on its actions' state changes, where the stack has one."""
        arn = self.outputs.get("actionRuleArn")
        return None if arn is None else str(arn).rpartition("/")[2]

    @property
    def rule_arns(self) -> list[str]:
        return [str(self.outputs[key]) for key in ("failureRuleArn", "actionRuleArn") if key in self.outputs]

    @property
    def rule_names(self) -> list[str]:
        return [arn.rpartition("/")[2] for arn in self.rule_arns]


def service_pipelines(deployment: Deployment) -> list[ServicePipeline]:
    outputs = deployment.outputs
    if "services" in outputs:
        return [ServicePipeline(name, dict(each)) for name, each in outputs["services"].items()]
    keys = (*PIPELINE_OUTPUTS, *(key for key in OPTIONAL_PIPELINE_OUTPUTS if key in outputs))
    return [ServicePipeline("", {key: outputs[key] for key in keys})]


def build_projects(deployment: Deployment, service: ServicePipeline | None = None) -> list[dict[str, Any]]:
    """The CodeBuild projects of `service` (Build, then Deploy), or of every service in turn."""
    if service is None:
        return [project for each in service_pipelines(deployment) for project in build_projects(deployment, each)]
    names = service.outputs["buildProjectNames"]
    projects = deployment.client("codebuild").batch_get_projects(names=names)["projects"]
    expect(sorted(project["name"] for project in projects) == sorted(names), f"CodeBuild has {projects}, not {names}")
    return sorted(projects, key=lambda project: names.index(project["name"]))


def _pipeline(deployment: Deployment, service: ServicePipeline) -> dict[str, Any]:
    answer = deployment.client("codepipeline").get_pipeline(name=service.outputs["pipelineName"])
    return cast(dict[str, Any], answer["pipeline"])


def role_name_from_arn(arn: str) -> str:
    return arn.rpartition("/")[2]


# GitHub Actions' OIDC issuer: roles for its workflows trust its tokens for this audience only.
GITHUB_TOKENS = "token.actions.githubusercontent.com"


@dataclass(frozen=True)
class Trust:
    """Whom a role must trust, and how exactly."""

    principal: dict[str, str]
    action: str
    condition: Callable[[dict[str, Any]], bool]
    guard: str


def _names_audience_and_subject(condition: dict[str, Any]) -> bool:
    equals = condition.get("StringEquals", {})
    return equals.get(f"{GITHUB_TOKENS}:aud") == "sts.amazonaws.com" and bool(equals.get(f"{GITHUB_TOKENS}:sub"))


def expected_trusts(deployment: Deployment) -> dict[str, Trust]:
    """Each role's expected trust, from who uses it: a CodeBuild project, the pipeline, GitHub Actions."""
    account = deployment.account_id
    guarded = {"StringEquals": {"aws:SourceAccount": account}}
    trusts = {
        role_name_from_arn(project["serviceRole"]): Trust(
            {"Service": "codebuild.amazonaws.com"}, "sts:AssumeRole", guarded.__eq__, "aws:SourceAccount"
        )
        for project in build_projects(deployment)
    }
    for service in service_pipelines(deployment):
        trusts[role_name_from_arn(_pipeline(deployment, service)["roleArn"])] = Trust(
            {"Service": "codepipeline.amazonaws.com"}, "sts:AssumeRole", guarded.__eq__, "aws:SourceAccount"
        )
    if "slackRoleArn" in deployment.outputs:
        # Chatbot documents no confused-deputy key it sends when assuming the channel role (pipeline/chatbot.py).
        trusts[role_name_from_arn(deployment.outputs["slackRoleArn"])] = Trust(
            {"Service": "chatbot.amazonaws.com"}, "sts:AssumeRole", {}.__eq__, "no condition"
        )
    provider = deployment.outputs.get("githubOidcProviderArn")
    for output in ("githubDeployRoleArn", "githubPreviewRoleArn"):
        if output in deployment.outputs:
            trusts[role_name_from_arn(deployment.outputs[output])] = Trust(
                {"Federated": str(provider)},
                "sts:AssumeRoleWithWebIdentity",
                _names_audience_and_subject,
                "the token's audience and subject",
            )
    return trusts


def roles_trust_their_service(deployment: Deployment) -> str:
    iam = deployment.client("iam")
    expected = expected_trusts(deployment)
    deployed = {resource.id for resource in deployment.graph.of_type("aws:iam/role:Role")}
    expect(deployed == set(expected), f"roles {sorted(deployed)} are not exactly those in use, {sorted(expected)}")
    for role_name, trust in expected.items():
        document = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
        statements = as_list(parsed(document)["Statement"])
        expect(len(statements) == 1, f"{role_name} has {len(statements)} trust statements, expected one")
        statement = statements[0]
        expect(
            statement.get("Effect") == "Allow"
            and statement.get("Principal") == trust.principal
            and statement.get("Action") == trust.action,
            f"{role_name} trusts {statement}, not exactly {trust.principal}",
        )
        expect(
            trust.condition(statement.get("Condition", {})),
            f"{role_name} lacks the {trust.guard} guard: {statement.get('Condition')}",
        )
        policies = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
        own = [
            r.outputs["name"]
            for r in deployment.graph.of_type("aws:iam/rolePolicy:RolePolicy")
            if r.inputs["role"] == role_name
        ]
        expect(policies == own and len(own) == 1, f"{role_name} has inline policies {policies}, expected its own {own}")
    return f"{len(expected)} roles, each trusting exactly its principal and carrying its own policy"


def granted(document: str | dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(action, resource) of every Allow statement of an identity policy."""
    for statement in as_list(parsed(document).get("Statement", [])):
        if statement.get("Effect") == "Allow":
            for action in as_list(statement.get("Action", [])):
                for resource in as_list(statement.get("Resource", [])):
                    yield action, resource


def service_roles_within_the_boundary(deployment: Deployment) -> str:
    iam = deployment.client("iam")
    boundary = deployment.outputs["permissionsBoundaryArn"]
    version = iam.get_policy(PolicyArn=boundary)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=boundary, VersionId=version)["PolicyVersion"]["Document"]
    wildcards = sorted({action for action, _ in granted(document) if action == "*" or action.endswith(":*")})
    expect(not wildcards, f"the boundary {boundary} allows wildcard actions {wildcards}")
    service_roles = [name for name, trust in expected_trusts(deployment).items() if "Service" in trust.principal]
    for role_name in service_roles:
        carried = iam.get_role(RoleName=role_name)["Role"].get("PermissionsBoundary", {})
        expect(
            carried.get("PermissionsBoundaryArn") == boundary,
            f"{role_name} carries the permissions boundary {carried or 'none'}, not {boundary}",
        )
        for policy_name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
            own = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
            capped = [
                f"{action} on {resource}"
                for action, resource in granted(own)
                if not statements_for(document, "Allow", action, resource, principal=None)
            ]
            expect(not capped, f"the boundary cuts what {role_name}'s policy {policy_name} grants: {capped}")
    return f"{len(service_roles)} service roles carry the boundary, which allows all they are granted"


def projects_use_their_role_and_logs(deployment: Deployment) -> str:
    iam, logs = deployment.client("iam"), deployment.client("logs")
    for project in build_projects(deployment):
        role_name = role_name_from_arn(project["serviceRole"])
        iam.get_role(RoleName=role_name)
        cloudwatch = project.get("logsConfig", {}).get("cloudWatchLogs", {})
        expect(cloudwatch.get("status") == "ENABLED", f"{project['name']} does not log to CloudWatch: {cloudwatch}")
        group = cloudwatch.get("groupName", "")
        found = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        matching = [candidate for candidate in found if candidate["logGroupName"] == group]
        expect(matching, f"{project['name']} logs to {group!r}, which does not exist")
        stream_arn = f"{matching[0]['logGroupArn']}:log-stream:build-1"
        (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
        document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
        expect(
            statements_for(document, "Allow", "logs:PutLogEvents", stream_arn, principal=None),
            f"{role_name} may not write {project['name']}'s log streams in {group}",
        )
    return "each project runs as its own role and writes to its own log group"


def _configured_services(deployment: Deployment) -> dict[str, dict[str, Any]]:
    """The `services` of the stack's config by name (empty without the key)."""
    configured = json.loads(deployment.config.get("cicd-pipeline:services", "[]"))
    return {str(each["name"]): each for each in configured}


def _expected_trigger(deployment: Deployment, service: ServicePipeline) -> dict[str, Any]:
    """The push filter the config asks for: the service's branch (or the stack's), and its paths if any."""
    configured = _configured_services(deployment).get(service.service, {})
    branch = configured.get("branch") or deployment.config.get("cicd-pipeline:branch", "main")
    push: dict[str, Any] = {"branches": {"includes": [branch]}}
    if configured.get("paths"):
        push["filePaths"] = {"includes": list(configured["paths"])}
    return push


def pipeline_wiring(deployment: Deployment) -> str:
    outputs, described = deployment.outputs, []
    for service in service_pipelines(deployment):
        pipeline = _pipeline(deployment, service)
        expect(pipeline.get("pipelineType") == "V2", f"{service.label} is {pipeline.get('pipelineType')}, not V2")
        store = pipeline["artifactStore"]
        expect(store["location"] == outputs["artifactBucket"], f"artifacts go to {store['location']}, not the bucket")
        expect(
            store.get("encryptionKey") == {"id": outputs["kmsKeyArn"], "type": "KMS"},
            f"artifacts are encrypted with {store.get('encryptionKey')}, not the stack's key",
        )
        build_actions = [
            (stage["name"], action["configuration"].get("ProjectName"))
            for stage in pipeline["stages"]
            for action in stage["actions"]
            if action["actionTypeId"]["provider"] == "CodeBuild"
        ]
        expected = list(zip(("Build", "Deploy"), service.outputs["buildProjectNames"], strict=True))
        expect(build_actions == expected, f"{service.label}'s CodeBuild actions run {build_actions}, not {expected}")
        build_projects(deployment, service)  # the names are those of real projects
        if deployment.config.get("cicd-pipeline:sourceType", "codestar") == "codestar":
            (trigger,) = pipeline.get("triggers") or [{}]
            pushes = trigger.get("gitConfiguration", {}).get("push")
            wanted = _expected_trigger(deployment, service)
            expect(pushes == [wanted], f"{service.label} starts on pushes {pushes}, not {[wanted]}")
        described.append(f"{pipeline['name']} runs {[name for _, name in expected]}")
    return f"V2, artifacts in {outputs['artifactBucket']} under the stack's key; " + "; ".join(described)


def alert_topics(deployment: Deployment) -> list[str]:
    """The topics every alert rule delivers to: the e-mail's, and Slack's where the stack has it."""
    return [str(deployment.outputs[key]) for key in ("alertTopicArn", "slackTopicArn") if key in deployment.outputs]


def all_rule_arns(deployment: Deployment) -> list[str]:
    return sorted(arn for service in service_pipelines(deployment) for arn in service.rule_arns)


def failure_rule_targets_topic(deployment: Deployment) -> str:
    events = deployment.client("events")
    topics = alert_topics(deployment)
    rules = [name for service in service_pipelines(deployment) for name in service.rule_names]
    for rule in rules:
        state = events.describe_rule(Name=rule)["State"]
        expect(state == "ENABLED", f"rule {rule} is {state}")
        targets = events.list_targets_by_rule(Rule=rule)["Targets"]
        arns = sorted(target["Arn"] for target in targets)
        expect(
            arns == sorted(topics),
            f"rule {rule} targets {arns}, not only the alert topic"
            + (" and the Slack topic" if len(topics) > 1 else ""),
        )
    only = "its only target is the alert topic" if len(topics) == 1 else "its targets are the alert and Slack topics"
    return "; ".join(f"{rule} is enabled and {only}" for rule in rules)


def sample_event(deployment: Deployment, file_name: str, service: ServicePipeline) -> EventMessageType:
    """A sample event (tests/fixtures/events) as `service`'s pipeline would emit it (its name, region and account)."""
    text = (SAMPLE_EVENTS / file_name).read_text(encoding="utf-8")
    text = text.replace(SAMPLE_PIPELINE, service.outputs["pipelineName"]).replace(SAMPLE_REGION, deployment.region)
    event = cast(EventMessageType, json.loads(text))
    event["account"] = deployment.account_id
    return event


def _expect_fires_on_its_own(
    deployment: Deployment,
    services: list[ServicePipeline],
    *,
    rule: str,
    service: ServicePipeline,
    alerting: str,
    quiet: tuple[str, ...],
) -> None:
    described = deployment.client("events").describe_rule(Name=rule)["EventPattern"]
    pattern = EventPattern.load(described)
    expect(pattern.matches_event(sample_event(deployment, alerting, service)), f"{rule} misses {alerting}")
    matched = [name for name in quiet if pattern.matches_event(sample_event(deployment, name, service))]
    expect(not matched, f"{rule} also fires on {matched}")
    others = [
        other.label
        for other in services
        if other != service and pattern.matches_event(sample_event(deployment, alerting, other))
    ]
    expect(not others, f"{rule} also fires on the failures of {others}")


def failure_pattern_matches_samples(deployment: Deployment) -> str:
    """Each rule fires on its own pipeline's failure, not on the quiet samples, nor on another service's failure:
    the execution rule on the failed run, the action rule on the failed action."""
    services = service_pipelines(deployment)
    for service in services:
        _expect_fires_on_its_own(
            deployment, services, rule=service.rule_name, service=service, alerting=ALERTING_SAMPLE, quiet=QUIET_SAMPLES
        )
        if service.action_rule_name is not None:
            _expect_fires_on_its_own(
                deployment,
                services,
                rule=service.action_rule_name,
                service=service,
                alerting=ALERTING_ACTION_SAMPLE,
                quiet=QUIET_ACTION_SAMPLES,
            )
    return (
        f"each execution rule fires on {ALERTING_SAMPLE} of its own pipeline only, not on {', '.join(QUIET_SAMPLES)}; "
        f"each action rule on {ALERTING_ACTION_SAMPLE} only"
    )


def render_alert(
    deployment: Deployment,
    event: EventMessageType,
    service: ServicePipeline,
    *,
    rule: str | None = None,
    topic: str | None = None,
) -> Any:
    """The message EventBridge would hand `topic` (the alert topic) for `event`, through the target of `rule`
    (the service's execution rule) that delivers to it, rendered by its input transformer."""
    rule, topic = rule or service.rule_name, topic or str(deployment.outputs["alertTopicArn"])
    targets = deployment.client("events").list_targets_by_rule(Rule=rule)["Targets"]
    (target,) = [each for each in targets if each["Arn"] == topic]
    transformer = target["InputTransformer"]
    # EventBridge stamps every event on arrival; moto's renderer reads the stamp.
    stamped = cast(EventMessageType, {**event, "ingestion-time": event["time"]})
    return EventTemplateParser.parse(transformer["InputTemplate"], transformer.get("InputPathsMap", {}), stamped)


def _execution_link(deployment: Deployment, event: EventMessageType) -> str:
    pipeline, execution, region = event["detail"]["pipeline"], event["detail"]["execution-id"], deployment.region
    return (
        f"https://{region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{pipeline}"
        f"/executions/{execution}/timeline?region={region}"
    )


def alert_message(deployment: Deployment) -> str:
    """The e-mail of a failed run names pipeline, state and execution link; of a failed action, also its stage,
    action and log."""
    messages = []
    for service in service_pipelines(deployment):
        event = sample_event(deployment, ALERTING_SAMPLE, service)
        message = render_alert(deployment, event, service)
        expect(isinstance(message, str), f"the alert is {message!r}, not a text message")
        for needed in (event["detail"]["pipeline"], "FAILED", _execution_link(deployment, event)):
            expect(needed in message, f"the alert does not contain {needed!r}: {message!r}")
        messages.append(message)
        if service.action_rule_name is not None:
            failed = sample_event(deployment, ALERTING_ACTION_SAMPLE, service)
            action_message = render_alert(deployment, failed, service, rule=service.action_rule_name)
            detail = failed["detail"]
            needed_in_action = (
                detail["pipeline"], f"action {detail['action']} in stage {detail['stage']}", "FAILED",
                detail["execution-result"]["external-execution-url"], _execution_link(deployment, failed),
            )  # fmt: skip
            for needed in needed_in_action:
                expect(needed in action_message, f"the action alert does not contain {needed!r}: {action_message!r}")
            messages.append(action_message)
    return "renders: " + " | ".join(messages)


def _publishers(deployment: Deployment, topic: str) -> list[list[str]]:
    """The rules each of `topic`'s statements lets EventBridge publish for."""
    attributes = deployment.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    allowed = statements_for(attributes["Policy"], "Allow", "sns:Publish", topic, principal="events.amazonaws.com")
    expect(allowed, f"the topic policy does not let events.amazonaws.com publish: {attributes['Policy']}")
    return [
        sorted(as_list(statement.get("Condition", {}).get("ArnEquals", {}).get("aws:SourceArn", [])))
        for statement in allowed
    ]


def topic_accepts_events(deployment: Deployment) -> str:
    """The topic's one policy lets EventBridge publish for every alert rule of the stack, and only for them."""
    rule_arns = all_rule_arns(deployment)
    sources = _publishers(deployment, deployment.outputs["alertTopicArn"])
    expect(
        sources == [rule_arns],
        f"the topic lets EventBridge publish for {sources}, not exactly for the failure rules {rule_arns}",
    )
    return f"events.amazonaws.com may publish, for the {len(rule_arns)} alert rule(s) only"


def key_serves_events(deployment: Deployment) -> str:
    topic, key_arn = deployment.outputs["alertTopicArn"], deployment.outputs["kmsKeyArn"]
    attributes = deployment.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    expect(
        attributes.get("KmsMasterKeyId") == key_arn, f"the topic is encrypted with {attributes.get('KmsMasterKeyId')}"
    )
    policy = deployment.client("kms").get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        expect(
            statements_for(policy, "Allow", action, "*", principal="events.amazonaws.com"),
            f"the key policy does not let events.amazonaws.com {action}",
        )
    return "the topic uses the stack's key, and the key lets EventBridge encrypt for it"


# AWS Chatbot's custom notification, the fields it requires and their fixed values:
# https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html ("Event schema").
CHATBOT_FIXED_FIELDS = {"version": "1.0", "source": "custom"}


def slack_channel(deployment: Deployment) -> str:
    """With Slack on: its topic under the stack's key, its one policy naming every alert rule, and each rule's
    Slack target rendering Chatbot's custom-notification format. The Chatbot configuration itself is a
    placeholder (moto has no Chatbot): its request was only validated against botocore's model."""
    topic = deployment.outputs.get("slackTopicArn")
    if topic is None:
        return "no Slack channel configured (slackWorkspaceId, slackChannelId)"
    attributes = deployment.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    key = deployment.outputs["kmsKeyArn"]
    expect(
        attributes.get("KmsMasterKeyId") == key, f"the Slack topic is encrypted with {attributes.get('KmsMasterKeyId')}"
    )
    rule_arns = all_rule_arns(deployment)
    sources = _publishers(deployment, topic)
    expect(sources == [rule_arns], f"the Slack topic lets EventBridge publish for {sources}, not for {rule_arns}")
    rendered = 0
    for service in service_pipelines(deployment):
        kinds = [(service.rule_name, ALERTING_SAMPLE), (service.action_rule_name, ALERTING_ACTION_SAMPLE)]
        for rule, sample in ((rule, sample) for rule, sample in kinds if rule is not None):
            message = render_alert(
                deployment, sample_event(deployment, sample, service), service, rule=rule, topic=topic
            )
            expect(isinstance(message, dict), f"{rule} hands Slack {message!r}, not a Chatbot notification")
            fixed = {field: message.get(field) for field in CHATBOT_FIXED_FIELDS}
            expect(fixed == CHATBOT_FIXED_FIELDS, f"{rule} hands Slack {fixed}, not {CHATBOT_FIXED_FIELDS}")
            description = message.get("content", {}).get("description")
            expect(isinstance(description, str), f"{rule} hands Slack no content.description: {message!r}")
            expect("<" not in json.dumps(message), f"{rule} leaves a placeholder in {message!r}")
            rendered += 1
    return f"{rendered} rule(s) hand the Slack topic Chatbot notifications; the topic accepts exactly them"


def second_run_changes_nothing(deployment: Deployment) -> str:
    try:
        second = rerun(deployment)
    except ProgramFailedError as failure:
        raise CheckFailedError(f"a second run of the program fails: {failure}") from failure
    found = changes(deployment.graph, second)
    expect(not found, "a second run of the program would change: " + "; ".join(found))
    return f"all {len(deployment.graph.resources)} resources get identical inputs"


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    run: Callable[[Deployment], str]


@dataclass(frozen=True)
class GuardedBucket:
    """A bucket the stack makes private, versioned, SSE-KMS encrypted and TLS-only (pipeline/artifacts.py
    `guard_bucket`), as its checks name it: `<check_prefix>-versioning`, `<label> is versioned` and so on."""

    check_prefix: str
    label: str
    bucket_output: str
    key_output: str
    # What the encryption check's result calls the key ("the stack's key").
    key_label: str
    encryption_description: str
    # What follows "<bucket> is versioned" in the versioning check's result.
    versioned_note: str = ""


def bucket_guard_checks(guarded: GuardedBucket) -> tuple[Check, ...]:
    """The four checks of a guarded bucket: the pipeline's artifact bucket, the bootstrap's state bucket."""

    def versioning(deployment: Deployment) -> str:
        bucket = deployment.outputs[guarded.bucket_output]
        expect_versioned(deployment, bucket)
        return f"{bucket} is versioned{guarded.versioned_note}"

    def encryption(deployment: Deployment) -> str:
        expect_sse_kms(deployment, deployment.outputs[guarded.bucket_output], deployment.outputs[guarded.key_output])
        return f"SSE-KMS with {guarded.key_label} and a bucket key"

    def public_access_block(deployment: Deployment) -> str:
        expect_public_access_blocked(deployment, deployment.outputs[guarded.bucket_output])
        return "all four public access blocks on"

    def tls_only(deployment: Deployment) -> str:
        expect_tls_only(deployment, deployment.outputs[guarded.bucket_output])
        return "requests without TLS are denied on the bucket and its objects"

    prefix, label = guarded.check_prefix, guarded.label
    return (
        Check(f"{prefix}-versioning", f"{label} is versioned", versioning),
        Check(f"{prefix}-encryption", guarded.encryption_description, encryption),
        Check(f"{prefix}-public-access", f"{label} blocks public access", public_access_block),
        Check(f"{prefix}-tls-only", f"{label} policy is TLS-only", tls_only),
    )


CHECKS = (
    *bucket_guard_checks(
        GuardedBucket(
            check_prefix="bucket",
            label="artifact bucket",
            bucket_output="artifactBucket",
            key_output="kmsKeyArn",
            key_label="the stack's key",
            encryption_description="artifact bucket: SSE-KMS with the stack's key and bucket key",
        )
    ),
    Check("bucket-lifecycle", "artifact bucket lifecycle", bucket_lifecycle),
    Check("roles", "each role trusts exactly its service (or GitHub) and has its policy", roles_trust_their_service),
    Check("boundary", "each service role carries the stack's permissions boundary", service_roles_within_the_boundary),
    Check("projects", "each CodeBuild project uses its role and log group", projects_use_their_role_and_logs),
    Check("pipeline", "pipeline: V2, artifact store and key, real project names", pipeline_wiring),
    Check(
        "failure-rule",
        "alert rules (execution, action) exist and target only the alert topic (and Slack's)",
        failure_rule_targets_topic,
    ),
    Check("failure-pattern", "alert rules' patterns against the sample events", failure_pattern_matches_samples),
    Check(
        "alert-message", "alert messages (failed run, failed action) rendered by the input transformer", alert_message
    ),
    Check("topic-policy", "topic policy lets EventBridge publish", topic_accepts_events),
    Check("key-policy", "topic key lets EventBridge use it", key_serves_events),
    Check("slack", "Slack topic, its policy and Chatbot notifications (with Slack on)", slack_channel),
    Check("second-run", "a second run changes nothing (deterministic inputs)", second_run_changes_nothing),
)


@dataclass(frozen=True)
class Result:
    check: Check
    status: str  # "ok" or "failed"
    detail: str
    milliseconds: float


def verify(deployment: Deployment, checks: tuple[Check, ...] = CHECKS) -> list[Result]:
    """Run every check; a failure is recorded, not raised, so that all of them report."""
    return list(_run_all(deployment, checks))


def _run_all(deployment: Deployment, checks: tuple[Check, ...]) -> Iterator[Result]:
    for check in checks:
        started = time.perf_counter()
        try:
            status, detail = "ok", check.run(deployment)
        except (CheckFailedError, ClientError, BotoCoreError, KeyError) as error:
            status, detail = "failed", f"{type(error).__name__}: {error}"
        yield Result(check, status, detail, (time.perf_counter() - started) * 1000)


def failures(results: list[Result]) -> list[str]:
    return [f"{result.check.name}: {result.detail}" for result in results if result.status == "failed"]
