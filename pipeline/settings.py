"""The stack's settings: read from `pulumi.Config` in one place, validated by pydantic models, frozen.

`StackConfig` is the configuration as the stack file holds it: one field per key of Pulumi.yaml
(its alias is the key), plus `services`, a list of `ServiceConfig` objects. `load_settings` reads the
keys, validates them and resolves defaults into `Settings`, the program's view: stack-wide values
and the `services` the stack builds pipelines for, each with its overrides already resolved.

A bad value raises `pulumi.RunError` naming the key (with its path inside a list or service), the
value, what is allowed and the `pulumi config` command that fixes it, before any resource is
registered, so a typo never leaves a half-built stack behind. Secret values are never repeated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

# The build variables the projects set themselves belong to the CodeBuild component (a configured
# variable may not take one of those names), the OIDC host to the GitHub roles.
from pipeline.build import (
    ASSUME_ROLE_VARIABLE,
    BACKEND_URL_VARIABLE,
    DIRECTORY_VARIABLE,
    PULUMI_TOKEN_VARIABLE,
    STACK_VARIABLE,
    BuildSecret,
)
from pipeline.chatbot import SLACK_CHANNEL_ID_MAX, SLACK_CHANNEL_ID_PATTERN, SLACK_TEAM_ID_PATTERN
from pipeline.config_errors import UNSET, Region, config_error, config_path, first_refusal, qualified_key
from pipeline.github import GITHUB_OIDC_HOST
from pipeline.reports import (
    COVERAGE_FORMATS,
    COVERAGE_REPORT_GROUP_VARIABLE,
    TEST_REPORT_GROUP_VARIABLE,
    CoverageFormat,
)

PROJECT = "cicd-pipeline"

SourceType = Literal["codestar", "s3"]
TriState = Literal["auto", "true", "false"]

PRODUCTION_ENVIRONMENTS = frozenset({"prod", "production"})

# CodeBuild compute types that run the LINUX_CONTAINER environment this stack uses. botocore's
# ComputeType enum (and the AWS provider, which checks against it) also lists Lambda, EC2 and custom
# types, which need other environment types and would fail only when CodeBuild creates the project;
# tests/test_settings.py checks this set against that enum.
ComputeType = Literal[
    "BUILD_GENERAL1_SMALL",
    "BUILD_GENERAL1_MEDIUM",
    "BUILD_GENERAL1_LARGE",
    "BUILD_GENERAL1_XLARGE",
    "BUILD_GENERAL1_2XLARGE",
]
COMPUTE_TYPES: tuple[str, ...] = get_args(ComputeType)

# CodePipeline's documented pipeline execution states, in the order alerts list them.
AlertState = Literal["CANCELED", "FAILED", "RESUMED", "STARTED", "STOPPED", "STOPPING", "SUCCEEDED", "SUPERSEDED"]
PIPELINE_STATES: tuple[str, ...] = get_args(AlertState)

ExecutionMode = Literal["QUEUED", "SUPERSEDED", "PARALLEL"]
EXECUTION_MODES: tuple[str, ...] = get_args(ExecutionMode)

DEFAULT_BUILD_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"

# V2 git triggers take at most 8 file-path include patterns of 1-255 characters each:
# https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GitFilePathFilterCriteria.html
MAX_TRIGGER_PATHS = 8
MAX_TRIGGER_PATH_LENGTH = 255

_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9-]{0,14}[a-z0-9]$|^[a-z]$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
# git-check-ref-format, the parts that matter for a branch name typed into config.
_BRANCH_FORBIDDEN = re.compile(r"(\.\.|@\{|[\x00-\x20~^:?*\[\\\x7f]|//)")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$"
)
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
# The complete ARN, with the six characters Secrets Manager appends to the name: CodeBuild would resolve
# a partial ARN, but the build role's policy names the same string, which IAM then matches against the
# secret's complete ARN and refuses (https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen).
_SECRETS_MANAGER_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$"
)
_PARTIAL_SECRETS_MANAGER_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:")
_SSM_PARAMETER = re.compile(r"^/[A-Za-z0-9_.\-/]{1,1010}$")
_DEPLOY_STACK = re.compile(r"^[\w.-]{1,100}(/[\w.-]{1,100}){0,2}$")
# GitHub's OIDC subject names the repository as owner/repo, or with immutable subject claims as
# owner@<org id>/repo@<repo id> (both ids or neither).
_GITHUB_REPOSITORY = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$|^[A-Za-z0-9][A-Za-z0-9-]{0,38}@\d+/[A-Za-z0-9._-]{1,100}@\d+$"
)
_GITHUB_OIDC_PROVIDER_ARN = re.compile(
    r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/" + re.escape(GITHUB_OIDC_HOST) + "$"
)
# A self-managed Pulumi backend in S3: s3://<bucket>[/<prefix>][?region=...&awssdk=v2&profile=...]
# https://www.pulumi.com/docs/iac/concepts/state-and-backends/#aws-s3
_S3_BACKEND_URL = re.compile(r"^s3://(?!xn--)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^?\s]*)?(\?\S*)?$")
_S3_BUCKET = re.compile(r"^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# AWS Chatbot's API model (pipeline/chatbot.py): the workspace (team) ID and the channel ID of a Slack channel.
_SLACK_TEAM_ID = re.compile(rf"^(?:{SLACK_TEAM_ID_PATTERN})$")
_SLACK_CHANNEL_ID = re.compile(rf"^(?=.{{1,{SLACK_CHANNEL_ID_MAX}}}$)(?:{SLACK_CHANNEL_ID_PATTERN})$")
# What someone who mistakes Chatbot for a Slack app might paste instead of an ID: an incoming-webhook URL or a
# Slack token (xoxb-, xoxp-, ..., xapp-: https://docs.slack.dev/authentication/tokens). Both are secrets, and
# an error never repeats them.
_SLACK_SECRET = re.compile(r"hooks\.slack\.com/|\bxox[a-z]-|\bxapp-")
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
# A service name goes into every physical name of its pipeline: lower case so IAM's case-insensitive
# role names cannot collide, no leading or trailing '-' so `cicd-<env>-<name>-...` stays readable.
SERVICE_NAME_MAX = 20
_SERVICE_NAME = re.compile(rf"^[a-z][a-z0-9-]{{0,{SERVICE_NAME_MAX - 2}}}[a-z0-9]$")
# A folder inside the checkout: relative, no '.' or '..' segments (the build must not leave the
# repository), characters a shell needs no quoting for.
_DIRECTORY = re.compile(r"^(?!.*(^|/)\.\.?(/|$))[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")

# Where each step's identity comes from: cicd-bootstrap, run once per target account (bootstrap/README.md).
BOOTSTRAP_HINT = "run the bootstrap in the target account (bootstrap/README.md) and copy its {output} output"

# A step's assumed-role keys come from role chaining (the CodeBuild role's session assumes the bootstrap
# role), which STS caps at one hour: "Role chaining limits your ... role session to a maximum of one hour."
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html
CHAINED_SESSION_MINUTES = 60


# --- The physical names a service's pipeline gets, and the AWS limits they must fit -----------------

# Pulumi auto-names a resource `<logical name>-<7 random hex characters>`:
# https://www.pulumi.com/docs/iac/concepts/resources/names/#autonaming
AUTONAME_SUFFIX_LENGTH = len("-") + 7


@dataclass(frozen=True)
class DerivedName:
    """A physical name each named service gets, from `{environment}` and `{service}`, and its AWS limit."""

    what: str
    template: str
    limit: int
    # Pulumi appends AUTONAME_SUFFIX_LENGTH characters to the logical name.
    autonamed: bool
    # The API shape that holds the limit (tests/test_settings.py checks it against botocore's models).
    api: tuple[str, str]
    reference: str

    def render(self, environment: str, service: str) -> str:
        """The name as AWS sees it, the random suffix shown as x's."""
        name = self.template.format(environment=environment, service=service)
        return name + "-" + "x" * (AUTONAME_SUFFIX_LENGTH - 1) if self.autonamed else name

    def room_for_service(self, environment: str) -> int:
        """How many characters the service name may have before this name passes its limit."""
        return self.limit - len(self.render(environment, ""))


