"""The stack's settings: read from `pulumi.Config` in one place, validated, then frozen.

Every other module takes a `Settings`; none reads config itself. A bad value raises
`pulumi.RunError` naming the key, the value and what is allowed, before any resource is
registered, so a typo never leaves a half-built stack behind.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import pulumi

PROJECT = "cicd-pipeline"

SourceType = Literal["codestar", "s3"]
SecretStore = Literal["SECRETS_MANAGER", "PARAMETER_STORE"]

PRODUCTION_ENVIRONMENTS = frozenset({"prod", "production"})

# CodeBuild compute types that run the LINUX_CONTAINER environment this stack uses
# (botocore's ComputeType enum also lists Lambda, EC2 and custom types, which need other
# environment types; tests/test_settings.py checks this set against that enum).
COMPUTE_TYPES = (
    "BUILD_GENERAL1_SMALL",
    "BUILD_GENERAL1_MEDIUM",
    "BUILD_GENERAL1_LARGE",
    "BUILD_GENERAL1_XLARGE",
    "BUILD_GENERAL1_2XLARGE",
)

# The only values CloudWatch Logs' PutRetentionPolicy accepts (its API reference lists them).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
    2557, 2922, 3288, 3653,
)  # fmt: skip

# CodePipeline's documented pipeline execution states.
PIPELINE_STATES = (
    "CANCELED", "FAILED", "RESUMED", "STARTED", "STOPPED", "STOPPING", "SUCCEEDED",
    "SUPERSEDED",
)  # fmt: skip

EXECUTION_MODES = ("QUEUED", "SUPERSEDED", "PARALLEL")

# CodeBuild's BuildTimeOut range, in minutes (botocore: min 5, max 2160).
BUILD_TIMEOUT_RANGE = (5, 2160)

DEFAULT_BUILD_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"

_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9-]{0,14}[a-z0-9]$|^[a-z]$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
# git-check-ref-format, the parts that matter for a branch name typed into config.
_BRANCH_FORBIDDEN = re.compile(r"(\.\.|@\{|[\x00-\x20~^:?*\[\\\x7f]|//)")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$"
)
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_SECRETS_MANAGER_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$")
_SSM_PARAMETER = re.compile(r"^/[A-Za-z0-9_.\-/]{1,1010}$")
# GitHub's OIDC subject names the repository as owner/repo, or with immutable subject claims as
# owner@<org id>/repo@<repo id> (both ids or neither).
_GITHUB_REPOSITORY = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$|^[A-Za-z0-9][A-Za-z0-9-]{0,38}@\d+/[A-Za-z0-9._-]{1,100}@\d+$"
)
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
_GITHUB_OIDC_PROVIDER_ARN = re.compile(
    r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/" + re.escape(GITHUB_OIDC_HOST) + "$"
)
# A self-managed Pulumi backend in S3: s3://<bucket>[/<prefix>][?region=...&awssdk=v2&profile=...]
# https://www.pulumi.com/docs/iac/concepts/state-and-backends/#aws-s3
_S3_BACKEND_URL = re.compile(r"^s3://(?!xn--)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^?\s]*)?(\?\S*)?$")
_S3_BUCKET = re.compile(r"^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are what Security Hub's CodeBuild.2 looks for.
_SECRET_LOOKING_NAME = re.compile(
    r"(TOKEN|PASSWORD|PASSWD|SECRET|PASSPHRASE|PRIVATE_?KEY|API_?KEY|SECRET_?KEY|ACCESS_?KEY(_?ID)?|CREDENTIALS?)$",
    re.IGNORECASE,
)
# Pulumi Cloud access tokens are `pul-` and 40 hex digits; the range leaves room for other forms.
_PULUMI_ACCESS_TOKEN = re.compile(r"^pul-[A-Za-z0-9]{16,256}$")
_TAG_KEY = re.compile(r"^[\w\s.:/=+\-@]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w\s.:/=+\-@]{0,256}$")
_RESERVED_TAG_KEYS = frozenset({"Project", "Environment", "ManagedBy", "Stack"})

# Build variables the stack sets itself; config may not define them a second time.
STACK_VARIABLE = "PULUMI_STACK"
ASSUME_ROLE_VARIABLE = "ASSUME_ROLE_ARN"
PULUMI_TOKEN_VARIABLE = "PULUMI_ACCESS_TOKEN"
BACKEND_URL_VARIABLE = "PULUMI_BACKEND_URL"

# Where each step's identity comes from: cicd-bootstrap, run once per target account (bootstrap/README.md).
BOOTSTRAP_HINT = "run the bootstrap in the target account (bootstrap/README.md) and copy its {output} output"


@dataclass(frozen=True)
class BuildSecret:
    """An environment variable a build reads from Secrets Manager or SSM, never in plain text."""

    name: str
    reference: str
    store: SecretStore


@dataclass(frozen=True)
class SourceSettings:
    """Where the pipeline takes its code from."""

    type: SourceType
    repository: str = ""
    branch: str = "main"
    connection_arn: str = ""
    bucket: str = ""
    object_key: str = ""


@dataclass(frozen=True)
class GitHubSettings:
    """Which GitHub repository's Actions may preview and deploy the stack; empty means none."""

    repository: str = ""
    oidc_provider_arn: str = ""
    state_bucket: str = ""


