"""Resource policies: the bucket, topic and key policies, statement by statement.

parliament is an identity-policy linter; on these documents it reports the key policy's
documented `"Resource": "*"` (which means "this key") as a finding and says nothing useful
about principals, so the rules for resource policies are ours.
"""

from __future__ import annotations

from typing import Any

from harness.capture import RegisteredResource, StackGraph
from tests.security.conftest import ACCOUNT_ID, REGION, every
from tests.security.policies import (
    IDENTITY_POLICY_INPUTS,
    PolicyDocument,
    Statement,
    actions,
    all_policy_inputs,
    identity_policies,
    principal_values,
    resource_policies,
    resources,
    trust_policies,
)

BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
KEY = "aws:kms/key:Key"

INSECURE_TRANSPORT = {"Bool": {"aws:SecureTransport": "false"}}

# The only principals a key policy may name, each with the one statement AWS documents for it.
# Account root: the default statement that lets IAM policies in this account grant key use.
# https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
ACCOUNT_ROOT = f"arn:aws:iam::{ACCOUNT_ID}:root"
# CloudWatch Logs encrypting the build logs, limited to this account's log groups.
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
LOGS_SERVICE = f"logs.{REGION}.amazonaws.com"
LOGS_ACTIONS = {"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"}
LOGS_CONDITION = {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:*"}}
# EventBridge publishing to the encrypted alert topic. No condition: EventBridge's KMS requests
# carry no aws:SourceAccount/aws:SourceArn, and a condition on them drops every alert silently.
# https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
EVENTS_SERVICE = "events.amazonaws.com"
EVENTS_ACTIONS = {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_every_policy_document_is_checked(graph: StackGraph) -> None:
    """A policy in an input these tests do not read would escape every check in this package."""
    checked = {
        (policy.resource.urn, policy.prop)
        for policy in identity_policies(graph) + trust_policies(graph) + resource_policies(graph)
    }
    assert all_policy_inputs(graph) == checked


def test_ckv_aws_274_only_policies_of_this_stack_are_attached(graph: StackGraph) -> None:
    """Managed policies attached to a role must be ones this stack writes, so parliament and the
    wildcard rule read them; an AWS-managed policy such as AdministratorAccess (CKV_AWS_274) cannot be."""
    own = {policy.outputs["arn"] for policy in graph.of_type("aws:iam/policy:Policy")}
    attached = [a.inputs["policyArn"] for a in graph.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")]
    attached += [arn for role in graph.of_type("aws:iam/role:Role") for arn in role.inputs.get("managedPolicyArns", [])]
    assert set(attached) <= own, sorted(set(attached) - own)
    assert "aws:iam/policy:Policy" in IDENTITY_POLICY_INPUTS


def allows(policy: PolicyDocument) -> list[Statement]:
    return [statement for statement in policy.statements if statement["Effect"] == "Allow"]


def denies_insecure_transport(policy: PolicyDocument, action: str, targets: set[str]) -> bool:
    return any(
        statement["Effect"] == "Deny"
        and principal_values(statement) in ([("*", "*")], [("AWS", "*")])
        and action in actions(statement)
        and set(resources(statement)) == targets
        and statement.get("Condition") == INSECURE_TRANSPORT
        for statement in policy.statements
    )


def policy_of(graph: StackGraph, token: str, prop: str, value: Any) -> PolicyDocument:
    found = [policy for policy in resource_policies(graph, token) if policy.resource.inputs[prop] == value]
    assert len(found) == 1, f"expected one {token} for {value}, found {len(found)}"
    return found[0]


# --- S3 -------------------------------------------------------------------------------------


def bucket_policy(graph: StackGraph, bucket: RegisteredResource) -> PolicyDocument:
    return policy_of(graph, BUCKET_POLICY, "bucket", bucket.id)


def test_ckv_aws_70_buckets_allow_no_one_by_policy(graph: StackGraph) -> None:
    """The artifact bucket is reached through IAM only: its policy allows nothing to anyone."""
    for bucket in every(graph, "aws:s3/bucket:Bucket"):
        assert allows(bucket_policy(graph, bucket)) == [], bucket.name


def test_s3_5_ckv_aws_379_buckets_refuse_requests_without_tls(graph: StackGraph) -> None:
    for bucket in every(graph, "aws:s3/bucket:Bucket"):
        arn = bucket.outputs["arn"]
        assert denies_insecure_transport(bucket_policy(graph, bucket), "s3:*", {arn, f"{arn}/*"}), bucket.name


# --- SNS ------------------------------------------------------------------------------------


def test_ckv_aws_169_ckv_aws_385_topics_accept_only_this_stacks_rule(graph: StackGraph) -> None:
    """Only EventBridge, only sns:Publish, only for the rules of this stack (aws:SourceArn): not
    public, not cross-account; and no publishing without TLS. A topic has one policy, so with several
    services' rules it names them all (one value, or a list of them)."""
    rule_arns = {rule.outputs["arn"] for rule in graph.of_type("aws:cloudwatch/eventRule:EventRule")}
    for topic in every(graph, "aws:sns/topic:Topic"):
        arn = topic.outputs["arn"]
        policy = policy_of(graph, TOPIC_POLICY, "arn", arn)
        assert {resource for statement in policy.statements for resource in resources(statement)} == {arn}
        for statement in allows(policy):
            assert principal_values(statement) == [("Service", EVENTS_SERVICE)], policy.label
            assert actions(statement) == ["sns:Publish"], policy.label
            (source,) = statement["Condition"]["ArnEquals"].values()
            assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": source}}, policy.label
            sources = set(source) if isinstance(source, list) else {source}
            assert sources == rule_arns, f"{policy.label}: {sorted(sources)} are not the rules of this stack"
        assert denies_insecure_transport(policy, "sns:Publish", {arn}), policy.label


# --- KMS ------------------------------------------------------------------------------------


def test_ckv_aws_33_key_policies_name_only_documented_principals(graph: StackGraph) -> None:
    """No wildcard principal (CKV_AWS_33); the account root, CloudWatch Logs for this account's
    log groups, and EventBridge for the alert topic, each with the statement AWS documents."""
    for policy in resource_policies(graph, KEY):
        assert [s["Effect"] for s in policy.statements] == ["Allow"] * len(policy.statements), policy.label
        for statement in policy.statements:
            (principal,) = principal_values(statement)
            assert resources(statement) == ["*"], f"{policy.label}: in a key policy * means this key"
            if principal == ("AWS", ACCOUNT_ROOT):
                assert "Condition" not in statement, policy.label
            elif principal == ("Service", LOGS_SERVICE):
                assert set(actions(statement)) == LOGS_ACTIONS, policy.label
                assert statement["Condition"] == LOGS_CONDITION, policy.label
            elif principal == ("Service", EVENTS_SERVICE):
                assert set(actions(statement)) == EVENTS_ACTIONS, policy.label
                assert "Condition" not in statement, policy.label
            else:
                raise AssertionError(f"{policy.label}: undocumented principal {principal}")


def test_only_the_account_root_administers_keys(graph: StackGraph) -> None:
    """Services get data-plane actions only; key administration stays with this account's IAM."""
    for policy in resource_policies(graph, KEY):
        for statement in policy.statements:
            if principal_values(statement) != [("AWS", ACCOUNT_ROOT)]:
                administrative = [
                    a for a in actions(statement) if a in ("kms:*", "kms:PutKeyPolicy", "kms:CreateGrant")
                ]
                assert not administrative, f"{policy.label}: {administrative}"