_IAM_QUOTAS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
# The per-service names of the composed stack (`cicd-<env>-<service>` prefixes the logical names that
# the implicit single service, named "", spells `cicd-<env>-...`). The longest of each type decides.
DERIVED_NAMES = (
    DerivedName("IAM role of the pipeline", "cicd-{environment}-{service}-pipeline-role", 64, True,
                ("iam", "roleNameType"), _IAM_QUOTAS),
    DerivedName("IAM role of the deploy step", "cicd-{environment}-{service}-deploy-role", 64, True,
                ("iam", "roleNameType"), _IAM_QUOTAS),
    DerivedName("IAM role of the build step", "cicd-{environment}-{service}-build-role", 64, True,
                ("iam", "roleNameType"), _IAM_QUOTAS),
    DerivedName("EventBridge rule of the failure alert", "cicd-{environment}-{service}-pipeline-failed", 64, True,
                ("events", "RuleName"), "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html"),
    DerivedName("EventBridge rule of the action alert", "cicd-{environment}-{service}-action-failed", 64, True,
                ("events", "RuleName"), "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html"),
    DerivedName("CodePipeline pipeline", "cicd-{environment}-{service}-pipeline", 100, True,
                ("codepipeline", "PipelineName"),
                "https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PipelineDeclaration.html"),
    DerivedName("CodeBuild report group of the build step's coverage",
                "cicd-{environment}-{service}-build-reports-coverage", 128, True, ("codebuild", "ReportGroupName"),
                "https://docs.aws.amazon.com/codebuild/latest/APIReference/API_CreateReportGroup.html"),
    DerivedName("CodeBuild project of the deploy step", "cicd-{environment}-{service}-deploy", 150, True,
                ("codebuild", "ProjectName"), "https://docs.aws.amazon.com/codebuild/latest/APIReference/API_CreateProject.html"),
    DerivedName("CloudWatch log group of the deploy step", "/" + PROJECT + "/{environment}/{service}/codebuild/deploy",
                512, False, ("logs", "LogGroupName"),
                "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html"),
)  # fmt: skip


def max_service_name_length(environment: str) -> tuple[int, DerivedName | None]:
    """The longest service name `environment` leaves room for, and the derived name that limits it (if any)."""
    tightest = min(DERIVED_NAMES, key=lambda name: name.room_for_service(environment))
    room = tightest.room_for_service(environment)
    return (room, tightest) if room < SERVICE_NAME_MAX else (SERVICE_NAME_MAX, None)


# --- Field types: each checks one value and says what is allowed ------------------------------------


def _matching(pattern: re.Pattern[str], allowed: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(allowed)
        return value

    return AfterValidator(check)


def _one_of(allowed: Sequence[str], *, lower: bool = False) -> BeforeValidator:
    """Checked before the Literal type, so the message lists the values the way people type them."""

    def check(value: Any) -> Any:
        if isinstance(value, bool) and lower:
            value = "true" if value else "false"  # YAML's true/false inside a service object
        if isinstance(value, str):
            value = value.strip().lower() if lower else value.strip()
        if value not in allowed:
            raise ValueError("allowed values are " + ", ".join(allowed))
        return value

    return BeforeValidator(check)


def _branch(value: str) -> str:
    bad = (
        not value
        or len(value) > 255
        or value.startswith(("/", "-", "."))
        or value.endswith(("/", ".", ".lock"))
        or _BRANCH_FORBIDDEN.search(value) is not None
    )
    if bad:
        raise ValueError("expected a git branch name (no spaces, '..', '~^:?*[\\', leading '-' or '/')")
    return value


def _build_image(value: str) -> str:
    if not value or len(value) > 255 or any(ch.isspace() for ch in value):
        raise ValueError("expected an image name such as " + DEFAULT_BUILD_IMAGE)
    return value


def _object_key(value: str) -> str:
    if not value or len(value) > 1024 or value.startswith("/"):
        raise ValueError("expected an S3 object key such as source.zip")
    return value


def _in_range(low: int, high: int) -> AfterValidator:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"expected a whole number from {low} to {high}")
        return value

    return AfterValidator(check)