@dataclass(frozen=True)
class Settings:
    """Everything the stack is configured with, validated."""

    project: str
    stack: str
    environment: str
    region: str
    source: SourceSettings
    build_image: str
    compute_type: str
    build_timeout_minutes: int
    log_retention_days: int
    artifact_expiry_days: int
    notification_emails: tuple[str, ...]
    alert_states: tuple[str, ...]
    require_approval: bool
    force_destroy_artifacts: bool
    execution_mode: str
    deploy_stack: str
    deploy_role_arn: str
    preview_role_arn: str
    # The S3 state backend of the service's stack (s3://...); empty with Pulumi Cloud (pulumi_access_token).
    backend_url: str
    build_environment: tuple[tuple[str, str], ...]
    build_secrets: tuple[BuildSecret, ...]
    extra_tags: tuple[tuple[str, str], ...] = field(default=())
    github: GitHubSettings = field(default=GitHubSettings())
    # A secret Output (never plain text in the settings); stored in Secrets Manager by the stack.
    pulumi_access_token: pulumi.Output[str] | None = field(default=None, repr=False, compare=False)

    @property
    def is_production(self) -> bool:
        return self.environment in PRODUCTION_ENVIRONMENTS

    @property
    def name_prefix(self) -> str:
        """A short, readable prefix for physical names: `cicd-<environment>`."""
        return f"cicd-{self.environment}"

    def default_tags(self) -> dict[str, str]:
        """Tags every resource carries through the provider's `default_tags`."""
        return {
            **dict(self.extra_tags),
            "Project": self.project,
            "Environment": self.environment,
            "ManagedBy": "pulumi",
            "Stack": self.stack,
        }


