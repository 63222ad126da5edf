"""Every check of emulator/verify.py fails when the deployed state is changed behind its back.

Each case deploys dev into a fresh emulator, sees the check pass, breaks what it checks through
boto3 (or, for the second-run check, makes the program's inputs change between runs), and sees
it fail with a message naming what is wrong.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

import pipeline.build
from emulator.lifecycle import Deployment
from emulator.resources import default_topic_policy
from emulator.verify import CHECKS, Check, ServicePipeline, service_pipelines, verify
from tests.emulator.conftest import deployed

pytestmark = [pytest.mark.emulator]

Breakage = Callable[[Deployment, pytest.MonkeyPatch], None]


def _bucket(deployment: Deployment) -> str:
    return str(deployment.outputs["artifactBucket"])


def _rule(deployment: Deployment) -> str:
    return str(deployment.outputs["failureRuleArn"]).rpartition("/")[2]


def suspend_versioning(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    deployment.client("s3").put_bucket_versioning(
        Bucket=_bucket(deployment), VersioningConfiguration={"Status": "Suspended"}
    )


def drop_bucket_key(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": deployment.outputs["kmsKeyArn"]}
    deployment.client("s3").put_bucket_encryption(
        Bucket=_bucket(deployment),
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": False}]
        },
    )


def allow_public_buckets(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    s3 = deployment.client("s3")
    block = s3.get_public_access_block(Bucket=_bucket(deployment))["PublicAccessBlockConfiguration"]
    s3.put_public_access_block(
        Bucket=_bucket(deployment), PublicAccessBlockConfiguration={**block, "RestrictPublicBuckets": False}
    )


def allow_plain_http(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    s3 = deployment.client("s3")
    policy = json.loads(s3.get_bucket_policy(Bucket=_bucket(deployment))["Policy"])
    for statement in policy["Statement"]:
        statement.pop("Condition")
        statement["Effect"] = "Allow"
    s3.put_bucket_policy(Bucket=_bucket(deployment), Policy=json.dumps(policy))


def keep_old_versions(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    s3 = deployment.client("s3")
    rules = s3.get_bucket_lifecycle_configuration(Bucket=_bucket(deployment))["Rules"]
    for rule in rules:
        rule.pop("NoncurrentVersionExpiration")
    s3.put_bucket_lifecycle_configuration(Bucket=_bucket(deployment), LifecycleConfiguration={"Rules": rules})


def trust_a_second_service(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    iam = deployment.client("iam")
    role = deployment.graph.one("aws:iam/role:Role", "build").id
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    trust["Statement"][0]["Principal"]["Service"] = ["codebuild.amazonaws.com", "lambda.amazonaws.com"]
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))


def lift_the_boundary(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    role = deployment.graph.one("aws:iam/role:Role", "build").id
    deployment.client("iam").delete_role_permissions_boundary(RoleName=role)


def delete_build_logs(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    deployment.client("logs").delete_log_group(
        logGroupName=deployment.graph.one("aws:cloudwatch/logGroup:LogGroup", "build").id
    )


def swap_build_and_deploy(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    codepipeline = deployment.client("codepipeline")
    declaration = codepipeline.get_pipeline(name=deployment.outputs["pipelineName"])["pipeline"]
    build, deploy = deployment.outputs["buildProjectNames"]
    for stage in declaration["stages"]:
        for action in stage["actions"]:
            if action["configuration"].get("ProjectName") in (build, deploy):
                action["configuration"]["ProjectName"] = deploy if stage["name"] == "Build" else build
    codepipeline.update_pipeline(pipeline=declaration)


def add_a_second_target(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    extra = deployment.client("sns").create_topic(Name="someone-elses-topic")["TopicArn"]
    deployment.client("events").put_targets(Rule=_rule(deployment), Targets=[{"Id": "extra", "Arn": extra}])


def alert_on_success_too(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    events = deployment.client("events")
    pattern = json.loads(events.describe_rule(Name=_rule(deployment))["EventPattern"])
    pattern["detail"]["state"].append("SUCCEEDED")
    events.put_rule(Name=_rule(deployment), EventPattern=json.dumps(pattern))


def drop_the_link(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    events = deployment.client("events")
    (target,) = events.list_targets_by_rule(Rule=_rule(deployment))["Targets"]
    target["InputTransformer"]["InputTemplate"] = '"CodePipeline <pipeline> entered state <state>"'
    events.put_targets(Rule=_rule(deployment), Targets=[target])


def reset_topic_policy(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    topic = deployment.outputs["alertTopicArn"]
    policy = default_topic_policy(topic, deployment.emulator.account_id(deployment.region))
    deployment.client("sns").set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy)


def forget_eventbridge_in_key_policy(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    kms = deployment.client("kms")
    key = deployment.outputs["kmsKeyArn"]
    policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != "AllowEventBridgeToPublishToEncryptedTopic"]
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))


def hand_slack_the_email_text(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    """Slack's target writes the e-mail's plain text, which Chatbot would not show."""
    events, slack = deployment.client("events"), deployment.outputs["slackTopicArn"]
    (target,) = [t for t in events.list_targets_by_rule(Rule=_rule(deployment))["Targets"] if t["Arn"] == slack]
    target["InputTransformer"]["InputTemplate"] = '"CodePipeline <pipeline> entered state <state>"'
    events.put_targets(Rule=_rule(deployment), Targets=[target])


def stamp_the_buildspec(_: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    read = pipeline.build.read_buildspec
    monkeypatch.setattr(pipeline.build, "read_buildspec", lambda name: f"# {time.time_ns()}\n{read(name)}")


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


def expect_the_check_to_catch(
    stack: str,
    check: Check,
    drift: tuple[Breakage, str],
    monkeypatch: pytest.MonkeyPatch,
    overrides: dict[str, str] | None = None,
) -> None:
    """`check` passes on a fresh deployment of `stack`, and fails with the drift's complaint once it is applied."""
    breakage, complaint = drift
    with deployed(stack, overrides=overrides) as deployment:
        (before,) = verify(deployment, (check,))
        assert before.status == "ok", before.detail
        breakage(deployment, monkeypatch)
        (after,) = verify(deployment, (check,))

    assert after.status == "failed"
    assert complaint in after.detail


