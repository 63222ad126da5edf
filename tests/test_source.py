"""SourceConnection: create a CodeStar connection only when none is configured."""

from __future__ import annotations

from harness.capture import StackGraph
from pipeline.provider import AwsAccount
from pipeline.settings import Settings
from pipeline.source import SourceConnection
from tests.support import evaluate_component, program

EXISTING = "arn:aws:codestar-connections:eu-west-1:123456789012:connection/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"


def connection(settings: Settings, account: AwsAccount) -> SourceConnection:
    args = program().connection_args(settings)
    assert args is not None, "a codestar source has a connection"
    return SourceConnection("github", args, opts=account.component_options())


def connection_graph(overrides: dict[str, str] | None = None) -> StackGraph:
    return evaluate_component(connection, overrides)


def test_creates_a_github_connection_named_for_the_environment() -> None:
    connection = connection_graph().one("aws:codestarconnections/connection:Connection")
    assert connection.inputs == {"name": "cicd-pipeline-dev", "providerType": "GitHub"}


def test_uses_the_configured_connection_instead() -> None:
    assert (
        connection_graph({"codestarConnectionArn": EXISTING}).of_type("aws:codestarconnections/connection:Connection")
        == []
    )
