"""AwsAccount: the explicit provider and the account facts built from its invokes."""

from __future__ import annotations

from harness.capture import evaluate
from pipeline.provider import AwsAccount
from pipeline.settings import load_settings
from tests.support import program


def test_account_facts_come_from_invokes_only() -> None:
    graph = evaluate("dev", program=lambda: AwsAccount("account", program().account_args(load_settings())))
    assert sorted(token for token, _ in graph.invokes) == [
        "aws:index/getCallerIdentity:getCallerIdentity",
        "aws:index/getPartition:getPartition",
    ]
    assert [r.type for r in graph.custom()] == []  # the provider is the only custom resource
    assert graph.one("pulumi:providers:aws").inputs["region"] == "eu-west-1"


def test_arn_helper_builds_regional_and_global_arns() -> None:
    resolved: dict[str, str] = {}

    def run() -> None:
        account = AwsAccount("account", program().account_args(load_settings()))
        account.arn("logs", "log-group:x").apply(lambda v: resolved.__setitem__("regional", v))
        account.arn("iam", "role/x", regional=False).apply(lambda v: resolved.__setitem__("global", v))

    evaluate("dev", program=run)
    assert resolved == {
        "regional": "arn:aws:logs:eu-west-1:123456789012:log-group:x",
        "global": "arn:aws:iam::123456789012:role/x",
    }
