"""What a stack costs per month while no build runs, itemised by resource from the captured graph.

Every cloud resource type the program can register has a rule here; a type without one is an
error (UnpricedResourceError), so a new resource cannot slip into the stack unpriced.

Prices are AWS list prices in USD, read from the pricing pages below on PRICES_READ_ON (the
README's benchmarks section lists them). The idle charges (KMS key storage, Secrets Manager
secrets) are the same in every commercial region, eu-west-1 included; usage rates quoted
in the notes are eu-west-1's. Free tiers are ignored: they are shared by the whole account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from harness.capture import RegisteredResource, StackGraph

PRICES_READ_ON = "2026-11-26"

KMS_PRICING = "https://aws.amazon.com/kms/pricing/"
KMS_ROTATION_PRICE_CAP = (
    "https://aws.amazon.com/blogs/security/the-curious-case-of-faster-aws-kms-symmetric-key-rotation/"
)
CODEPIPELINE_PRICING = "https://aws.amazon.com/codepipeline/pricing/"
CODEBUILD_PRICING = "https://aws.amazon.com/codebuild/pricing/"
S3_PRICING = "https://aws.amazon.com/s3/pricing/"
CLOUDWATCH_PRICING = "https://aws.amazon.com/cloudwatch/pricing/"
SNS_PRICING = "https://aws.amazon.com/sns/pricing/"
EVENTBRIDGE_PRICING = "https://aws.amazon.com/eventbridge/pricing/"
SECRETS_MANAGER_PRICING = "https://aws.amazon.com/secrets-manager/pricing/"
IAM_PRICING = "https://aws.amazon.com/iam/"

KMS_KEY_MONTHLY = 1.00
# Each automatic rotation adds a key version billed like the key, but only the first two are
# billed since KMS capped rotation charges in 2024: a rotating key ends at 3x the key price.
KMS_BILLED_ROTATIONS = 2
KMS_DEFAULT_ROTATION_DAYS = 365
SECRET_MONTHLY = 0.40
CODEPIPELINE_V1_ACTIVE_MONTHLY = 1.00
S3_STANDARD_GB_MONTH = 0.023
LOGS_STORED_GB_MONTH = 0.03


class UnpricedResourceError(LookupError):
    """The graph holds a resource type this model has no price rule for."""


@dataclass(frozen=True)
class Price:
    """A resource's idle cost: now, and once every time-driven increase (KMS rotations) has happened."""

    monthly_usd: float
    note: str
    source: str
    eventual_monthly_usd: float | None = None

    @property
    def eventually(self) -> float:
        return self.monthly_usd if self.eventual_monthly_usd is None else self.eventual_monthly_usd


@dataclass(frozen=True)
class CostLine:
    """One resource's line on the bill."""

    name: str
    type: str
    price: Price


PriceRule = Callable[[RegisteredResource, StackGraph], Price]


def _free(note: str, source: str) -> PriceRule:
    return lambda _resource, _graph: Price(0.0, note, source)


def _kms_key(key: RegisteredResource, _graph: StackGraph) -> Price:
    if not key.inputs.get("enableKeyRotation"):
        return Price(KMS_KEY_MONTHLY, "customer managed key, no rotation", KMS_PRICING)
    period = int(key.inputs.get("rotationPeriodInDays") or KMS_DEFAULT_ROTATION_DAYS)
    return Price(
        KMS_KEY_MONTHLY,
        f"customer managed key; rotation every {period} days adds $1.00/month at day {period} "
        f"and day {KMS_BILLED_ROTATIONS * period}, later rotations are free",
        f"{KMS_PRICING} + {KMS_ROTATION_PRICE_CAP}",
        eventual_monthly_usd=KMS_KEY_MONTHLY * (1 + KMS_BILLED_ROTATIONS),
    )


def _pipeline(pipeline: RegisteredResource, _graph: StackGraph) -> Price:
    if pipeline.inputs.get("pipelineType") == "V2":
        return Price(0.0, "V2: $0.002 per action-execution minute, nothing while idle", CODEPIPELINE_PRICING)
    return Price(
        0.0,
        f"V1: ${CODEPIPELINE_V1_ACTIVE_MONTHLY:.2f} in every month a change runs through it (after its "
        "first 30 days); a month without runs is free",
        CODEPIPELINE_PRICING,
    )


def _configured_by(graph: StackGraph, token: str, resource: RegisteredResource) -> list[RegisteredResource]:
    """The `token` resources whose `bucket` input comes from `resource` (e.g. its lifecycle rules)."""
    return [other for other in graph.of_type(token) if other.depends_on("bucket", resource)]