class _Reader:
    """Reads one config namespace and turns every bad value into a RunError naming its key."""

    def __init__(self, config: pulumi.Config, namespace: str) -> None:
        self._config = config
        self._namespace = namespace

    def key(self, name: str) -> str:
        return f"{self._namespace}:{name}"

    def fail(self, name: str, value: object, allowed: str, *, secret: bool = False) -> pulumi.RunError:
        command = "pulumi config set --secret" if secret else "pulumi config set"
        return pulumi.RunError(
            f"Invalid config {self.key(name)}={value!r}: {allowed}. Set it with `{command} {self.key(name)} <value>`."
        )

    def string(self, name: str, default: str = "") -> str:
        try:
            value = self._config.get(name)
        except pulumi.ConfigTypeError as error:  # pragma: no cover - get() never coerces
            raise self.fail(name, error, "expected a string") from None
        return default if value is None else value.strip()

    def integer(self, name: str, default: int) -> int:
        raw = self._config.get(name)
        if raw is None or raw.strip() == "":
            return default
        try:
            return int(raw.strip())
        except ValueError:
            raise self.fail(name, raw, "expected a whole number") from None

    def tri_state(self, name: str, auto: bool) -> bool:
        """A flag whose default depends on the environment: `auto`, `true` or `false`."""
        raw = self.string(name, "auto").lower()
        if raw in ("", "auto"):
            return auto
        if raw in ("true", "false"):
            return raw == "true"
        raise self.fail(name, raw, "allowed values are auto, true, false")

    def string_list(self, name: str) -> tuple[str, ...]:
        raw = self._config.get(name)
        if raw is None or raw.strip() == "":
            return ()
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            raise self.fail(name, raw, "expected a list of strings") from None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(name, value, "expected a list of strings")
        return tuple(item.strip() for item in value)

    def pairs(self, name: str, what: str) -> tuple[tuple[str, str], ...]:
        """A list of `KEY=VALUE` strings (Pulumi's typed project config has no map type)."""
        result: list[tuple[str, str]] = []
        for item in self.string_list(name):
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise self.fail(name, item, f"each entry must be KEY=VALUE ({what})")
            result.append((key.strip(), value.strip()))
        keys = [key for key, _ in result]
        duplicated = sorted({key for key in keys if keys.count(key) > 1})
        if duplicated:
            raise self.fail(name, duplicated, "each KEY may appear once")
        return tuple(result)


T = TypeVar("T")


def _one_of(reader: _Reader, name: str, value: T, allowed: Sequence[T]) -> T:
    if value not in allowed:
        raise reader.fail(name, value, "allowed values are " + ", ".join(map(str, allowed)))
    return value


def _matching(reader: _Reader, name: str, value: str, pattern: re.Pattern[str], allowed: str) -> str:
    if not pattern.match(value):
        raise reader.fail(name, value, allowed)
    return value


def _branch(reader: _Reader, value: str) -> str:
    bad = (
        not value
        or len(value) > 255
        or value.startswith(("/", "-", "."))
        or value.endswith(("/", ".", ".lock"))
        or _BRANCH_FORBIDDEN.search(value) is not None
    )
    if bad:
        raise reader.fail(
            "branch", value, "expected a git branch name (no spaces, '..', '~^:?*[\\', leading '-' or '/')"
        )
    return value


def _source(reader: _Reader) -> SourceSettings:
    source_type = _one_of(reader, "sourceType", reader.string("sourceType", "codestar"), ("codestar", "s3"))
    branch = _branch(reader, reader.string("branch", "main"))
    if source_type == "codestar":
        repository = _matching(
            reader, "repository", reader.string("repository"), _REPOSITORY,
            "expected owner/repo, e.g. my-org/my-service (required when sourceType is codestar)",
        )  # fmt: skip
        connection_arn = reader.string("codestarConnectionArn")
        if connection_arn:
            _matching(
                reader, "codestarConnectionArn", connection_arn, _CONNECTION_ARN,
                "expected arn:aws:codestar-connections:<region>:<account>:connection/<uuid>, or empty to create one",
            )  # fmt: skip
        return SourceSettings(type="codestar", repository=repository, branch=branch, connection_arn=connection_arn)
    bucket = _matching(
        reader, "sourceBucket", reader.string("sourceBucket"), _S3_BUCKET,
        "expected an S3 bucket name (required when sourceType is s3)",
    )  # fmt: skip
    object_key = reader.string("sourceObjectKey", "source.zip")
    if not object_key or len(object_key) > 1024 or object_key.startswith("/"):
        raise reader.fail("sourceObjectKey", object_key, "expected an S3 object key such as source.zip")
    return SourceSettings(type="s3", branch=branch, bucket=bucket, object_key=object_key)