def _key_value(what: str) -> Callable[[Any], tuple[str, str]]:
    """A `KEY=VALUE` string (Pulumi's typed project config has no map type) as a pair."""

    def split(item: Any) -> tuple[str, str]:
        if not isinstance(item, str):
            raise ValueError(f"each entry must be a KEY=VALUE string ({what})")
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"each entry must be KEY=VALUE ({what})")
        return key.strip(), value.strip()

    return split


def _plain_variable(pair: tuple[str, str]) -> tuple[str, str]:
    name = pair[0]
    if not _ENV_NAME.match(name):
        raise ValueError("variable names are letters, digits and _")
    if _SECRET_LOOKING_NAME.search(name):
        raise ValueError(
            f"{name} looks like a secret; plain-text variables are visible in the CodeBuild console, "
            "so put it in Secrets Manager or SSM and list it under buildSecrets as NAME=<secret ARN or /parameter>"
        )
    return pair


def _build_secret(item: Any) -> BuildSecret:
    name, reference = _key_value("NAME=<Secrets Manager ARN or /ssm/parameter>")(item)
    if not _ENV_NAME.match(name):
        raise ValueError("variable names are letters, digits and _")
    if _SECRETS_MANAGER_ARN.match(reference):
        return BuildSecret(name, reference, "SECRETS_MANAGER")
    if _SSM_PARAMETER.match(reference):
        return BuildSecret(name, reference, "PARAMETER_STORE")
    if _PARTIAL_SECRETS_MANAGER_ARN.match(reference):
        raise ValueError(
            "a Secrets Manager reference must be the secret's complete ARN, ending in the -XXXXXX suffix "
            "Secrets Manager adds (the console's Secret ARN), or the build role's policy would not match it"
        )
    raise ValueError(
        "each value must be a Secrets Manager ARN (arn:aws:secretsmanager:...) or an SSM "
        "parameter name starting with '/'; never the secret itself"
    )


def _tag(pair: tuple[str, str]) -> tuple[str, str]:
    key, value = pair
    if key.lower().startswith("aws:") or key in _RESERVED_TAG_KEYS:
        raise ValueError("keys starting with aws: and Project, Environment, ManagedBy, Stack are reserved")
    if not _TAG_KEY.match(key):
        raise ValueError("tag keys are 1-128 letters, digits, spaces and _.:/=+-@")
    if not _TAG_VALUE.match(value):
        raise ValueError("tag values are 0-256 letters, digits, spaces and _.:/=+-@")
    return pair


def _token(value: SecretStr) -> SecretStr:
    if not _PULUMI_ACCESS_TOKEN.match(value.get_secret_value()):
        raise ValueError("expected a Pulumi access token (pul-...)")
    return value


def _trigger_path(value: str) -> str:
    if not value or len(value) > MAX_TRIGGER_PATH_LENGTH:
        raise ValueError(f"expected a file path glob of 1-{MAX_TRIGGER_PATH_LENGTH} characters such as services/api/**")
    if value.startswith("/"):
        # CodePipeline matches the paths a commit changes, relative to the repository root.
        raise ValueError("paths are relative to the repository root: services/api/**, not /services/api/**")
    return value


def _role_arn(step: str) -> AfterValidator:
    return _matching(_ROLE_ARN, f"expected an IAM role ARN (arn:aws:iam::<account>:role/<name>) for the {step} step")


Environment = Annotated[
    str, _matching(_ENVIRONMENT, "1-16 characters: lower-case letters, digits and '-', starting with a letter")
]
Repository = Annotated[str, _matching(_REPOSITORY, "expected owner/repo, e.g. my-org/my-service")]
Branch = Annotated[str, AfterValidator(_branch)]
DeployStack = Annotated[
    str, _matching(_DEPLOY_STACK, "expected a Pulumi stack name such as dev or my-org/my-service/dev")
]
Email = Annotated[str, _matching(_EMAIL, "expected e-mail addresses such as team@example.com")]
PlainVariable = Annotated[
    tuple[str, str], BeforeValidator(_key_value("plain-text build variables")), AfterValidator(_plain_variable)
]
SecretVariable = Annotated[BuildSecret, BeforeValidator(_build_secret)]
Tag = Annotated[tuple[str, str], BeforeValidator(_key_value("tag Key=Value")), AfterValidator(_tag)]
Compute = Annotated[ComputeType, _one_of(COMPUTE_TYPES)]
# "" (no coverage report) or a format of pipeline/reports.py.
Coverage = Annotated[Literal["", CoverageFormat], _one_of(("", *COVERAGE_FORMATS))]
Approval = Annotated[TriState, _one_of(get_args(TriState), lower=True)]
ServiceName = Annotated[
    str,
    _matching(
        _SERVICE_NAME,
        f"2-{SERVICE_NAME_MAX} characters: lower-case letters, digits and '-', starting with a letter and "
        "not ending with '-'",
    ),
]
TriggerPath = Annotated[str, AfterValidator(_trigger_path)]
Directory = Annotated[
    str,
    _matching(
        _DIRECTORY,
        "expected a folder relative to the repository root such as services/api (letters, digits, '_.-' "
        "and '/', no '.' or '..' segments), or empty for the root",
    ),
]

