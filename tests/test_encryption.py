"""PipelineKey, evaluated alone."""

from __future__ import annotations

import pytest

from harness.capture import StackGraph
from pipeline.encryption import PipelineKey
from tests.support import evaluate_component, policy, program, statements_by_sid


def key_graph(stack: str) -> StackGraph:
    return evaluate_component(
        lambda settings, account: PipelineKey(
            "key", program().key_args(settings, account), opts=account.component_options()
        ),
        stack=stack,
    )


@pytest.fixture(scope="module")
def dev_key() -> StackGraph:
    return key_graph("dev")


def test_key_rotates(dev_key: StackGraph) -> None:
    assert dev_key.one("aws:kms/key:Key").inputs["enableKeyRotation"] is True


@pytest.mark.parametrize(("stack", "days"), [("dev", 7), ("prod", 30)])
def test_deletion_window_is_longest_in_production(stack: str, days: int) -> None:
    assert key_graph(stack).one("aws:kms/key:Key").inputs["deletionWindowInDays"] == days


def test_alias_names_the_environment_and_targets_the_key(dev_key: StackGraph) -> None:
    alias, key = dev_key.one("aws:kms/alias:Alias"), dev_key.one("aws:kms/key:Key")
    assert alias.inputs["name"] == "alias/cicd-pipeline-dev"
    assert alias.inputs["targetKeyId"] == key.outputs["keyId"]


def test_key_policy_lets_eventbridge_use_the_key_for_the_encrypted_topic(dev_key: StackGraph) -> None:
    statement = statements_by_sid(policy(dev_key.one("aws:kms/key:Key").inputs["policy"]))[
        "AllowEventBridgeToPublishToEncryptedTopic"
    ]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_key_policy_lets_cloudwatch_logs_use_the_key_only_for_this_accounts_log_groups(dev_key: StackGraph) -> None:
    statement = statements_by_sid(policy(dev_key.one("aws:kms/key:Key").inputs["policy"]))[
        "AllowCloudWatchLogsForThisAccount"
    ]
    assert statement["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert statement["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:log-group:*"}
    }


def test_key_administration_stays_with_the_account(dev_key: StackGraph) -> None:
    statement = statements_by_sid(policy(dev_key.one("aws:kms/key:Key").inputs["policy"]))["EnableIamPolicies"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}


def test_prod_protects_the_key_and_its_alias() -> None:
    """Protected, not retained: pipeline/encryption.py says why, and what the fixed alias name means."""
    prod = key_graph("prod")
    kept = [prod.one("aws:kms/key:Key"), prod.one("aws:kms/alias:Alias")]
    assert [resource.protect for resource in kept] == [True, True]
    assert [resource.retain_on_delete for resource in kept] == [False, False]
    assert len(list(prod.custom())) == len(kept)


def test_dev_key_destroys_clean(dev_key: StackGraph) -> None:
    assert [r.name for r in dev_key.custom() if r.protect or r.retain_on_delete] == []