def _build_environment(reader: _Reader) -> tuple[tuple[str, str], ...]:
    variables = reader.pairs("buildEnvironment", "plain-text build variables")
    for name, _ in variables:
        _matching(reader, "buildEnvironment", name, _ENV_NAME, "variable names are letters, digits and _")
        if _SECRET_LOOKING_NAME.search(name):
            raise reader.fail(
                "buildEnvironment",
                name,
                "this looks like a secret; plain-text variables are visible in the CodeBuild console, "
                "so put it in Secrets Manager or SSM and list it under buildSecrets as NAME=<secret ARN or /parameter>",
            )
    return variables


def _build_secrets(reader: _Reader) -> tuple[BuildSecret, ...]:
    secrets: list[BuildSecret] = []
    for name, reference in reader.pairs("buildSecrets", "NAME=<Secrets Manager ARN or /ssm/parameter>"):
        _matching(reader, "buildSecrets", name, _ENV_NAME, "variable names are letters, digits and _")
        if _SECRETS_MANAGER_ARN.match(reference):
            secrets.append(BuildSecret(name, reference, "SECRETS_MANAGER"))
        elif _SSM_PARAMETER.match(reference):
            secrets.append(BuildSecret(name, reference, "PARAMETER_STORE"))
        else:
            raise reader.fail(
                "buildSecrets",
                f"{name}=<hidden>",
                "each value must be a Secrets Manager ARN (arn:aws:secretsmanager:...) or an SSM "
                "parameter name starting with '/'; never the secret itself",
            )
    return tuple(secrets)


def _pulumi_access_token(reader: _Reader) -> pulumi.Output[str] | None:
    """The token, validated here and handed on only as a secret Output; errors never echo it."""
    name = "pulumiAccessToken"
    value = reader.string(name)
    if not value:
        return None
    if not pulumi.runtime.is_config_secret(reader.key(name)):
        plain = "it is stored in plain text; only an encrypted value is allowed (pulumi config rm it)"
        raise reader.fail(name, "<hidden>", plain, secret=True)
    if not _PULUMI_ACCESS_TOKEN.match(value):
        raise reader.fail(name, "<hidden>", "expected a Pulumi access token (pul-...)", secret=True)
    return pulumi.Output.secret(value)


def _unique_variables(
    reader: _Reader,
    plain: tuple[tuple[str, str], ...],
    secrets: tuple[BuildSecret, ...],
    token: pulumi.Output[str] | None,
) -> None:
    """A build variable defined twice would silently lose one of its values in CodeBuild."""
    taken = {
        STACK_VARIABLE: "the stack (deployStack)",
        ASSUME_ROLE_VARIABLE: "the stack (preview/deployRoleArn)",
        BACKEND_URL_VARIABLE: "the stack (backendUrl)",
    }
    if token is not None:
        taken[PULUMI_TOKEN_VARIABLE] = "pulumiAccessToken"
    for key, names in (("buildEnvironment", [n for n, _ in plain]), ("buildSecrets", [s.name for s in secrets])):
        for variable in names:
            if variable in taken:
                raise reader.fail(key, variable, f"{variable} is already set by {taken[variable]}; use another name")
            taken[variable] = key


def _tags(reader: _Reader) -> tuple[tuple[str, str], ...]:
    tags = reader.pairs("tags", "tag Key=Value")
    for key, value in tags:
        if key.lower().startswith("aws:") or key in _RESERVED_TAG_KEYS:
            raise reader.fail(
                "tags", key, "keys starting with aws: and Project, Environment, ManagedBy, Stack are reserved"
            )
        _matching(reader, "tags", key, _TAG_KEY, "tag keys are 1-128 letters, digits, spaces and _.:/=+-@")
        _matching(reader, "tags", value, _TAG_VALUE, "tag values are 0-256 letters, digits, spaces and _.:/=+-@")
    return tags