StackRepository = Annotated[
    str, _matching(_REPOSITORY, "expected owner/repo, e.g. my-org/my-service (required when sourceType is codestar)")
]
ConnectionArn = Annotated[
    str,
    _matching(
        _CONNECTION_ARN,
        "expected arn:aws:codestar-connections:<region>:<account>:connection/<uuid>, or empty to create one",
    ),
]
SourceBucket = Annotated[str, _matching(_S3_BUCKET, "expected an S3 bucket name (required when sourceType is s3)")]
DeployRoleArn = Annotated[str, _role_arn("Deploy")]
PreviewRoleArn = Annotated[str, _role_arn("Build (preview)")]
BackendUrl = Annotated[str, _matching(_S3_BACKEND_URL, "expected s3://<bucket>[/<prefix>][?region=<region>]")]
GitHubRepository = Annotated[
    str,
    _matching(
        _GITHUB_REPOSITORY,
        "expected owner/repo exactly as GitHub spells it, or owner@<org id>/repo@<repo id> where the repository "
        "issues immutable OIDC subjects; empty for no GitHub roles",
    ),
]
OidcProviderArn = Annotated[
    str,
    _matching(
        _GITHUB_OIDC_PROVIDER_ARN,
        f"expected arn:aws:iam::<account>:oidc-provider/{GITHUB_OIDC_HOST}, or empty to create the provider",
    ),
]
StateBucket = Annotated[
    str,
    _matching(
        _S3_BUCKET, "expected the S3 bucket name of the Pulumi backend (s3://<bucket>), or empty for Pulumi Cloud"
    ),
]
SlackWorkspaceId = Annotated[
    str,
    _matching(
        _SLACK_TEAM_ID,
        "expected the Slack workspace ID such as T07EA123LEP (upper-case letters and digits) that the AWS Chatbot "
        "console shows once the workspace is authorized there",
    ),
]
SlackChannelId = Annotated[
    str,
    _matching(
        _SLACK_CHANNEL_ID,
        "expected a Slack channel ID such as C07EZ1ABC23 (letters and digits, the end of the channel's Copy link), "
        "not its #name, nor a webhook URL or token: AWS Chatbot posts as the app authorized in its console",
    ),
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", populate_by_name=False, str_strip_whitespace=True)


class ServiceConfig(BaseModel):
    """One entry of `services`: a repository (or a folder of one) with its own pipeline.

    Field descriptions are the documentation (tools/config_docs.py puts them in docs/configuration.md).
    """

    model_config = _FROZEN

    name: ServiceName = Field(
        description=f"Unique name, part of every physical name of the service's pipeline: 2-{SERVICE_NAME_MAX} of "
        "a-z, 0-9 and '-', fewer with a long environment name (below).",
    )
    repository: Repository = Field(description="GitHub repository as owner/repo; services may share one.")
    branch: Branch | None = Field(None, description="Branch whose pushes start the pipeline.")
    paths: tuple[TriggerPath, ...] = Field(
        (),
        max_length=MAX_TRIGGER_PATHS,
        description="File path globs relative to the repository root (at most 8, e.g. services/api/**): only a "
        "push that changes a matching file starts the pipeline. Empty: any change.",
    )
    directory: Directory = Field(
        "",
        description="Folder of the service's Pulumi project and tests, relative to the repository root; the "
        "build, preview and deploy run there. Empty: the root.",
    )
    deploy_stack: DeployStack | None = Field(
        None, alias="deployStack", description="The Pulumi stack of the service's project that the pipeline deploys."
    )
    require_approval: Approval = Field(
        "auto",
        alias="requireApproval",
        description="Manual approval before Deploy: true, false, or auto for the stack's requireApproval.",
    )
    compute_type: Compute | None = Field(
        None, alias="computeType", description="CodeBuild compute type of the service's build steps."
    )
    coverage_format: Coverage | None = Field(
        None,
        alias="coverageFormat",
        description="Format of the coverage file the service's `make test` writes to reports/coverage.xml.",
    )
    preview_role_arn: PreviewRoleArn | None = Field(
        None, alias="previewRoleArn", description="Role the service's Build step assumes for pulumi preview."
    )
    deploy_role_arn: DeployRoleArn | None = Field(
        None, alias="deployRoleArn", description="Role the service's Deploy step assumes for pulumi up."
    )

    @model_validator(mode="before")
    @classmethod
    def _empty_is_unset(cls, data: Any) -> Any:
        """A field set to "" or null takes its default, as an empty stack key does."""
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value not in ("", None)}
        return data


class _Refusal(Exception):  # noqa: N818 - not an error of the program: a value the config may not hold
    """A value refused by a check across keys; pydantic lets it through unchanged (it is no ValueError)."""

    def __init__(self, location: tuple[int | str, ...], value: object, allowed: str, *, fix: str = "") -> None:
        super().__init__(allowed)
        self.location = location
        self.value = value
        self.allowed = allowed
        self.fix = fix


