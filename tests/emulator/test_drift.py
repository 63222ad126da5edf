"""Every check of emulator/verify.py fails when the deployed state is changed behind its back.

Each case sees the check pass on a deployment of dev, breaks what it checks through boto3 (or, for
the second-run check, makes the program's inputs change between runs), and sees it fail with a
message naming what is wrong. Deploying costs far more than a case, so the cases of one stack share
one deployment: each breakage returns how to put back what it changed, and after the undo every check
must pass again, so that a drift left behind cannot hide (or fake) the next case's. A case that fails
throws its deployment away, and the next case deploys afresh.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

import pipeline.build
from emulator.lifecycle import Deployment
from emulator.resources import default_topic_policy
from emulator.verify import CHECKS, Check, ServicePipeline, service_pipelines, verify
from tests.emulator.conftest import deployed

pytestmark = [pytest.mark.emulator]

# Puts back what a breakage changed.
Undo = Callable[[], None]
Breakage = Callable[[Deployment, pytest.MonkeyPatch], Undo]


def _bucket(deployment: Deployment) -> str:
    return str(deployment.outputs["artifactBucket"])


def _rule(deployment: Deployment) -> str:
    return str(deployment.outputs["failureRuleArn"]).rpartition("/")[2]


def _put_back_rule_pattern(deployment: Deployment, rule: str) -> Undo:
    """How to put back the event pattern `rule` has now."""
    events = deployment.client("events")
    pattern = events.describe_rule(Name=rule)["EventPattern"]
    return lambda: events.put_rule(Name=rule, EventPattern=pattern)


def _put_back_targets(deployment: Deployment, rule: str) -> Undo:
    """How to put back the targets `rule` has now."""
    events = deployment.client("events")
    targets = events.list_targets_by_rule(Rule=rule)["Targets"]
    return lambda: events.put_targets(Rule=rule, Targets=targets)


def _put_back_topic_policy(deployment: Deployment, topic: str) -> Undo:
    sns = deployment.client("sns")
    policy = sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]
    return lambda: sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy)


def _put_back_pipeline(deployment: Deployment, name: str) -> Undo:
    codepipeline = deployment.client("codepipeline")
    declaration = copy.deepcopy(codepipeline.get_pipeline(name=name)["pipeline"])
    return lambda: codepipeline.update_pipeline(pipeline=declaration)


def suspend_versioning(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    s3, bucket = deployment.client("s3"), _bucket(deployment)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    return lambda: s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def drop_bucket_key(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    s3, bucket = deployment.client("s3"), _bucket(deployment)
    deployed_encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": deployment.outputs["kmsKeyArn"]}
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": False}]
        },
    )
    return lambda: s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=deployed_encryption)


def allow_public_buckets(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    s3 = deployment.client("s3")
    block = s3.get_public_access_block(Bucket=_bucket(deployment))["PublicAccessBlockConfiguration"]
    s3.put_public_access_block(
        Bucket=_bucket(deployment), PublicAccessBlockConfiguration={**block, "RestrictPublicBuckets": False}
    )
    return lambda: s3.put_public_access_block(Bucket=_bucket(deployment), PublicAccessBlockConfiguration=block)


def allow_plain_http(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    s3 = deployment.client("s3")
    deployed_policy = s3.get_bucket_policy(Bucket=_bucket(deployment))["Policy"]
    policy = json.loads(deployed_policy)
    for statement in policy["Statement"]:
        statement.pop("Condition")
        statement["Effect"] = "Allow"
    s3.put_bucket_policy(Bucket=_bucket(deployment), Policy=json.dumps(policy))
    return lambda: s3.put_bucket_policy(Bucket=_bucket(deployment), Policy=deployed_policy)


def keep_old_versions(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    s3 = deployment.client("s3")
    rules = s3.get_bucket_lifecycle_configuration(Bucket=_bucket(deployment))["Rules"]
    deployed_rules = copy.deepcopy(rules)
    for rule in rules:
        rule.pop("NoncurrentVersionExpiration")
    s3.put_bucket_lifecycle_configuration(Bucket=_bucket(deployment), LifecycleConfiguration={"Rules": rules})
    return lambda: s3.put_bucket_lifecycle_configuration(
        Bucket=_bucket(deployment), LifecycleConfiguration={"Rules": deployed_rules}
    )


def trust_a_second_service(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    iam = deployment.client("iam")
    role = deployment.graph.one("aws:iam/role:Role", "build").id
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    deployed_trust = json.dumps(trust)
    trust["Statement"][0]["Principal"]["Service"] = ["codebuild.amazonaws.com", "lambda.amazonaws.com"]
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))
    return lambda: iam.update_assume_role_policy(RoleName=role, PolicyDocument=deployed_trust)


def lift_the_boundary(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    iam, role = deployment.client("iam"), deployment.graph.one("aws:iam/role:Role", "build").id
    boundary = iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"]
    iam.delete_role_permissions_boundary(RoleName=role)
    return lambda: iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=boundary)


def delete_build_logs(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    logs, name = deployment.client("logs"), deployment.graph.one("aws:cloudwatch/logGroup:LogGroup", "build").id
    (group,) = [
        group
        for group in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        if group["logGroupName"] == name
    ]
    tags = logs.list_tags_log_group(logGroupName=name).get("tags", {})
    logs.delete_log_group(logGroupName=name)

    def recreate() -> None:
        logs.create_log_group(
            logGroupName=name,
            **({"kmsKeyId": group["kmsKeyId"]} if "kmsKeyId" in group else {}),
            **({"tags": tags} if tags else {}),
        )
        if "retentionInDays" in group:
            logs.put_retention_policy(logGroupName=name, retentionInDays=group["retentionInDays"])

    return recreate


def swap_build_and_deploy(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    codepipeline = deployment.client("codepipeline")
    undo = _put_back_pipeline(deployment, deployment.outputs["pipelineName"])
    declaration = codepipeline.get_pipeline(name=deployment.outputs["pipelineName"])["pipeline"]
    build, deploy = deployment.outputs["buildProjectNames"]
    for stage in declaration["stages"]:
        for action in stage["actions"]:
            if action["configuration"].get("ProjectName") in (build, deploy):
                action["configuration"]["ProjectName"] = deploy if stage["name"] == "Build" else build
    codepipeline.update_pipeline(pipeline=declaration)
    return undo


def add_a_second_target(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    sns, events = deployment.client("sns"), deployment.client("events")
    extra = sns.create_topic(Name="someone-elses-topic")["TopicArn"]
    events.put_targets(Rule=_rule(deployment), Targets=[{"Id": "extra", "Arn": extra}])

    def undo() -> None:
        events.remove_targets(Rule=_rule(deployment), Ids=["extra"])
        sns.delete_topic(TopicArn=extra)

    return undo


def alert_on_success_too(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    events = deployment.client("events")
    undo = _put_back_rule_pattern(deployment, _rule(deployment))
    pattern = json.loads(events.describe_rule(Name=_rule(deployment))["EventPattern"])
    pattern["detail"]["state"].append("SUCCEEDED")
    events.put_rule(Name=_rule(deployment), EventPattern=json.dumps(pattern))
    return undo


def drop_the_link(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    events = deployment.client("events")
    undo = _put_back_targets(deployment, _rule(deployment))
    (target,) = events.list_targets_by_rule(Rule=_rule(deployment))["Targets"]
    target["InputTransformer"]["InputTemplate"] = '"CodePipeline <pipeline> entered state <state>"'
    events.put_targets(Rule=_rule(deployment), Targets=[target])
    return undo


def reset_topic_policy(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    topic = deployment.outputs["alertTopicArn"]
    undo = _put_back_topic_policy(deployment, topic)
    policy = default_topic_policy(topic, deployment.emulator.account_id(deployment.region))
    deployment.client("sns").set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy)
    return undo


def forget_eventbridge_in_key_policy(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    kms = deployment.client("kms")
    key = deployment.outputs["kmsKeyArn"]
    deployed_policy = kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]
    policy = json.loads(deployed_policy)
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != "AllowEventBridgeToPublishToEncryptedTopic"]
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))
    return lambda: kms.put_key_policy(KeyId=key, PolicyName="default", Policy=deployed_policy)


def hand_slack_the_email_text(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    """Slack's target writes the e-mail's plain text, which Chatbot would not show."""
    events, slack = deployment.client("events"), deployment.outputs["slackTopicArn"]
    undo = _put_back_targets(deployment, _rule(deployment))
    (target,) = [t for t in events.list_targets_by_rule(Rule=_rule(deployment))["Targets"] if t["Arn"] == slack]
    target["InputTransformer"]["InputTemplate"] = '"CodePipeline <pipeline> entered state <state>"'
    events.put_targets(Rule=_rule(deployment), Targets=[target])
    return undo


def stamp_the_buildspec(_: Deployment, monkeypatch: pytest.MonkeyPatch) -> Undo:
    read = pipeline.build.read_buildspec
    monkeypatch.setattr(pipeline.build, "read_buildspec", lambda name: f"# {time.time_ns()}\n{read(name)}")
    return monkeypatch.undo


DRIFTS: dict[str, tuple[Breakage, str]] = {
    "bucket-versioning": (suspend_versioning, "'Suspended', not Enabled"),
    "bucket-encryption": (drop_bucket_key, "has no S3 bucket key"),
    "bucket-public-access": (allow_public_buckets, "leaves ['RestrictPublicBuckets'] open"),
    "bucket-tls-only": (allow_plain_http, "does not deny s3:ListBucket without TLS"),
    "bucket-lifecycle": (keep_old_versions, "old versions expire after None"),
    "roles": (trust_a_second_service, "not exactly {'Service': 'codebuild.amazonaws.com'}"),
    "boundary": (lift_the_boundary, "carries the permissions boundary none, not arn:aws:iam::"),
    "projects": (delete_build_logs, "which does not exist"),
    "pipeline": (swap_build_and_deploy, "CodeBuild actions run"),
    "failure-rule": (add_a_second_target, "not only the alert topic"),
    "failure-pattern": (alert_on_success_too, "also fires on ['pipeline-execution-succeeded.json']"),
    "alert-message": (drop_the_link, "does not contain 'https://eu-west-1.console.aws.amazon.com"),
    "topic-policy": (reset_topic_policy, "does not let events.amazonaws.com publish"),
    "key-policy": (forget_eventbridge_in_key_policy, "does not let events.amazonaws.com kms:GenerateDataKey"),
    "slack": (hand_slack_the_email_text, "not a Chatbot notification"),
    "second-run": (stamp_the_buildspec, "would change: ~ urn:pulumi:dev::cicd-pipeline::cicd:codebuild:BuildProject"),
}


def test_every_check_has_a_drift_that_breaks_it() -> None:
    assert set(DRIFTS) == {check.name for check in CHECKS}


# What a check needs switched on to have something to check.
SLACK_ON = {"slackWorkspaceId": "T07EA123LEP", "slackChannelId": "C07EZ1ABC23"}
CHECK_OVERRIDES: dict[str, dict[str, str]] = {"slack": SLACK_ON}


class SharedDeployments:
    """One deployment at a time, kept for the next case that asks for the same stack and overrides.

    Only one in-process emulator can run at a time, so asking for another stack replaces it.
    """

    def __init__(self) -> None:
        self._key: tuple[str, str] | None = None
        self._deployment: Deployment | None = None
        self._emulator = ExitStack()

    def get(self, stack: str, overrides: dict[str, str] | None) -> Deployment:
        key = (stack, json.dumps(overrides, sort_keys=True))
        if self._deployment is None or key != self._key:
            self.retire()
            self._deployment = self._emulator.enter_context(deployed(stack, overrides=overrides))
            self._key = key
        return self._deployment

    def retire(self) -> None:
        """Throw the deployment away once every check passes on it: no case left a drift behind."""
        if self._deployment is not None:
            failures = [f"{r.check.name}: {r.detail}" for r in verify(self._deployment) if r.status != "ok"]
            assert failures == [], f"a drift case left its drift behind: {failures}"
        self.discard()

    def discard(self) -> None:
        self._emulator.close()
        self._deployment, self._key = None, None


@pytest.fixture(scope="module")
def deployments() -> Iterator[SharedDeployments]:
    shared = SharedDeployments()
    yield shared
    shared.retire()


def expect_the_check_to_catch(
    deployments: SharedDeployments,
    stack: str,
    check: Check,
    drift: tuple[Breakage, str],
    monkeypatch: pytest.MonkeyPatch,
    *,
    overrides: dict[str, str] | None = None,
) -> None:
    """`check` passes on an undrifted deployment of `stack`, fails with the drift's complaint once it is
    applied, and passes again once the drift is undone, so the deployment can serve the next case (every
    check runs on it once more before it is thrown away: SharedDeployments.retire). A case that fails
    anywhere throws the deployment away at once."""
    breakage, complaint = drift
    try:
        deployment = deployments.get(stack, overrides)
        (before,) = verify(deployment, (check,))
        assert before.status == "ok", before.detail
        undo = breakage(deployment, monkeypatch)
        (after,) = verify(deployment, (check,))

        assert after.status == "failed"
        assert complaint in after.detail

        undo()
        (again,) = verify(deployment, (check,))
        assert again.status == "ok", again.detail
    except BaseException:
        deployments.discard()
        raise


def _named(name: str) -> Check:
    (check,) = (check for check in CHECKS if check.name == name)
    return check


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.name)
def test_the_check_fails_once_the_state_drifts(
    deployments: SharedDeployments, check: Check, monkeypatch: pytest.MonkeyPatch
) -> None:
    expect_the_check_to_catch(
        deployments, "dev", check, DRIFTS[check.name], monkeypatch, overrides=CHECK_OVERRIDES.get(check.name)
    )


# --- The action rule: what only it can get wrong -------------------------------------------------------


def _action_rule(deployment: Deployment) -> str:
    return str(deployment.outputs["actionRuleArn"]).rpartition("/")[2]


def alert_on_stage_failures_too(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    events = deployment.client("events")
    undo = _put_back_rule_pattern(deployment, _action_rule(deployment))
    pattern = json.loads(events.describe_rule(Name=_action_rule(deployment))["EventPattern"])
    pattern["detail-type"].append("CodePipeline Stage Execution State Change")
    events.put_rule(Name=_action_rule(deployment), EventPattern=json.dumps(pattern))
    return undo


def drop_the_log_link(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    events, topic = deployment.client("events"), deployment.outputs["alertTopicArn"]
    undo = _put_back_targets(deployment, _action_rule(deployment))
    (target,) = [t for t in events.list_targets_by_rule(Rule=_action_rule(deployment))["Targets"] if t["Arn"] == topic]
    target["InputTransformer"]["InputTemplate"] = (
        '"CodePipeline <pipeline>: action <action> in stage <stage> entered state <state>"'
    )
    events.put_targets(Rule=_action_rule(deployment), Targets=[target])
    return undo


def let_only_one_rule_publish(deployment: Deployment, rule_arn: str) -> Undo:
    """The alert topic's policy lets `rule_arn` alone publish, not every alert rule of the stack."""
    sns, topic = deployment.client("sns"), deployment.outputs["alertTopicArn"]
    undo = _put_back_topic_policy(deployment, topic)
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    for statement in policy["Statement"]:
        if statement["Sid"] == "AllowFailureRuleToPublish":
            statement["Condition"]["ArnEquals"]["aws:SourceArn"] = rule_arn
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
    return undo