def _step_role(reader: _Reader, name: str, step: str) -> str:
    """The role a build step assumes: without one the step has no identity that may read or change the stack."""
    value = reader.string(name)
    if not value:
        raise reader.fail(
            name,
            value,
            f"required: the role the {step} step assumes; " + BOOTSTRAP_HINT.format(output=name),
        )
    return _matching(reader, name, value, _ROLE_ARN, "expected an IAM role ARN (arn:aws:iam::<account>:role/<name>)")


def _backend_url(reader: _Reader, token: pulumi.Output[str] | None) -> str:
    """Exactly one backend for the service's stack: the bootstrap's S3 bucket, or Pulumi Cloud with a token.

    Without either, `pulumi login` in the build has nowhere to go and the first run fails.
    """
    name = "backendUrl"
    value = reader.string(name)
    if value and token is not None:
        raise reader.fail(
            name,
            value,
            "one backend only: clear backendUrl to use Pulumi Cloud, or `pulumi config rm pulumiAccessToken` "
            "to use this S3 backend",
        )
    if not value and token is None:
        raise reader.fail(
            name,
            value,
            "required: the S3 state backend s3://<bucket> (" + BOOTSTRAP_HINT.format(output=name) + "), "
            "or Pulumi Cloud with `pulumi config set --secret pulumiAccessToken <token>` instead",
        )
    if value:
        _matching(reader, name, value, _S3_BACKEND_URL, "expected s3://<bucket>[/<prefix>][?region=<region>]")
    return value


def _github(reader: _Reader) -> GitHubSettings:
    repository = reader.string("githubRepository")
    if repository:
        _matching(
            reader, "githubRepository", repository, _GITHUB_REPOSITORY,
            "expected owner/repo exactly as GitHub spells it, or owner@<org id>/repo@<repo id> where the "
            "repository issues immutable OIDC subjects; empty for no GitHub roles",
        )  # fmt: skip
    provider_arn = reader.string("githubOidcProviderArn")
    state_bucket = reader.string("githubStateBucket")
    for name, value in (("githubOidcProviderArn", provider_arn), ("githubStateBucket", state_bucket)):
        if value and not repository:
            raise reader.fail(name, value, "only used together with githubRepository; set that too or clear this key")
    if provider_arn:
        _matching(
            reader, "githubOidcProviderArn", provider_arn, _GITHUB_OIDC_PROVIDER_ARN,
            f"expected arn:aws:iam::<account>:oidc-provider/{GITHUB_OIDC_HOST}, or empty to create the provider",
        )  # fmt: skip
    if state_bucket:
        _matching(
            reader, "githubStateBucket", state_bucket, _S3_BUCKET,
            "expected the S3 bucket name of the Pulumi backend (s3://<bucket>), or empty for Pulumi Cloud",
        )  # fmt: skip
    return GitHubSettings(repository=repository, oidc_provider_arn=provider_arn, state_bucket=state_bucket)