class StackConfig(BaseModel):
    """The stack's configuration as its file holds it; each alias is a key declared in Pulumi.yaml.

    Field order is the order problems are reported in (the first one raises).
    """

    model_config = _FROZEN

    environment: Environment
    region: Region = Field(alias="aws:region")
    notification_emails: tuple[Email, ...] = Field((), alias="notificationEmails")
    alert_states: tuple[Annotated[AlertState, _one_of(PIPELINE_STATES)], ...] = Field(("FAILED",), alias="alertStates")
    deploy_stack: DeployStack = Field("", alias="deployStack")
    build_image: Annotated[str, AfterValidator(_build_image)] = Field(DEFAULT_BUILD_IMAGE, alias="buildImage")
    build_environment: tuple[PlainVariable, ...] = Field((), alias="buildEnvironment")
    build_secrets: tuple[SecretVariable, ...] = Field((), alias="buildSecrets")
    pulumi_access_token: Annotated[SecretStr, AfterValidator(_token)] | None = Field(None, alias="pulumiAccessToken")
    # CodeBuild's own range (5-2160) is the AWS provider's to check; see _warn_if_builds_outlive_their_keys.
    build_timeout_minutes: int = Field(30, alias="buildTimeoutMinutes")
    source_type: Annotated[SourceType, _one_of(get_args(SourceType))] = Field("codestar", alias="sourceType")
    branch: Branch = Field("main", alias="branch")
    repository: StackRepository = ""
    codestar_connection_arn: ConnectionArn = Field("", alias="codestarConnectionArn")
    source_bucket: SourceBucket = Field("", alias="sourceBucket")
    source_object_key: Annotated[str, AfterValidator(_object_key)] = Field("source.zip", alias="sourceObjectKey")
    compute_type: Compute = Field("BUILD_GENERAL1_SMALL", alias="computeType")
    # CloudWatch's allowed values are the AWS provider's to check (it refuses others at preview).
    log_retention_days: int = Field(30, alias="logRetentionDays")
    artifact_expiry_days: Annotated[int, _in_range(1, 3650)] = Field(30, alias="artifactExpiryDays")
    require_approval: Approval = Field("auto", alias="requireApproval")
    force_destroy_artifacts: Approval = Field("auto", alias="forceDestroyArtifacts")
    execution_mode: Annotated[ExecutionMode, _one_of(EXECUTION_MODES)] = Field("QUEUED", alias="executionMode")
    rollback_on_failure: bool = Field(True, alias="rollbackOnFailure")
    coverage_format: Coverage = Field("", alias="coverageFormat")
    deploy_role_arn: DeployRoleArn = Field(alias="deployRoleArn")
    preview_role_arn: PreviewRoleArn = Field(alias="previewRoleArn")
    backend_url: BackendUrl = Field("", alias="backendUrl")
    tags: tuple[Tag, ...] = Field((), alias="tags")
    github_repository: GitHubRepository = Field("", alias="githubRepository")
    github_oidc_provider_arn: OidcProviderArn = Field("", alias="githubOidcProviderArn")
    github_state_bucket: StateBucket = Field("", alias="githubStateBucket")
    slack_workspace_id: SlackWorkspaceId = Field("", alias="slackWorkspaceId")
    slack_channel_id: SlackChannelId = Field("", alias="slackChannelId")
    services: tuple[ServiceConfig, ...] = Field((), alias="services")

    @model_validator(mode="after")
    def _consistent(self) -> StackConfig:
        """The checks across keys, in the order a reader meets the keys; the first problem is raised."""
        self._each_once("buildEnvironment", [name for name, _ in self.build_environment], "each KEY may appear once")
        self._each_once("buildSecrets", [secret.name for secret in self.build_secrets], "each KEY may appear once")
        self._each_once("tags", [key for key, _ in self.tags], "each KEY may appear once")
        self._variables_unique()
        self._rollback_available()
        self._one_source()
        self._one_backend()
        self._github_complete()
        self._slack_complete()
        self._services_fit()
        return self

    @staticmethod
    def _each_once(key: str, names: Sequence[str], allowed: str) -> None:
        first: dict[str, int] = {}
        for index, name in enumerate(names):
            if name in first:
                raise _Refusal((key, index), name, f"{allowed}; {key}[{first[name]}] already sets {name}")
            first[name] = index

    def _variables_unique(self) -> None:
        """A build variable defined twice would silently lose one of its values in CodeBuild."""
        taken = {
            STACK_VARIABLE: "the stack (deployStack)",
            ASSUME_ROLE_VARIABLE: "the stack (preview/deployRoleArn)",
            BACKEND_URL_VARIABLE: "the stack (backendUrl)",
            # The buildspecs `cd` into it, so a configured value would move every service's build.
            DIRECTORY_VARIABLE: "the stack (services[].directory)",
            # The buildspec's `reports:` keys (pipeline/reports.py).
            TEST_REPORT_GROUP_VARIABLE: "the stack (the Build step's test report group)",
            COVERAGE_REPORT_GROUP_VARIABLE: "the stack (coverageFormat)",
        }
        if self.pulumi_access_token is not None:
            taken[PULUMI_TOKEN_VARIABLE] = "pulumiAccessToken"
        plain = [name for name, _ in self.build_environment]
        secret = [secret.name for secret in self.build_secrets]
        for key, names in (("buildEnvironment", plain), ("buildSecrets", secret)):
            for index, variable in enumerate(names):
                if variable in taken:
                    allowed = f"{variable} is already set by {taken[variable]}; use another name"
                    raise _Refusal((key, index), variable, allowed)
                taken[variable] = key

    def _rollback_available(self) -> None:
        """CodePipeline has no stage rollback in PARALLEL mode, and refuses a rollback failure condition there
        (https://docs.aws.amazon.com/codepipeline/latest/userguide/execution-modes.html)."""
        if self.rollback_on_failure and self.execution_mode == "PARALLEL":
            raise _Refusal(
                ("executionMode",),
                self.execution_mode,
                "the Deploy stage rolls back on failure (rollbackOnFailure), and CodePipeline has no stage "
                "rollback in PARALLEL mode: choose QUEUED or SUPERSEDED",
                fix=f"Set `pulumi config set {_qualified('executionMode')} QUEUED`, or keep PARALLEL without the "
                f"rollback: `pulumi config set {_qualified('rollbackOnFailure')} false`",
            )

    def _one_source(self) -> None:
        if self.services and self.source_type != "codestar":
            raise _Refusal(
                ("sourceType",),
                self.source_type,
                "services build from GitHub through the stack's connection, so sourceType must be codestar "
                "(the s3 source is one zip for one pipeline)",
                fix=f"Set it with `pulumi config set {_qualified('sourceType')} codestar`, or remove the services "
                f"with `pulumi config rm {_qualified('services')}`",
            )
        if self.services and self.repository:
            raise _Refusal(
                ("repository",),
                self.repository,
                "one or the other: with services, each service names its repository",
                fix=f"Remove it with `pulumi config rm {_qualified('repository')}`, or remove the services with "
                f"`pulumi config rm {_qualified('services')}`",
            )
        if self.source_type == "codestar" and not self.services and not self.repository:
            raise _Refusal(
                ("repository",),
                UNSET,
                "expected owner/repo, e.g. my-org/my-service (required when sourceType is codestar)",
            )
        if self.source_type == "s3" and not self.source_bucket:
            raise _Refusal(("sourceBucket",), UNSET, "expected an S3 bucket name (required when sourceType is s3)")

    def _one_backend(self) -> None:
        """Exactly one backend for the service's stack: the bootstrap's S3 bucket, or Pulumi Cloud with a token.

        Without either, `pulumi login` in the build has nowhere to go and the first run fails.
        """
        if self.backend_url and self.pulumi_access_token is not None:
            raise _Refusal(
                ("backendUrl",),
                self.backend_url,
                "one backend only: clear backendUrl to use Pulumi Cloud, or `pulumi config rm pulumiAccessToken` "
                "to use this S3 backend",
            )
        if not self.backend_url and self.pulumi_access_token is None:
            raise _Refusal(
                ("backendUrl",),
                UNSET,
                "required: the S3 state backend s3://<bucket> (" + BOOTSTRAP_HINT.format(output="backendUrl") + "), "
                "or Pulumi Cloud with `pulumi config set --secret pulumiAccessToken <token>` instead",
            )

    def _github_complete(self) -> None:
        for key, value in (
            ("githubOidcProviderArn", self.github_oidc_provider_arn),
            ("githubStateBucket", self.github_state_bucket),
        ):
            if value and not self.github_repository:
                raise _Refusal(
                    (key,), value, "only used together with githubRepository; set that too or clear this key"
                )

    def _slack_complete(self) -> None:
        """Both Slack keys or neither: AWS Chatbot's channel configuration takes the workspace and the channel."""
        pairs = (
            ("slackChannelId", self.slack_channel_id, "slackWorkspaceId", self.slack_workspace_id,
             "the ID of the Slack channel the alerts go to, such as C07EZ1ABC23"),
            ("slackWorkspaceId", self.slack_workspace_id, "slackChannelId", self.slack_channel_id,
             "the Slack workspace ID such as T07EA123LEP that the AWS Chatbot console shows once the workspace is "
             "authorized there"),
        )  # fmt: skip
        for missing, value, other, other_value, what in pairs:
            if other_value and not value:
                raise _Refusal(
                    (missing,),
                    UNSET,
                    f"required with {other}: {what}",
                    fix=f"Set it with `pulumi config set {_qualified(missing)} <value>`, or remove the other with "
                    f"`pulumi config rm {_qualified(other)}`",
                )

    def _services_fit(self) -> None:
        """Every service name once, and short enough that each name derived from it fits AWS's limit."""
        first: dict[str, int] = {}
        longest, limiting = max_service_name_length(self.environment)
        for index, service in enumerate(self.services):
            if service.name in first:
                raise _Refusal(
                    ("services", index, "name"),
                    service.name,
                    f"each service name may appear once (services[{first[service.name]}] has it already): the "
                    "names of their pipelines, projects and roles would collide",
                )
            first[service.name] = index
            if limiting is not None and len(service.name) > longest:
                example = limiting.render(self.environment, service.name)
                raise _Refusal(
                    ("services", index, "name"),
                    service.name,
                    f"at most {longest} characters with environment {self.environment!r}: the {limiting.what} "
                    f"{example} would have {len(example)} characters, and AWS allows {limiting.limit}",
                )