def _named(name: str) -> Check:
    (check,) = (check for check in CHECKS if check.name == name)
    return check


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.name)
def test_the_check_fails_once_the_state_drifts(check: Check, monkeypatch: pytest.MonkeyPatch) -> None:
    expect_the_check_to_catch("dev", check, DRIFTS[check.name], monkeypatch, CHECK_OVERRIDES.get(check.name))


# --- The action rule: what only it can get wrong -------------------------------------------------------


def _action_rule(deployment: Deployment) -> str:
    return str(deployment.outputs["actionRuleArn"]).rpartition("/")[2]


def alert_on_stage_failures_too(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    events = deployment.client("events")
    pattern = json.loads(events.describe_rule(Name=_action_rule(deployment))["EventPattern"])
    pattern["detail-type"].append("CodePipeline Stage Execution State Change")
    events.put_rule(Name=_action_rule(deployment), EventPattern=json.dumps(pattern))


def drop_the_log_link(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    events, topic = deployment.client("events"), deployment.outputs["alertTopicArn"]
    (target,) = [t for t in events.list_targets_by_rule(Rule=_action_rule(deployment))["Targets"] if t["Arn"] == topic]
    target["InputTransformer"]["InputTemplate"] = (
        '"CodePipeline <pipeline>: action <action> in stage <stage> entered state <state>"'
    )
    events.put_targets(Rule=_action_rule(deployment), Targets=[target])


def let_only_one_rule_publish(deployment: Deployment, rule_arn: str) -> None:
    """The alert topic's policy lets `rule_arn` alone publish, not every alert rule of the stack."""
    sns, topic = deployment.client("sns"), deployment.outputs["alertTopicArn"]
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    for statement in policy["Statement"]:
        if statement["Sid"] == "AllowFailureRuleToPublish":
            statement["Condition"]["ArnEquals"]["aws:SourceArn"] = rule_arn
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))


def let_only_the_execution_rule_publish(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    """The policy of a stack before action alerts: the action rule's e-mails would be refused."""
    let_only_one_rule_publish(deployment, deployment.outputs["failureRuleArn"])


ACTION_DRIFTS: dict[str, tuple[Breakage, str]] = {
    "failure-pattern": (alert_on_stage_failures_too, "also fires on ['stage-execution-failed.json']"),
    "alert-message": (drop_the_log_link, "the action alert does not contain 'https://console.aws.amazon.com/codebuild"),
    "topic-policy": (let_only_the_execution_rule_publish, "not exactly for the failure rules"),
}


@pytest.mark.parametrize("name", ACTION_DRIFTS)
def test_the_check_fails_once_the_action_rule_drifts(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expect_the_check_to_catch("dev", _named(name), ACTION_DRIFTS[name], monkeypatch)


# --- Several services in one stack (Pulumi.platform.yaml): what only a stack of many pipelines can get wrong


def _service(deployment: Deployment, name: str) -> ServicePipeline:
    return next(service for service in service_pipelines(deployment) if service.service == name)


def trigger_on_every_path(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    """The api pipeline of the monorepo loses its path filter: it would start on the worker's changes too."""
    codepipeline = deployment.client("codepipeline")
    declaration = codepipeline.get_pipeline(name=_service(deployment, "api").outputs["pipelineName"])["pipeline"]
    for push in declaration["triggers"][0]["gitConfiguration"]["push"]:
        push.pop("filePaths")
    codepipeline.update_pipeline(pipeline=declaration)


def alert_on_the_workers_failures(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    events, rule = deployment.client("events"), _service(deployment, "api").rule_name
    pattern = json.loads(events.describe_rule(Name=rule)["EventPattern"])
    pattern["detail"]["pipeline"].append(_service(deployment, "worker").outputs["pipelineName"])
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern))


def let_only_the_last_rule_publish(deployment: Deployment, _: pytest.MonkeyPatch) -> None:
    """What one topic policy per failure alert did: the last one written names only its own rule."""
    let_only_one_rule_publish(deployment, _service(deployment, "web").outputs["failureRuleArn"])


SERVICE_DRIFTS: dict[str, tuple[Breakage, str]] = {
    "pipeline": (trigger_on_every_path, "starts on pushes"),
    "failure-pattern": (alert_on_the_workers_failures, "also fires on the failures of ['worker']"),
    "topic-policy": (let_only_the_last_rule_publish, "not exactly for the failure rules"),
}


@pytest.mark.parametrize("name", SERVICE_DRIFTS)
def test_the_check_fails_once_one_services_state_drifts(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expect_the_check_to_catch("platform", _named(name), SERVICE_DRIFTS[name], monkeypatch)