def _in_range(reader: _Reader, name: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise reader.fail(name, value, f"expected a whole number from {low} to {high}")
    return value


# A step's assumed-role keys come from role chaining (the CodeBuild role's session assumes the bootstrap
# role), which STS caps at one hour: "Role chaining limits your ... role session to a maximum of one hour."
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html
CHAINED_SESSION_MINUTES = 60


def _warn_if_builds_outlive_their_keys(timeout_minutes: int) -> None:
    if timeout_minutes > CHAINED_SESSION_MINUTES:
        pulumi.log.warn(
            f"buildTimeoutMinutes={timeout_minutes}: the keys a step assumes last at most "
            f"{CHAINED_SESSION_MINUTES} minutes (STS role chaining), so a pulumi preview or up still running "
            "then fails with expired credentials; keep each step's pulumi command under an hour."
        )


def load_settings(
    config_for: Callable[[str], pulumi.Config] = pulumi.Config,
    stack: Callable[[], str] = pulumi.get_stack,
) -> Settings:
    """Build the validated settings from this stack's config; raise RunError on the first bad key."""
    reader = _Reader(config_for(PROJECT), PROJECT)
    aws_reader = _Reader(config_for("aws"), "aws")

    environment = reader.string("environment")
    if not environment:
        raise reader.fail("environment", environment, "required: a short lower-case name such as dev or prod")
    _matching(
        reader, "environment", environment, _ENVIRONMENT,
        "1-16 characters: lower-case letters, digits and '-', starting with a letter",
    )  # fmt: skip
    region = _matching(
        aws_reader, "region", aws_reader.string("region"), _REGION, "required: an AWS region such as eu-west-1"
    )
    production = environment in PRODUCTION_ENVIRONMENTS

    emails = reader.string_list("notificationEmails")
    for email in emails:
        _matching(reader, "notificationEmails", email, _EMAIL, "expected e-mail addresses such as team@example.com")
    alert_states = reader.string_list("alertStates") or ("FAILED",)
    for state in alert_states:
        _one_of(reader, "alertStates", state, PIPELINE_STATES)

    deploy_stack = reader.string("deployStack") or environment
    _matching(reader, "deployStack", deploy_stack, re.compile(r"^[\w.-]{1,100}(/[\w.-]{1,100}){0,2}$"),
              "expected a Pulumi stack name such as dev or my-org/my-project/dev")  # fmt: skip
    build_image = reader.string("buildImage", DEFAULT_BUILD_IMAGE) or DEFAULT_BUILD_IMAGE
    if len(build_image) > 255 or any(ch.isspace() for ch in build_image):
        raise reader.fail("buildImage", build_image, "expected an image name such as " + DEFAULT_BUILD_IMAGE)

    build_environment = _build_environment(reader)
    build_secrets = _build_secrets(reader)
    pulumi_access_token = _pulumi_access_token(reader)
    _unique_variables(reader, build_environment, build_secrets, pulumi_access_token)

    build_timeout_minutes = _in_range(
        reader, "buildTimeoutMinutes", reader.integer("buildTimeoutMinutes", 30), *BUILD_TIMEOUT_RANGE
    )
    _warn_if_builds_outlive_their_keys(build_timeout_minutes)

    return Settings(
        project=PROJECT,
        stack=stack(),
        environment=environment,
        region=region,
        source=_source(reader),
        build_image=build_image,
        compute_type=_one_of(reader, "computeType", reader.string("computeType", COMPUTE_TYPES[0]), COMPUTE_TYPES),
        build_timeout_minutes=build_timeout_minutes,
        log_retention_days=_one_of(
            reader, "logRetentionDays", reader.integer("logRetentionDays", 30), LOG_RETENTION_DAYS
        ),
        artifact_expiry_days=_in_range(reader, "artifactExpiryDays", reader.integer("artifactExpiryDays", 30), 1, 3650),
        notification_emails=emails,
        alert_states=tuple(sorted(set(alert_states), key=PIPELINE_STATES.index)),
        require_approval=reader.tri_state("requireApproval", auto=production),
        force_destroy_artifacts=reader.tri_state("forceDestroyArtifacts", auto=not production),
        execution_mode=_one_of(reader, "executionMode", reader.string("executionMode", "QUEUED"), EXECUTION_MODES),
        deploy_stack=deploy_stack,
        deploy_role_arn=_step_role(reader, "deployRoleArn", "Deploy"),
        preview_role_arn=_step_role(reader, "previewRoleArn", "Build (preview)"),
        backend_url=_backend_url(reader, pulumi_access_token),
        build_environment=build_environment,
        build_secrets=build_secrets,
        extra_tags=_tags(reader),
        github=_github(reader),
        pulumi_access_token=pulumi_access_token,
    )