# --- The program's view: stack-wide values and the services, every default resolved ----------------

_RESOLVED = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class SourceSettings(BaseModel):
    """Where the stack's pipelines take their code from: the connection or the zip every service shares.

    `repository` and `branch` are the stack-level keys; each pipeline's own are in `Settings.services`.
    """

    model_config = _RESOLVED

    type: SourceType
    repository: str = ""
    branch: str = "main"
    connection_arn: str = ""
    bucket: str = ""
    object_key: str = ""


class GitHubSettings(BaseModel):
    """Which GitHub repository's Actions may preview and deploy the stack; empty means none."""

    model_config = _RESOLVED

    repository: str = ""
    oidc_provider_arn: str = ""
    state_bucket: str = ""


class SlackSettings(BaseModel):
    """The Slack channel the alerts also go to, through AWS Chatbot; empty IDs mean none."""

    model_config = _RESOLVED

    workspace_id: str = ""
    channel_id: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.workspace_id and self.channel_id)


class ServiceSettings(BaseModel):
    """One pipeline: what it builds and how, every override resolved against the stack's defaults."""

    model_config = _RESOLVED

    # "" for the implicit single service built from repository/branch: it keeps today's resource names.
    name: str
    # owner/repo; "" with the s3 source.
    repository: str
    branch: str
    # V2 git trigger file-path include globs; () = any change in the repository.
    paths: tuple[str, ...] = ()
    # Where the service's Pulumi project and tests live; "" = the repository root.
    directory: str = ""
    deploy_stack: str
    require_approval: bool
    compute_type: str
    # The format of reports/coverage.xml (pipeline/reports.py); None for no coverage report.
    coverage_format: CoverageFormat | None = None
    preview_role_arn: str
    deploy_role_arn: str


