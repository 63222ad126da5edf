"""Our wildcard rule for identity policies, which parliament does not enforce on its own.

Mirrors CKV_AWS_62 / Security Hub IAM.1 (no "*" administrative access), CKV_AWS_63 /
IAM.21 (no wildcard actions: neither "*" nor "service:*"), CKV_AWS_355 (no "*" resource for
actions that support resource-level permissions) and KMS.1 / KMS.2 (no decrypt on all keys).
"""

from __future__ import annotations

import parliament

from harness.capture import StackGraph
from pipeline.chatbot import NOTIFICATION_PERMISSIONS
from pipeline.github_grants import UNSCOPABLE_ACTIONS
from tests.security.policies import actions, identity_policies, resources

# The program's one list of actions whose "Resource types" column in the Service Authorization
# Reference is empty (IAM accepts them only with "Resource": "*"), each mapped to the page that
# says so. test_resource_star_exceptions_are_unscopable checks every entry against parliament's
# offline copy of that reference, so the list cannot smuggle in a scopable action.
RESOURCE_STAR_EXCEPTIONS = UNSCOPABLE_ACTIONS

# What Security Hub KMS.1 / KMS.2 look for.
DECRYPT_ACTIONS = {"kms:decrypt", "kms:reencryptfrom"}


def test_identity_policies_exist(graph: StackGraph) -> None:
    """The checks below would pass vacuously on a graph without policies."""
    assert len(identity_policies(graph)) >= 3


def test_ckv_aws_63_iam_21_no_wildcard_actions(graph: StackGraph) -> None:
    for policy in identity_policies(graph):
        for statement in policy.statements:
            assert "NotAction" not in statement, f"{policy.label}: NotAction grants everything else"
            for action in actions(statement):
                assert action != "*", f"{policy.label} {statement.get('Sid')}: Action *"
                assert not action.endswith(":*"), f"{policy.label} {statement.get('Sid')}: {action}"


def test_ckv_aws_355_resource_star_only_where_iam_cannot_scope(graph: StackGraph) -> None:
    for policy in identity_policies(graph):
        for statement in policy.statements:
            if statement["Effect"] != "Allow":
                continue
            assert "NotResource" not in statement, f"{policy.label}: NotResource grants everything else"
            if "*" in resources(statement):
                if sorted(actions(statement)) == sorted(NOTIFICATION_PERMISSIONS):
                    # AWS's "Notification permissions" template for a Chatbot channel, as AWS writes it
                    # (pipeline/chatbot.py; test_iam_parliament.py's RESOURCE_STAR waiver says why).
                    continue
                unscoped = sorted(set(actions(statement)) - set(RESOURCE_STAR_EXCEPTIONS))
                assert not unscoped, f"{policy.label} {statement.get('Sid')}: Resource * for {unscoped}"


def test_kms_1_kms_2_no_decrypt_on_all_keys(graph: StackGraph) -> None:
    for policy in identity_policies(graph):
        for statement in policy.statements:
            decrypts = {a.lower() for a in actions(statement)} & DECRYPT_ACTIONS
            if statement["Effect"] == "Allow" and decrypts:
                keys = resources(statement)
                assert all(":key/" in key and "*" not in key for key in keys), f"{policy.label}: {decrypts} on {keys}"


def test_resource_star_exceptions_are_unscopable() -> None:
    for action, source in RESOURCE_STAR_EXCEPTIONS.items():
        prefix, name = action.split(":")
        service = next(s for s in parliament.iam_definition if s["prefix"] == prefix)
        privilege = next(p for p in service["privileges"] if p["privilege"] == name)
        assert {t["resource_type"] for t in privilege["resource_types"]} == {""}, f"{action} can be scoped"
        assert source.startswith("https://docs.aws.amazon.com/service-authorization/"), action