def let_only_the_execution_rule_publish(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    """The policy of a stack before action alerts: the action rule's e-mails would be refused."""
    return let_only_one_rule_publish(deployment, deployment.outputs["failureRuleArn"])


ACTION_DRIFTS: dict[str, tuple[Breakage, str]] = {
    "failure-pattern": (alert_on_stage_failures_too, "also fires on ['stage-execution-failed.json']"),
    "alert-message": (drop_the_log_link, "the action alert does not contain 'https://console.aws.amazon.com/codebuild"),
    "topic-policy": (let_only_the_execution_rule_publish, "not exactly for the failure rules"),
}


@pytest.mark.parametrize("name", ACTION_DRIFTS)
def test_the_check_fails_once_the_action_rule_drifts(
    deployments: SharedDeployments, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expect_the_check_to_catch(deployments, "dev", _named(name), ACTION_DRIFTS[name], monkeypatch)


# --- Several services in one stack (Pulumi.platform.yaml): what only a stack of many pipelines can get wrong


def _service(deployment: Deployment, name: str) -> ServicePipeline:
    return next(service for service in service_pipelines(deployment) if service.service == name)


def trigger_on_every_path(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    """The api pipeline of the monorepo loses its path filter: it would start on the worker's changes too."""
    codepipeline = deployment.client("codepipeline")
    undo = _put_back_pipeline(deployment, _service(deployment, "api").outputs["pipelineName"])
    declaration = codepipeline.get_pipeline(name=_service(deployment, "api").outputs["pipelineName"])["pipeline"]
    for push in declaration["triggers"][0]["gitConfiguration"]["push"]:
        push.pop("filePaths")
    codepipeline.update_pipeline(pipeline=declaration)
    return undo


def alert_on_the_workers_failures(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    events, rule = deployment.client("events"), _service(deployment, "api").rule_name
    undo = _put_back_rule_pattern(deployment, rule)
    pattern = json.loads(events.describe_rule(Name=rule)["EventPattern"])
    pattern["detail"]["pipeline"].append(_service(deployment, "worker").outputs["pipelineName"])
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
    return undo


def let_only_the_last_rule_publish(deployment: Deployment, _: pytest.MonkeyPatch) -> Undo:
    """What one topic policy per failure alert did: the last one written names only its own rule."""
    return let_only_one_rule_publish(deployment, _service(deployment, "web").outputs["failureRuleArn"])


SERVICE_DRIFTS: dict[str, tuple[Breakage, str]] = {
    "pipeline": (trigger_on_every_path, "starts on pushes"),
    "failure-pattern": (alert_on_the_workers_failures, "also fires on the failures of ['worker']"),
    "topic-policy": (let_only_the_last_rule_publish, "not exactly for the failure rules"),
}


@pytest.mark.parametrize("name", SERVICE_DRIFTS)
def test_the_check_fails_once_one_services_state_drifts(
    deployments: SharedDeployments, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expect_the_check_to_catch(deployments, "platform", _named(name), SERVICE_DRIFTS[name], monkeypatch)