class Settings(BaseModel):
    """Everything the stack is configured with, validated: the stack-wide values, and the services."""

    model_config = _RESOLVED

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
    # A failed Deploy stage rolls back (pipeline/delivery.py); never together with PARALLEL.
    rollback_on_failure: bool = True
    deploy_stack: str
    deploy_role_arn: str
    preview_role_arn: str
    # The S3 state backend of the service's stack (s3://...); empty with Pulumi Cloud (pulumi_access_token).
    backend_url: str
    build_environment: tuple[tuple[str, str], ...]
    build_secrets: tuple[BuildSecret, ...]
    # Never empty: without the `services` key, one service named "" from repository and branch.
    services: tuple[ServiceSettings, ...] = Field(min_length=1)
    extra_tags: tuple[tuple[str, str], ...] = ()
    github: GitHubSettings = GitHubSettings()
    slack: SlackSettings = SlackSettings()
    # A secret Output (never plain text in the settings); stored in Secrets Manager by the stack.
    pulumi_access_token: pulumi.Output[str] | None = Field(default=None, repr=False, exclude=True)

    @property
    def is_production(self) -> bool:
        return self.environment in PRODUCTION_ENVIRONMENTS

    @property
    def name_prefix(self) -> str:
        """A short, readable prefix for physical names: `cicd-<environment>`."""
        return f"cicd-{self.environment}"

    def service_prefix(self, service: ServiceSettings) -> str:
        """`cicd-<environment>-<service>`, or `cicd-<environment>` for the implicit service (today's names)."""
        return f"{self.name_prefix}-{service.name}" if service.name else self.name_prefix

    def default_tags(self) -> dict[str, str]:
        """Tags every resource carries through the provider's `default_tags`."""
        return {
            **dict(self.extra_tags),
            "Project": self.project,
            "Environment": self.environment,
            "ManagedBy": "pulumi",
            "Stack": self.stack,
        }


def _resolve(flag: TriState, auto: bool) -> bool:
    return auto if flag == "auto" else flag == "true"


def _services(config: StackConfig, defaults: ServiceSettings) -> tuple[ServiceSettings, ...]:
    """The configured services over the stack's defaults, or the one implicit service (`defaults`)."""
    if not config.services:
        return (defaults,)
    return tuple(
        ServiceSettings(
            name=service.name,
            repository=service.repository,
            branch=service.branch or defaults.branch,
            paths=service.paths,
            directory=service.directory,
            deploy_stack=service.deploy_stack or defaults.deploy_stack,
            require_approval=_resolve(service.require_approval, defaults.require_approval),
            compute_type=service.compute_type or defaults.compute_type,
            coverage_format=service.coverage_format or defaults.coverage_format,
            preview_role_arn=service.preview_role_arn or defaults.preview_role_arn,
            deploy_role_arn=service.deploy_role_arn or defaults.deploy_role_arn,
        )
        for service in config.services
    )


def _settings(config: StackConfig, stack: str) -> Settings:
    production = config.environment in PRODUCTION_ENVIRONMENTS
    deploy_stack = config.deploy_stack or config.environment
    require_approval = _resolve(config.require_approval, production)
    codestar = config.source_type == "codestar"
    source = SourceSettings(
        type=config.source_type,
        repository=config.repository if codestar else "",
        branch=config.branch,
        connection_arn=config.codestar_connection_arn if codestar else "",
        bucket="" if codestar else config.source_bucket,
        object_key="" if codestar else config.source_object_key,
    )
    implicit = ServiceSettings(
        name="",
        repository=source.repository,
        branch=source.branch,
        deploy_stack=deploy_stack,
        require_approval=require_approval,
        compute_type=config.compute_type,
        coverage_format=config.coverage_format or None,
        preview_role_arn=config.preview_role_arn,
        deploy_role_arn=config.deploy_role_arn,
    )
    token = config.pulumi_access_token
    return Settings(
        project=PROJECT,
        stack=stack,
        environment=config.environment,
        region=config.region,
        source=source,
        build_image=config.build_image,
        compute_type=config.compute_type,
        build_timeout_minutes=config.build_timeout_minutes,
        log_retention_days=config.log_retention_days,
        artifact_expiry_days=config.artifact_expiry_days,
        notification_emails=config.notification_emails,
        alert_states=tuple(sorted(set(config.alert_states), key=PIPELINE_STATES.index)),
        require_approval=require_approval,
        force_destroy_artifacts=_resolve(config.force_destroy_artifacts, not production),
        execution_mode=config.execution_mode,
        rollback_on_failure=config.rollback_on_failure,
        deploy_stack=deploy_stack,
        deploy_role_arn=config.deploy_role_arn,
        preview_role_arn=config.preview_role_arn,
        backend_url=config.backend_url,
        build_environment=config.build_environment,
        build_secrets=config.build_secrets,
        services=_services(config, implicit),
        extra_tags=config.tags,
        github=GitHubSettings(
            repository=config.github_repository,
            oidc_provider_arn=config.github_oidc_provider_arn,
            state_bucket=config.github_state_bucket,
        ),
        slack=SlackSettings(workspace_id=config.slack_workspace_id, channel_id=config.slack_channel_id),
        pulumi_access_token=None if token is None else pulumi.Output.secret(token.get_secret_value()),
    )


# --- Errors: the key's path, the value, what is allowed, and the command that fixes it --------------