def _expiry_days(lifecycle: RegisteredResource) -> list[int]:
    rules: list[dict[str, Any]] = lifecycle.inputs.get("rules") or []
    return [
        int(rule["expiration"]["days"])
        for rule in rules
        if rule.get("status") == "Enabled" and (rule.get("expiration") or {}).get("days")
    ]


def _bucket(bucket: RegisteredResource, graph: StackGraph) -> Price:
    lifecycles = _configured_by(graph, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", bucket)
    expiries = [days for lifecycle in lifecycles for days in _expiry_days(lifecycle)]
    held = (
        f"objects and old versions expire after {max(expiries)} days, so an idle bucket empties"
        if expiries
        else "no expiry rule: what is stored stays, and is billed"
    )
    return Price(0.0, f"{held}; S3 Standard ${S3_STANDARD_GB_MONTH}/GB-month while held", S3_PRICING)


def _log_group(group: RegisteredResource, _graph: StackGraph) -> Price:
    days = int(group.inputs.get("retentionInDays") or 0)
    held = f"events deleted after {days} days" if days else "no retention: events are kept, and billed, forever"
    return Price(0.0, f"{held}; ${LOGS_STORED_GB_MONTH}/GB-month stored, ingestion per GB", CLOUDWATCH_PRICING)


PRICE_RULES: dict[str, PriceRule] = {
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _free("aliases are free", KMS_PRICING),
    "aws:codepipeline/pipeline:Pipeline": _pipeline,
    "aws:codebuild/project:Project": _free("billed per build minute only", CODEBUILD_PRICING),
    "aws:codestarconnections/connection:Connection": _free("no charge of its own", CODEPIPELINE_PRICING),
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _free("bucket setting", S3_PRICING),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _free("bucket setting", S3_PRICING),
    "aws:s3/bucketVersioning:BucketVersioning": _free("bucket setting (versions are billed as storage)", S3_PRICING),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _free(
        "bucket setting; S3 Bucket Keys keep KMS requests down", S3_PRICING
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _free("bucket setting", S3_PRICING),
    "aws:s3/bucketPolicy:BucketPolicy": _free("bucket setting", S3_PRICING),
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:sns/topic:Topic": _free("per publish and delivery only (e-mail $2.00 per 100,000)", SNS_PRICING),
    "aws:sns/topicSubscription:TopicSubscription": _free("subscriptions are free", SNS_PRICING),
    "aws:sns/topicPolicy:TopicPolicy": _free("topic setting", SNS_PRICING),
    "aws:cloudwatch/eventRule:EventRule": _free("rules on AWS service events are free", EVENTBRIDGE_PRICING),
    "aws:cloudwatch/eventTarget:EventTarget": _free("delivery of AWS service events is free", EVENTBRIDGE_PRICING),
    "aws:iam/role:Role": _free("IAM is free", IAM_PRICING),
    "aws:iam/rolePolicy:RolePolicy": _free("IAM is free", IAM_PRICING),
    "aws:iam/policy:Policy": _free("IAM is free", IAM_PRICING),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _free("IAM is free", IAM_PRICING),
    "aws:secretsmanager/secret:Secret": lambda _resource, _graph: Price(
        SECRET_MONTHLY, "per secret per month, plus $0.05 per 10,000 API calls", SECRETS_MANAGER_PRICING
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": _free("billed as part of its secret", SECRETS_MANAGER_PRICING),
}


def idle_price(resource: RegisteredResource, graph: StackGraph) -> Price:
    rule = PRICE_RULES.get(resource.type)
    if rule is None:
        raise UnpricedResourceError(
            f"no idle price for {resource.type} ({resource.name}): add a rule to benchmarks/costs.py PRICE_RULES"
        )
    return rule(resource, graph)


def itemise(graph: StackGraph) -> list[CostLine]:
    """One line per cloud resource (providers are not billed), dearest first, then by type and name."""
    lines = [CostLine(resource.name, resource.type, idle_price(resource, graph)) for resource in graph.custom()]
    return sorted(lines, key=lambda line: (-line.price.eventually, line.type, line.name))


def total(lines: Iterable[CostLine]) -> tuple[float, float]:
    """(monthly now, monthly once every rotation charge has arrived)."""
    items = list(lines)
    return sum(line.price.monthly_usd for line in items), sum(line.price.eventually for line in items)
