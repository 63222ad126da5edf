"""Bad config, through the whole program: a RunError naming the key and what is allowed, and nothing registered.

tests/test_settings.py checks `load_settings` against its table of bad values; this runs the
same table, plus the security-relevant cases below, through the real __main__.py, so a
validation that moved after the first resource (and would leave a half-built stack) fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest

from harness.capture import ProgramFailedError, evaluate
from harness.stack_config import qualify
from tests.security.conftest import (
    ACCOUNT_ID,
    PULUMI_TOKEN,
    TOKEN_KEY,
    VARIANTS,
    declared_keys,
    made_up_hex,
    undeclared_keys,
)
from tests.test_settings import BAD_VALUES

SECRET_ARN = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT_ID}:secret:other-AbCdEf"
# The shapes of a Slack incoming-webhook URL and a bot token (https://docs.slack.dev/authentication/tokens).
# Made up per run, in the shapes people paste by mistake: a literal would itself look like a committed secret.
# (made_up_hex: the same in every pytest-xdist worker, as the token is part of a test id.)
SLACK_WEBHOOK = "https://hooks.slack.com/services/T00000000/B00000000/" + made_up_hex(12, "slack-webhook")
SLACK_TOKEN = (
    "xoxb-"
    + "-".join(str(int(made_up_hex(8, f"slack-token-{part}"), 16) % 10**10).zfill(10) for part in range(2))
    + "-"
    + made_up_hex(8, "slack-token")
)


@dataclass(frozen=True)
class BadConfig:
    overrides: dict[str, Any]
    key: str
    allowed: str
    # Config set with --secret; and values that must not be echoed back in the error.
    secret_keys: tuple[str, ...] = ()
    hidden: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"{self.key}={self.overrides!r}"[:100]


SECURITY_CASES = [
    # A token typed without --secret sits in Pulumi.<stack>.yaml in plain text.
    BadConfig({TOKEN_KEY: PULUMI_TOKEN}, qualify(TOKEN_KEY), "only an encrypted value is allowed", hidden=(PULUMI_TOKEN,)),
    BadConfig({TOKEN_KEY: "my password"}, qualify(TOKEN_KEY), "Pulumi access token (pul-...)",
              secret_keys=(qualify(TOKEN_KEY),), hidden=("my password",)),
    BadConfig({"buildEnvironment": ["DB_PASSWORD=hunter2"]}, qualify("buildEnvironment") + "[0]", "buildSecrets"),
    BadConfig({"buildEnvironment": ["AWS_SECRET_ACCESS_KEY=abc"]}, qualify("buildEnvironment") + "[0]", "buildSecrets"),
    BadConfig({"buildEnvironment": ["AWS_ACCESS_KEY_ID=AKIA0"]}, qualify("buildEnvironment") + "[0]", "buildSecrets"),
    BadConfig({"buildEnvironment": ["deploy_private_key=x"]}, qualify("buildEnvironment") + "[0]", "buildSecrets"),
    BadConfig({"buildEnvironment": ["PULUMI_STACK=other"]}, qualify("buildEnvironment") + "[0]", "already set by the stack"),
    BadConfig({"buildEnvironment": ["REGION=x"], "buildSecrets": ["REGION=/cicd/region"]},
              qualify("buildSecrets") + "[0]", "already set by buildEnvironment"),
    BadConfig({TOKEN_KEY: PULUMI_TOKEN, "buildSecrets": [f"PULUMI_ACCESS_TOKEN={SECRET_ARN}"]},
              qualify("buildSecrets") + "[0]", "already set by pulumiAccessToken", secret_keys=(qualify(TOKEN_KEY),)),
    # Two backends: which one the build logs in to would be a guess.
    BadConfig({TOKEN_KEY: PULUMI_TOKEN}, qualify("backendUrl"), "one backend only",
              secret_keys=(qualify(TOKEN_KEY),), hidden=(PULUMI_TOKEN,)),
    BadConfig({"buildSecrets": ["NPM_TOKEN=npm_live_value"]}, qualify("buildSecrets") + "[0]", "never the secret itself",
              hidden=("npm_live_value",)),
    # A token that is not one, set with --secret: still never repeated.
    BadConfig({TOKEN_KEY: "pul-" + "x" * 30 + "!", "backendUrl": None}, qualify(TOKEN_KEY), "Pulumi access token",
              secret_keys=(qualify(TOKEN_KEY),), hidden=("x" * 30,)),
    # A service directory is where the build changes into: it may not leave the checkout.
    BadConfig({"repository": None, "services": [{"name": "api", "repository": "my-org/platform", "directory": "../.."}]},
              qualify("services") + "[0].directory", "no '.' or '..' segments"),
    BadConfig({"githubRepository": "not-a-repository"}, qualify("githubRepository"), "owner/repo"),
    BadConfig({"githubRepository": "my-org/*"}, qualify("githubRepository"), "owner/repo"),
    # Chatbot needs IDs, never the secrets a Slack app would: a webhook URL or a token pasted by mistake is
    # refused without being repeated in a log.
    BadConfig({"slackWorkspaceId": "T07EA123LEP", "slackChannelId": SLACK_WEBHOOK}, qualify("slackChannelId"),
              "nor a webhook URL or token", hidden=(SLACK_WEBHOOK, "XXXXXXXXXXXXXXXXXXXXXXXX")),
    BadConfig({"slackWorkspaceId": SLACK_TOKEN, "slackChannelId": "C07EZ1ABC23"}, qualify("slackWorkspaceId"),
              "Slack workspace ID", hidden=(SLACK_TOKEN, "1234567890")),
]  # fmt: skip

CASES = [BadConfig(overrides, key, allowed) for overrides, key, allowed in BAD_VALUES] + SECURITY_CASES


def test_at_least_twenty_kinds_of_bad_config() -> None:
    assert len(CASES) >= 20
    assert len({case.key for case in CASES}) >= 20


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_security_variant_sets_only_declared_keys(variant: str) -> None:
    """No variant of tests/security/conftest.py may be left out because Pulumi.yaml lacks one of its keys."""
    assert undeclared_keys(variant) == []


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_config_is_refused_before_any_resource(case: BadConfig) -> None:
    undeclared = [key for key in case.overrides if ":" not in key and key not in declared_keys()]
    assert undeclared == [], "every key a case sets is declared in Pulumi.yaml"
    with pytest.raises(ProgramFailedError) as raised:
        evaluate("dev", case.overrides, secret_keys=list(case.secret_keys))
    failure = raised.value
    assert isinstance(failure.cause, pulumi.RunError), repr(failure.cause)
    message = str(failure.cause)
    assert f"Invalid config {case.key}=" in message
    assert case.allowed in message
    assert failure.graph.resources == [], [r.name for r in failure.graph.resources]
    for value in case.hidden:
        assert value not in message, "the error repeats a secret"