HIDDEN = "<hidden>"
# Keys whose values an error never repeats.
_SECRET_KEYS = frozenset({"pulumiAccessToken"})
# What a missing required key (or service field) must hold, by its name.
_REQUIRED = {
    "environment": "required: a short lower-case name such as dev or prod",
    "aws:region": "required: an AWS region such as eu-west-1",
    "deployRoleArn": "required: the role the Deploy step assumes; " + BOOTSTRAP_HINT.format(output="deployRoleArn"),
    "previewRoleArn": "required: the role the Build (preview) step assumes; "
    + BOOTSTRAP_HINT.format(output="previewRoleArn"),
    "name": "required: each service has a name",
    "repository": "required: each service names its GitHub repository as owner/repo",
}
_SERVICE_FIELDS = ", ".join(field.alias or name for name, field in ServiceConfig.model_fields.items())
# Service fields that hold lists (set one item at a time, too).
_SERVICE_LIST_FIELDS = frozenset(
    field.alias or name for name, field in ServiceConfig.model_fields.items() if get_origin(field.annotation) is tuple
)
# What a list key holds, for an error about the list itself.
_LIST_OF = {
    "services": f"a list of services, objects with {_SERVICE_FIELDS}",
    "buildEnvironment": "a list of strings NAME=value",
    "buildSecrets": "a list of strings NAME=<secret reference>",
    "tags": "a list of strings Key=Value",
}


def _qualified(key: str) -> str:
    return qualified_key(PROJECT, key)


def _json_keys() -> frozenset[str]:
    """The keys that hold lists or objects: the CLI passes them as JSON, read with get_object."""
    return frozenset(
        field.alias or name for name, field in StackConfig.model_fields.items() if get_origin(field.annotation) is tuple
    )


def _path(location: Iterable[int | str]) -> str:
    """A pydantic error location as a `pulumi config --path` path: `cicd-pipeline:services[1].branch`."""
    return config_path(PROJECT, location)


def _command(location: tuple[int | str, ...], *, remove: bool = False) -> str:
    """The `pulumi config` command that fixes the value at `location`: --path inside a list or a service."""
    key = str(location[0])
    if remove:
        flag = " --path" if len(location) > 1 else ""
        return f"Remove it with `pulumi config rm{flag} '{_path(location)}'`"
    if len(location) == 1 and key in _json_keys():
        location = (*location, 0, "name") if key == "services" else (*location, 0)  # set one item at a time
    elif location[-1] in _SERVICE_LIST_FIELDS:
        location = (*location, 0)
    if len(location) > 1:
        return f"Set it with `pulumi config set --path '{_path(location)}' <value>`"
    secret = " --secret" if key in _SECRET_KEYS else ""
    return f"Set it with `pulumi config set{secret} {_path(location)} <value>`"


def _shown(location: tuple[int | str, ...], value: object) -> str:
    """The value as the error repeats it: never a secret, and not a whole page of services."""
    key = str(location[0])
    if value is UNSET:
        return UNSET
    if key in _SECRET_KEYS or (isinstance(value, str) and _SLACK_SECRET.search(value)):
        return HIDDEN
    if key == "buildSecrets":
        if len(location) == 1:
            return HIDDEN
        name = value.name if isinstance(value, BuildSecret) else str(value).partition("=")[0]
        return f"{name}={HIDDEN}"
    shown = (
        json.dumps(value, separators=(",", ":"), default=str) if isinstance(value, (dict, list, tuple)) else repr(value)
    )
    return shown if len(shown) <= 200 else shown[:200] + "..."


def _error(
    location: tuple[int | str, ...], value: object, allowed: str, fix: str = "", *, remove: bool = False
) -> pulumi.RunError:
    fix = fix or _command(location, remove=remove)
    return config_error(_path(location), _shown(location, value), allowed, fix)


def _allowed(error: ErrorDetails) -> str:
    """What is allowed, in the words of the check that refused the value."""
    kind, location = error["type"], error["loc"]
    key = str(location[0])
    if kind == "missing":
        return _REQUIRED.get(str(location[-1]), "required")
    if kind == "extra_forbidden":
        return f"unknown field; a service takes {_SERVICE_FIELDS}"
    if kind in ("tuple_type", "list_type"):
        return (
            "expected " + _LIST_OF.get(key, "a list of strings") if len(location) == 1 else "expected a list of strings"
        )
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a service: an object with {_SERVICE_FIELDS}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "expected a whole number"
    if kind == "string_type":
        return "expected a string"
    if kind == "too_long":
        return f"at most {MAX_TRIGGER_PATHS} paths: CodePipeline's limit of file-path filters on a trigger"
    return error["msg"].removeprefix("Value error, ")


def _read(config_for: Callable[[str], pulumi.Config]) -> dict[str, Any]:
    """The keys that are set, as the model takes them; unset or empty keys keep the model's defaults."""
    raw: dict[str, Any] = {}
    json_keys = _json_keys()
    for name, field in StackConfig.model_fields.items():
        key = field.alias or name
        namespace, _, short = _qualified(key).partition(":")
        config = config_for(namespace)
        try:
            value = config.get_object(short) if key in json_keys else config.get(short)
        except pulumi.ConfigTypeError:
            allowed = "expected " + _LIST_OF.get(key, "a list of strings")
            raise _error((key,), config.get(short), allowed + " (YAML in the stack file, or JSON)") from None
        if isinstance(value, str):
            value = value.strip()
        if value in (None, "", []):
            continue
        if key in _SECRET_KEYS:
            if not pulumi.runtime.is_config_secret(_qualified(key)):
                raise _error(
                    (key,),
                    value,
                    "it is stored in plain text; only an encrypted value is allowed "
                    f"(`pulumi config rm {_qualified(key)}` it)",
                )
            value = SecretStr(value)
        raw[key] = value
    return raw


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
    try:
        config = StackConfig.model_validate(_read(config_for))
    except ValidationError as invalid:
        first, location, value = first_refusal(invalid)
        fix = ""
        if first["type"] == "too_long":  # the items past the limit are the ones to remove
            fix = _command((*location, MAX_TRIGGER_PATHS), remove=True) + ", and any after it"
        remove = first["type"] == "extra_forbidden"
        raise _error(location, value, _allowed(first), fix, remove=remove) from None
    except _Refusal as refused:
        raise _error(refused.location, refused.value, refused.allowed, refused.fix) from None
    _warn_if_builds_outlive_their_keys(config.build_timeout_minutes)
    return _settings(config, stack())
