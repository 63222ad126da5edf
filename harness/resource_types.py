"""Every AWS resource type the two programs register, with all that the tools around them know about it.

One frozen `ResourceType` per type holds its four facts:

- `mock`: what the unit tests' mocks (harness/fake_aws.py) answer when the program registers one:
  its id and the outputs pulumi-aws would compute;
- `translator`: how the emulator (emulator/mocks.py, emulator/lifecycle.py) creates it in moto and
  deletes it again. `plan` reads every input through `Fields` and returns the boto3 calls to make;
  the emulator refuses to run them if an input was left unread, so none is dropped silently. The
  outputs are moto's real answers under the names pulumi-aws gives them;
- `price`: its idle monthly cost, for `make bench` (benchmarks/costs.py);
- `label`, derived from the token: the Python SDK's name for it (`aws.s3.Bucket`), which the
  architecture diagram (tools/diagram.py) and the benchmark's counts group resources by.

Layout: one section per AWS service. In a section, each type's mock answer and emulator translator
stand side by side, then its price rule, then its `ResourceType`. RESOURCE_TYPES at the end is the
only table of types: the mocks, the emulator, the cost model and the diagram look types up there and
list none themselves (tests/test_resource_types.py checks both). So adding a type touches three
files: this one, the component in pipeline/ that registers it, and the GitHub roles' catalogue of
calls (pipeline/github_calls.py), which the tests require for every registered type. Only a type
moto cannot hold in full adds a fourth: the README's emulator section lists each gap and placeholder.

Names: where pulumi-aws would autoname, the name is `<logical name>-<7 hex>` derived from the logical
name (`autoname`), in the mocks and in the emulator alike, so both see the same names.

The translators reach the emulator only through what they are handed (a Request, its Target and
Fields), so importing this module, as the unit tests' mocks do, loads neither moto nor boto3.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from emulator.inputs import Fields
    from emulator.resources import Request, Target
    from harness.capture import RegisteredResource, StackGraph


def digest(text: str, length: int = 7) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def stable_uuid(text: str) -> str:
    return str(uuid.UUID(hashlib.sha256(text.encode()).hexdigest()[:32]))


def autoname(logical_name: str) -> str:
    """The physical name pulumi-aws would generate for `logical_name`, without the randomness."""
    return f"{logical_name}-{digest(logical_name)}"


def physical_name(explicit: Any, logical_name: str, *, lower: bool = False) -> str:
    """The configured name, or the autoname (in lower case where AWS allows no other, as for buckets)."""
    if explicit:
        return str(explicit)
    name = autoname(logical_name)
    return name.lower() if lower else name


# --- the facts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MockRequest:
    """One resource the unit tests' mocks answer for: its logical name and inputs, and where it is."""

    logical_name: str
    inputs: Mapping[str, Any]
    region: str
    account_id: str

    def physical_name(self, key: str = "name", *, lower: bool = False) -> str:
        return physical_name(self.inputs.get(key), self.logical_name, lower=lower)

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if regional else ''}:{self.account_id}:{resource}"


# An id and the outputs computed on top of the inputs (the mocks and the emulator both add them).
Created: TypeAlias = tuple[str, dict[str, Any]]
Apply: TypeAlias = Callable[[], Created]
MockAnswer: TypeAlias = Callable[[MockRequest], Created]
Planner: TypeAlias = "Callable[[Request], Apply]"
Deleter: TypeAlias = "Callable[[Target, RegisteredResource], None]"


@dataclass(frozen=True)
class Translator:
    """How the emulator creates one resource type (`plan` reads the inputs, its result calls AWS) and deletes it."""

    plan: Planner
    delete: Deleter
    # Input paths moto cannot hold, and what happens to them instead (the README lists them).
    gaps: Mapping[str, str] = field(default_factory=dict)
    # Set when the resource is only pretended: printed beside its progress line.
    placeholder: str = ""
    # For a resource the program retains: the list of emulator.lifecycle.take_inventory its id shows
    # up in after the destroy, so that it is reported as retained rather than left behind.
    inventory_kind: str = ""


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


PriceRule: TypeAlias = "Callable[[RegisteredResource, StackGraph], Price]"


@dataclass(frozen=True)
class ResourceType:
    """One pulumi-aws resource type (`aws:s3/bucket:Bucket`) and what the mocks, emulator, bench and diagram know."""

    token: str
    mock: MockAnswer
    translator: Translator
    price: PriceRule

    @property
    def sdk_class(self) -> str:
        """`pulumi_aws.s3.Bucket`: the class the program instantiates for this type."""
        _, module, member = self.token.split(":", 2)
        return f"pulumi_aws.{module.split('/')[0]}.{member}"

    @property
    def label(self) -> str:
        """`aws.s3.Bucket`, the name the program spells it by: how the diagram and the counts show the type."""
        return self.sdk_class.removeprefix("pulumi_")


# --- shared by the sections ---------------------------------------------------------------------


def _deleted_by(service: str, operation: str, parameter: str) -> Deleter:
    """A delete that is one call naming the resource by its id."""

    def delete(target: Target, resource: RegisteredResource) -> None:
        getattr(target.client(service), operation)(**{parameter: resource.id})

    return delete


def _present(**params: Any) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}


def _tag_list(tags: Mapping[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: name, value: tags[name]} for name in sorted(tags)]


# Prices are AWS list prices in USD, read from the pricing pages below on PRICES_READ_ON (the README's
# benchmarks section lists them). The idle charges (KMS key storage, Secrets Manager secrets) are the
# same in every commercial region, eu-west-1 included; usage rates quoted in the notes are eu-west-1's.
# Free tiers are ignored: they are shared by the whole account.
PRICES_READ_ON = "2026-11-26"


def _free(note: str, source: str) -> PriceRule:
    return lambda _resource, _graph: Price(0.0, note, source)


# --- KMS ---------------------------------------------------------------------------------------

KMS_PRICING = "https://aws.amazon.com/kms/pricing/"
KMS_ROTATION_PRICE_CAP = (
    "https://aws.amazon.com/blogs/security/the-curious-case-of-faster-aws-kms-symmetric-key-rotation/"
)
KMS_KEY_MONTHLY = 1.00
# Each automatic rotation adds a key version billed like the key, but only the first two are
# billed since KMS capped rotation charges in 2024: a rotating key ends at 3x the key price.
KMS_BILLED_ROTATIONS = 2
KMS_DEFAULT_ROTATION_DAYS = 365


def mock_key(request: MockRequest) -> Created:
    key_id = stable_uuid(request.logical_name)
    return key_id, {"keyId": key_id, "arn": request.arn("kms", f"key/{key_id}")}


def plan_key(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    tags = request.tags()
    params = _present(
        Description=fields.get("description"), Policy=fields.get("policy"), Tags=_tag_list(tags, "TagKey", "TagValue")
    )
    rotate = bool(fields.get("enableKeyRotation"))
    window = fields.integer("deletionWindowInDays")  # used when the key is destroyed

    def apply() -> Created:
        kms = target.client("kms")
        key = kms.create_key(**params)["KeyMetadata"]
        if window is not None:
            target.check("kms", "ScheduleKeyDeletion", {"KeyId": key["KeyId"], "PendingWindowInDays": window})
        if rotate:
            kms.enable_key_rotation(KeyId=key["KeyId"])
        return key["KeyId"], {
            "keyId": key["KeyId"],
            "arn": key["Arn"],
            "keyUsage": key.get("KeyUsage"),
            "customerMasterKeySpec": key.get("KeySpec"),
            "isEnabled": key.get("Enabled"),
            "multiRegion": key.get("MultiRegion"),
            "tagsAll": tags,
        }

    return apply


def delete_key(target: Target, resource: RegisteredResource) -> None:
    # KMS never deletes a key at once; like AWS, the key waits out its window as PendingDeletion.
    window = resource.inputs.get("deletionWindowInDays")
    target.client("kms").schedule_key_deletion(
        KeyId=resource.id, **_present(PendingWindowInDays=None if window is None else int(window))
    )


def price_key(key: RegisteredResource, _graph: StackGraph) -> Price:
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


KMS_KEY = ResourceType(
    "aws:kms/key:Key",
    mock=mock_key,
    translator=Translator(plan_key, delete_key, inventory_kind="kms keys"),
    price=price_key,
)


def mock_alias(request: MockRequest) -> Created:
    name = request.physical_name()
    return name, {"name": name, "arn": request.arn("kms", name), "targetKeyArn": ""}


def plan_alias(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    name = request.physical_name()
    key_id = fields.require("targetKeyId")

    def apply() -> Created:
        kms = target.client("kms")
        kms.create_alias(AliasName=name, TargetKeyId=key_id)
        key_arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
        return name, {"name": name, "arn": target.arn("kms", name), "targetKeyArn": key_arn}

    return apply


KMS_ALIAS = ResourceType(
    "aws:kms/alias:Alias",
    mock=mock_alias,
    translator=Translator(plan_alias, _deleted_by("kms", "delete_alias", "AliasName"), inventory_kind="kms aliases"),
    price=_free("aliases are free", KMS_PRICING),
)


# --- S3 ----------------------------------------------------------------------------------------

S3_PRICING = "https://aws.amazon.com/s3/pricing/"
S3_STANDARD_GB_MONTH = 0.023


def mock_bucket(request: MockRequest) -> Created:
    bucket = request.physical_name("bucket", lower=True)
    return bucket, {
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "region": request.region,
    }


def plan_bucket(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    name = request.physical_name("bucket", lower=True)
    tags = request.tags()
    fields.get("forceDestroy")  # used when the bucket is destroyed
    location = None if target.region == "us-east-1" else {"LocationConstraint": target.region}

    def apply() -> Created:
        s3 = target.client("s3")
        s3.create_bucket(Bucket=name, **_present(CreateBucketConfiguration=location))
        if tags:
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tag_list(tags)})
        suffix = target.partition.dns_suffix
        return name, {
            "bucket": name,
            "arn": f"arn:{target.partition.name}:s3:::{name}",
            "bucketDomainName": f"{name}.s3.{suffix}",
            "bucketRegionalDomainName": f"{name}.s3.{target.region}.{suffix}",
            "region": target.region,
            "tagsAll": tags,
        }

    return apply


def delete_bucket(target: Target, resource: RegisteredResource) -> None:
    s3 = target.client("s3")
    if resource.inputs.get("forceDestroy"):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=resource.id):
            doomed = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                s3.delete_objects(Bucket=resource.id, Delete={"Objects": doomed, "Quiet": True})
    s3.delete_bucket(Bucket=resource.id)


def _expiry_days(lifecycle: RegisteredResource) -> list[int]:
    rules: list[dict[str, Any]] = lifecycle.inputs.get("rules") or []
    return [
        int(rule["expiration"]["days"])
        for rule in rules
        if rule.get("status") == "Enabled" and (rule.get("expiration") or {}).get("days")
    ]


def price_bucket(bucket: RegisteredResource, graph: StackGraph) -> Price:
    # Its lifecycle rules: the configurations whose `bucket` input comes from this bucket.
    lifecycles = [
        lifecycle for lifecycle in graph.of_type(BUCKET_LIFECYCLE.token) if lifecycle.depends_on("bucket", bucket)
    ]
    expiries = [days for lifecycle in lifecycles for days in _expiry_days(lifecycle)]
    held = (
        f"objects and old versions expire after {max(expiries)} days, so an idle bucket empties"
        if expiries
        else "no expiry rule: what is stored stays, and is billed"
    )
    return Price(0.0, f"{held}; S3 Standard ${S3_STANDARD_GB_MONTH}/GB-month while held", S3_PRICING)


BUCKET = ResourceType(
    "aws:s3/bucket:Bucket",
    mock=mock_bucket,
    translator=Translator(plan_bucket, delete_bucket, inventory_kind="s3 buckets"),
    price=price_bucket,
)


def mock_bucket_setting(request: MockRequest) -> Created:
    return str(request.inputs["bucket"]), {}


def _bucket_setting(
    token: str,
    put: str,
    build: Callable[[Fields], dict[str, Any]],
    undo: str | Deleter,
    note: str = "bucket setting",
) -> ResourceType:
    """A bucket sub-resource: one S3 Put call with the bucket's name as id, undone by `undo`; free."""

    def plan(request: Request) -> Apply:
        bucket = request.inputs.require("bucket")
        params = build(request.inputs)

        def apply() -> Created:
            getattr(request.target.client("s3"), put)(Bucket=bucket, **params)
            return bucket, {}

        return apply

    return ResourceType(
        token,
        mock=mock_bucket_setting,
        translator=Translator(plan, undo if callable(undo) else _deleted_by("s3", undo, "Bucket")),
        price=_free(note, S3_PRICING),
    )


def _public_access_block(fields: Fields) -> dict[str, Any]:
    # pulumi-aws sends false for a flag the program leaves out.
    return {
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": bool(fields.get("blockPublicAcls")),
            "IgnorePublicAcls": bool(fields.get("ignorePublicAcls")),
            "BlockPublicPolicy": bool(fields.get("blockPublicPolicy")),
            "RestrictPublicBuckets": bool(fields.get("restrictPublicBuckets")),
        }
    }


BUCKET_PUBLIC_ACCESS_BLOCK = _bucket_setting(
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "put_public_access_block",
    _public_access_block,
    "delete_public_access_block",
)


def _ownership_controls(fields: Fields) -> dict[str, Any]:
    return {"OwnershipControls": {"Rules": [{"ObjectOwnership": fields.block("rule").require("objectOwnership")}]}}


BUCKET_OWNERSHIP_CONTROLS = _bucket_setting(
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "put_bucket_ownership_controls",
    _ownership_controls,
    "delete_bucket_ownership_controls",
)


def _versioning(fields: Fields) -> dict[str, Any]:
    return {"VersioningConfiguration": {"Status": fields.block("versioningConfiguration").require("status")}}


def _suspend_versioning(target: Target, resource: RegisteredResource) -> None:
    # pulumi-aws cannot un-version a bucket; destroying BucketVersioning suspends it.
    target.client("s3").put_bucket_versioning(Bucket=resource.id, VersioningConfiguration={"Status": "Suspended"})


BUCKET_VERSIONING = _bucket_setting(
    "aws:s3/bucketVersioning:BucketVersioning",
    "put_bucket_versioning",
    _versioning,
    _suspend_versioning,
    note="bucket setting (versions are billed as storage)",
)


def _encryption(fields: Fields) -> dict[str, Any]:
    rules = []
    for rule in fields.each("rules"):
        default = rule.nested("applyServerSideEncryptionByDefault")
        by_default = (
            _present(SSEAlgorithm=default.require("sseAlgorithm"), KMSMasterKeyID=default.get("kmsMasterKeyId"))
            if default
            else None
        )
        rules.append(
            _present(ApplyServerSideEncryptionByDefault=by_default, BucketKeyEnabled=rule.get("bucketKeyEnabled"))
        )
    return {"ServerSideEncryptionConfiguration": {"Rules": rules}}


BUCKET_ENCRYPTION = _bucket_setting(
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "put_bucket_encryption",
    _encryption,
    "delete_bucket_encryption",
    note="bucket setting; S3 Bucket Keys keep KMS requests down",
)


def _days(fields: Fields | None, key: str, api_key: str) -> dict[str, int] | None:
    if fields is None:
        return None
    return _present(**{api_key: fields.integer(key)})


def _lifecycle(fields: Fields) -> dict[str, Any]:
    rules = []
    for rule in fields.each("rules"):
        lifecycle_filter = rule.nested("filter")
        rules.append(
            _present(
                ID=rule.get("id"),
                Status=rule.require("status"),
                Filter=None if lifecycle_filter is None else _present(Prefix=lifecycle_filter.get("prefix")),
                Expiration=_days(rule.nested("expiration"), "days", "Days"),
                NoncurrentVersionExpiration=_days(
                    rule.nested("noncurrentVersionExpiration"), "noncurrentDays", "NoncurrentDays"
                ),
                AbortIncompleteMultipartUpload=_days(
                    rule.nested("abortIncompleteMultipartUpload"), "daysAfterInitiation", "DaysAfterInitiation"
                ),
            )
        )
    return {"LifecycleConfiguration": {"Rules": rules}}


BUCKET_LIFECYCLE = _bucket_setting(
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "put_bucket_lifecycle_configuration",
    _lifecycle,
    "delete_bucket_lifecycle",
)


def _bucket_policy(fields: Fields) -> dict[str, Any]:
    return {"Policy": fields.require("policy")}


BUCKET_POLICY = _bucket_setting(
    "aws:s3/bucketPolicy:BucketPolicy", "put_bucket_policy", _bucket_policy, "delete_bucket_policy"
)


# --- IAM (free: https://aws.amazon.com/iam/) ---------------------------------------------------

IAM_PRICING = "https://aws.amazon.com/iam/"
_IAM_IS_FREE = _free("IAM is free", IAM_PRICING)


def mock_role(request: MockRequest) -> Created:
    name = request.physical_name()
    return name, {
        "name": name,
        "arn": request.arn("iam", f"role/{name}", regional=False),
        "uniqueId": "AROA" + digest(name, 17).upper(),
    }


def plan_role(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    name = request.physical_name()
    tags = request.tags()
    params = _present(
        RoleName=name,
        AssumeRolePolicyDocument=fields.require("assumeRolePolicy"),
        Description=fields.get("description"),
        MaxSessionDuration=fields.integer("maxSessionDuration"),
        PermissionsBoundary=fields.get("permissionsBoundary"),
        Tags=_tag_list(tags),
    )

    def apply() -> Created:
        role = target.client("iam").create_role(**params)["Role"]
        return name, {
            "name": name,
            "arn": role["Arn"],
            "uniqueId": role["RoleId"],
            "path": role["Path"],
            "createDate": role["CreateDate"].isoformat(),
            "tagsAll": tags,
        }

    return apply


ROLE = ResourceType(
    "aws:iam/role:Role",
    mock=mock_role,
    translator=Translator(plan_role, _deleted_by("iam", "delete_role", "RoleName"), inventory_kind="iam roles"),
    price=_IAM_IS_FREE,
)


def mock_policy(request: MockRequest) -> Created:
    name = request.physical_name()
    arn = request.arn("iam", f"policy{request.inputs.get('path') or '/'}{name}", regional=False)
    return arn, {"name": name, "arn": arn, "policyId": "ANPA" + digest(name, 17).upper()}


def plan_policy(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    name = request.physical_name()
    tags = request.tags()
    params = _present(
        PolicyName=name,
        Path=fields.get("path"),
        PolicyDocument=fields.require("policy"),
        Description=fields.get("description"),
        Tags=_tag_list(tags),
    )

    def apply() -> Created:
        policy = target.client("iam").create_policy(**params)["Policy"]
        return policy["Arn"], {
            "name": name,
            "arn": policy["Arn"],
            "policyId": policy["PolicyId"],
            "path": policy["Path"],
            "attachmentCount": policy.get("AttachmentCount", 0),
            "tagsAll": tags,
        }

    return apply


# The roles carrying a policy as their boundary depend on it, so they are deleted first.
POLICY = ResourceType(
    "aws:iam/policy:Policy",
    mock=mock_policy,
    translator=Translator(plan_policy, _deleted_by("iam", "delete_policy", "PolicyArn"), inventory_kind="iam policies"),
    price=_IAM_IS_FREE,
)


def mock_role_policy(request: MockRequest) -> Created:
    name = request.physical_name()
    return f"{request.inputs['role']}:{name}", {"name": name}


def plan_role_policy(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    name = request.physical_name()
    role = fields.require("role")
    document = fields.require("policy")

    def apply() -> Created:
        target.client("iam").put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=document)
        return f"{role}:{name}", {"name": name}

    return apply


def delete_role_policy(target: Target, resource: RegisteredResource) -> None:
    role, _, name = resource.id.partition(":")
    target.client("iam").delete_role_policy(RoleName=role, PolicyName=name)


ROLE_POLICY = ResourceType(
    "aws:iam/rolePolicy:RolePolicy",
    mock=mock_role_policy,
    translator=Translator(plan_role_policy, delete_role_policy),
    price=_IAM_IS_FREE,
)


def mock_role_policy_attachment(request: MockRequest) -> Created:
    # `<role>/<policy ARN>`, the form `pulumi import` takes; its outputs are its two inputs.
    role, policy_arn = request.inputs["role"], request.inputs["policyArn"]
    return f"{role}/{policy_arn}", {"role": role, "policyArn": policy_arn}


def plan_role_policy_attachment(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    role = fields.require("role")
    policy_arn = fields.require("policyArn")

    def apply() -> Created:
        # An AWS managed policy is there only if the emulator loaded them (Emulator(aws_managed_policies=True));
        # otherwise IAM answers NoSuchEntity, as AWS does for a policy that does not exist.
        target.client("iam").attach_role_policy(RoleName=role, PolicyArn=policy_arn)
        return f"{role}/{policy_arn}", {"role": role, "policyArn": policy_arn}

    return apply


def delete_role_policy_attachment(target: Target, resource: RegisteredResource) -> None:
    target.client("iam").detach_role_policy(RoleName=resource.inputs["role"], PolicyArn=resource.inputs["policyArn"])


# A role with a managed policy attached cannot be deleted (DeleteConflict); the attachment
# depends on the role through its `role` input, so it is detached first.
ROLE_POLICY_ATTACHMENT = ResourceType(
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    mock=mock_role_policy_attachment,
    translator=Translator(plan_role_policy_attachment, delete_role_policy_attachment),
    price=_IAM_IS_FREE,
)


def mock_oidc_provider(request: MockRequest) -> Created:
    host = str(request.inputs.get("url", "")).removeprefix("https://")
    arn = request.arn("iam", f"oidc-provider/{host}", regional=False)
    return arn, {"arn": arn}


def plan_oidc_provider(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    tags = request.tags()
    params = _present(
        Url=fields.require("url"),
        ClientIDList=fields.get("clientIdLists"),
        ThumbprintList=fields.get("thumbprintLists"),
        Tags=_tag_list(tags),
    )

    def apply() -> Created:
        arn = target.client("iam").create_open_id_connect_provider(**params)["OpenIDConnectProviderArn"]
        return arn, {"arn": arn, "tagsAll": tags}

    return apply


OIDC_PROVIDER = ResourceType(
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    mock=mock_oidc_provider,
    translator=Translator(
        plan_oidc_provider, _deleted_by("iam", "delete_open_id_connect_provider", "OpenIDConnectProviderArn")
    ),
    price=_IAM_IS_FREE,
)


# --- Secrets Manager ---------------------------------------------------------------------------

SECRETS_MANAGER_PRICING = "https://aws.amazon.com/secrets-manager/pricing/"
SECRET_MONTHLY = 0.40


def mock_secret(request: MockRequest) -> Created:
    name = request.physical_name()
    arn = request.arn("secretsmanager", f"secret:{name}-{digest(name, 6)}")
    return arn, {"name": name, "arn": arn}


def plan_secret(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    name = request.physical_name()
    tags = request.tags()
    params = _present(
        Name=name, Description=fields.get("description"), KmsKeyId=fields.get("kmsKeyId"), Tags=_tag_list(tags)
    )
    window = fields.integer("recoveryWindowInDays")  # used when the secret is destroyed

    def apply() -> Created:
        arn = target.client("secretsmanager").create_secret(**params)["ARN"]
        if window:
            target.check("secretsmanager", "DeleteSecret", {"SecretId": arn, "RecoveryWindowInDays": window})
        return arn, {"arn": arn, "name": name, "tagsAll": tags}

    return apply


def delete_secret(target: Target, resource: RegisteredResource) -> None:
    # Like KMS keys, a deleted secret waits out a recovery window (pulumi-aws's default is 30 days);
    # a window of 0 deletes at once.
    window = int(resource.inputs.get("recoveryWindowInDays", 30))
    when = {"ForceDeleteWithoutRecovery": True} if window == 0 else {"RecoveryWindowInDays": window}
    target.client("secretsmanager").delete_secret(SecretId=resource.id, **when)


SECRET = ResourceType(
    "aws:secretsmanager/secret:Secret",
    mock=mock_secret,
    translator=Translator(plan_secret, delete_secret),
    price=lambda _resource, _graph: Price(
        SECRET_MONTHLY, "per secret per month, plus $0.05 per 10,000 API calls", SECRETS_MANAGER_PRICING
    ),
)


def mock_secret_version(request: MockRequest) -> Created:
    secret, version = request.inputs["secretId"], stable_uuid(request.logical_name)
    return f"{secret}|{version}", {"arn": secret, "versionId": version}


def plan_secret_version(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    secret = fields.require("secretId")
    value = fields.require("secretString")

    def apply() -> Created:
        version = target.client("secretsmanager").put_secret_value(SecretId=secret, SecretString=value)
        return f"{secret}|{version['VersionId']}", {"arn": version["ARN"], "versionId": version["VersionId"]}

    return apply


def keep_secret_version(target: Target, resource: RegisteredResource) -> None:
    # pulumi-aws only moves staging labels other than AWSCURRENT off a destroyed version, and a
    # version always holds AWSCURRENT here; it goes when its secret is deleted.
    target.check("secretsmanager", "DescribeSecret", {"SecretId": resource.inputs["secretId"]})


SECRET_VERSION = ResourceType(
    "aws:secretsmanager/secretVersion:SecretVersion",
    mock=mock_secret_version,
    translator=Translator(plan_secret_version, keep_secret_version),
    price=_free("billed as part of its secret", SECRETS_MANAGER_PRICING),
)


# --- CloudWatch Logs ---------------------------------------------------------------------------

CLOUDWATCH_PRICING = "https://aws.amazon.com/cloudwatch/pricing/"
LOGS_STORED_GB_MONTH = 0.03


def mock_log_group(request: MockRequest) -> Created:
    name = request.physical_name()
    return name, {"name": name, "arn": request.arn("logs", f"log-group:{name}")}


def plan_log_group(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    name = request.physical_name()
    tags = request.tags()
    params = _present(logGroupName=name, kmsKeyId=fields.get("kmsKeyId"), tags=tags or None)
    retention = fields.integer("retentionInDays")

    def apply() -> Created:
        logs = target.client("logs")
        logs.create_log_group(**params)
        if retention:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
        return name, {"name": name, "arn": target.arn("logs", f"log-group:{name}"), "tagsAll": tags}

    return apply


def price_log_group(group: RegisteredResource, _graph: StackGraph) -> Price:
    days = int(group.inputs.get("retentionInDays") or 0)
    held = f"events deleted after {days} days" if days else "no retention: events are kept, and billed, forever"
    return Price(0.0, f"{held}; ${LOGS_STORED_GB_MONTH}/GB-month stored, ingestion per GB", CLOUDWATCH_PRICING)


LOG_GROUP = ResourceType(
    "aws:cloudwatch/logGroup:LogGroup",
    mock=mock_log_group,
    translator=Translator(
        plan_log_group, _deleted_by("logs", "delete_log_group", "logGroupName"), inventory_kind="logs log groups"
    ),
    price=price_log_group,
)


# --- CodeBuild ---------------------------------------------------------------------------------

CODEBUILD_PRICING = "https://aws.amazon.com/codebuild/pricing/"

# moto's CodeBuild insists on source.location and artifacts.location even for type CODEPIPELINE,
# where AWS takes none (the pipeline supplies both). Only moto ever sees this value.
MOTO_ONLY_LOCATION = "emulator-placeholder-moto-requires-a-location"


def mock_project(request: MockRequest) -> Created:
    name = request.physical_name()
    arn = request.arn("codebuild", f"project/{name}")
    return arn, {"name": name, "arn": arn, "badgeUrl": ""}


def _environment(fields: Fields) -> dict[str, Any]:
    return _present(
        type=fields.require("type"),
        image=fields.require("image"),
        computeType=fields.require("computeType"),
        imagePullCredentialsType=fields.get("imagePullCredentialsType"),
        privilegedMode=fields.get("privilegedMode"),
        environmentVariables=[
            _present(name=variable.require("name"), value=variable.require("value"), type=variable.get("type"))
            for variable in fields.each("environmentVariables")
        ],
    )


def _logs_config(fields: Fields) -> dict[str, Any]:
    cloudwatch, s3 = fields.nested("cloudwatchLogs"), fields.nested("s3Logs")
    return _present(
        cloudWatchLogs=None
        if cloudwatch is None
        else _present(status=cloudwatch.require("status"), groupName=cloudwatch.get("groupName")),
        s3Logs=None if s3 is None else _present(status=s3.require("status")),
    )


def plan_project(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    name = request.physical_name()
    tags = request.tags()
    source, artifacts = fields.block("source"), fields.block("artifacts")
    cache, logs = fields.nested("cache"), fields.nested("logsConfig")
    params = _present(
        name=name,
        description=fields.get("description"),
        source=_present(type=source.require("type"), buildspec=source.get("buildspec")),
        artifacts={"type": artifacts.require("type")},
        environment=_environment(fields.block("environment")),
        serviceRole=fields.require("serviceRole"),
        timeoutInMinutes=fields.integer("buildTimeout"),
        queuedTimeoutInMinutes=fields.integer("queuedTimeout"),
        encryptionKey=fields.get("encryptionKey"),
        cache=None if cache is None else _present(type=cache.require("type"), modes=cache.get("modes")),
        logsConfig=None if logs is None else _logs_config(logs),
        tags=_tag_list(tags, "key", "value"),
    )

    def apply() -> Created:
        codebuild = target.client("codebuild")
        # Check what AWS would receive, then add what only moto needs.
        target.check("codebuild", "CreateProject", params)
        moto_params = {
            **params,
            "source": {**params["source"], "location": MOTO_ONLY_LOCATION},
            "artifacts": {**params["artifacts"], "location": MOTO_ONLY_LOCATION},
        }
        project = codebuild.create_project(**moto_params)["project"]
        return project["arn"], {"name": name, "arn": project["arn"], "badgeUrl": "", "tagsAll": tags}

    return apply


def delete_project(target: Target, resource: RegisteredResource) -> None:
    target.client("codebuild").delete_project(name=resource.outputs["name"])


PROJECT = ResourceType(
    "aws:codebuild/project:Project",
    mock=mock_project,
    translator=Translator(
        plan_project,
        delete_project,
        gaps={"encryptionKey": "sent and validated, but moto reports alias/aws/s3 for every project"},
    ),
    price=_free("billed per build minute only", CODEBUILD_PRICING),
)


def mock_report_group(request: MockRequest) -> Created:
    name = request.physical_name()
    arn = request.arn("codebuild", f"report-group/{name}")
    return arn, {"name": name, "arn": arn, "created": "2026-01-01T00:00:00Z"}


def plan_report_group(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    name = request.physical_name()
    tags = request.tags()
    export = fields.block("exportConfig")
    destination = export.nested("s3Destination")
    params = _present(
        name=name,
        type=fields.require("type"),
        exportConfig=_present(
            exportConfigType=export.require("type"),
            s3Destination=None
            if destination is None
            else _present(
                bucket=destination.require("bucket"),
                path=destination.get("path"),
                packaging=destination.get("packaging"),
                encryptionKey=destination.require("encryptionKey"),
                encryptionDisabled=destination.get("encryptionDisabled"),
            ),
        ),
        tags=_tag_list(tags, "key", "value"),
    )
    fields.get("deleteReports")  # sent by delete_report_group when the group is deleted

    def apply() -> Created:
        # moto has no report groups: check the request AWS would get, and hand out the ARN AWS would.
        target.check("codebuild", "CreateReportGroup", params)
        arn = target.arn("codebuild", f"report-group/{name}")
        return arn, {"name": name, "arn": arn, "created": "2026-01-01T00:00:00Z", "tagsAll": tags}

    return apply


def delete_report_group(target: Target, resource: RegisteredResource) -> None:
    target.check(
        "codebuild",
        "DeleteReportGroup",
        _present(arn=resource.id, deleteReports=resource.inputs.get("deleteReports")),
    )


REPORT_GROUP = ResourceType(
    "aws:codebuild/reportGroup:ReportGroup",
    mock=mock_report_group,
    translator=Translator(
        plan_report_group,
        delete_report_group,
        placeholder="placeholder ARN: moto has no CodeBuild report groups (CreateReportGroup is not implemented)",
    ),
    # Report groups and their reports cost nothing; the exported raw files are S3 objects in the
    # artifact store, billed with it.
    price=_free("no charge of its own; exported files are billed as artifact store objects", CODEBUILD_PRICING),
)


# --- CodePipeline ------------------------------------------------------------------------------

CODEPIPELINE_PRICING = "https://aws.amazon.com/codepipeline/pricing/"
CODEPIPELINE_V1_ACTIVE_MONTHLY = 1.00


def mock_pipeline(request: MockRequest) -> Created:
    name = request.physical_name()
    return name, {"name": name, "arn": request.arn("codepipeline", name)}


def _artifact_store(store: Fields) -> dict[str, Any]:
    key = store.nested("encryptionKey")
    return _present(
        type=store.require("type"),
        location=store.require("location"),
        encryptionKey=None if key is None else {"id": key.require("id"), "type": key.require("type")},
    )


def _action(action: Fields) -> dict[str, Any]:
    return _present(
        name=action.require("name"),
        actionTypeId={
            "category": action.require("category"),
            "owner": action.require("owner"),
            "provider": action.require("provider"),
            "version": action.require("version"),
        },
        runOrder=action.integer("runOrder"),
        configuration=action.get("configuration"),
        inputArtifacts=[{"name": name} for name in action.get("inputArtifacts") or []],
        outputArtifacts=[{"name": name} for name in action.get("outputArtifacts") or []],
    )


def _git_filter(fields: Fields | None) -> dict[str, Any] | None:
    if fields is None:
        return None
    return _present(includes=fields.get("includes"), excludes=fields.get("excludes"))


def _trigger(trigger: Fields) -> dict[str, Any]:
    git = trigger.block("gitConfiguration")
    return {
        "providerType": trigger.require("providerType"),
        "gitConfiguration": _present(
            sourceActionName=git.require("sourceActionName"),
            push=[
                _present(
                    branches=_git_filter(push.nested("branches")),
                    filePaths=_git_filter(push.nested("filePaths")),
                    tags=_git_filter(push.nested("tags")),
                )
                for push in git.each("pushes")
            ]
            or None,
        ),
    }


def _failure_conditions(on_failure: Fields | None) -> dict[str, Any] | None:
    """A V2 stage's onFailure (FailureConditions): moto stores and returns it, and never acts on it (a
    rollback, or the refusal of ROLLBACK in PARALLEL mode, is not emulated: the README's gaps)."""
    if on_failure is None:
        return None
    return _present(result=on_failure.get("result"))


def plan_pipeline(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    name = request.physical_name()
    tags = request.tags()
    stores = [_artifact_store(store) for store in fields.each("artifactStores")]
    if len(stores) != 1:
        raise request.refusal("the emulator supports one artifact store (a single-region pipeline)")
    declaration = _present(
        name=name,
        roleArn=fields.require("roleArn"),
        artifactStore=stores[0],
        stages=[
            _present(
                name=stage.require("name"),
                actions=[_action(action) for action in stage.each("actions")],
                onFailure=_failure_conditions(stage.nested("onFailure")),
            )
            for stage in fields.each("stages")
        ],
        pipelineType=fields.get("pipelineType"),
        executionMode=fields.get("executionMode"),
        triggers=[_trigger(trigger) for trigger in fields.each("triggers")] or None,
    )

    def apply() -> Created:
        codepipeline = target.client("codepipeline")
        codepipeline.create_pipeline(pipeline=declaration, tags=_tag_list(tags, "key", "value"))
        arn = codepipeline.get_pipeline(name=name)["metadata"]["pipelineArn"]
        return name, {"name": name, "arn": arn, "tagsAll": tags}

    return apply


def price_pipeline(pipeline: RegisteredResource, _graph: StackGraph) -> Price:
    if pipeline.inputs.get("pipelineType") == "V2":
        return Price(0.0, "V2: $0.002 per action-execution minute, nothing while idle", CODEPIPELINE_PRICING)
    return Price(
        0.0,
        f"V1: ${CODEPIPELINE_V1_ACTIVE_MONTHLY:.2f} in every month a change runs through it (after its "
        "first 30 days); a month without runs is free",
        CODEPIPELINE_PRICING,
    )


PIPELINE = ResourceType(
    "aws:codepipeline/pipeline:Pipeline",
    mock=mock_pipeline,
    translator=Translator(
        plan_pipeline,
        _deleted_by("codepipeline", "delete_pipeline", "name"),
        gaps={
            "stages[].onFailure": "stored and returned as sent; moto never rolls a stage back, and accepts "
            "ROLLBACK in PARALLEL mode, which AWS refuses (the settings refuse it first)"
        },
    ),
    price=price_pipeline,
)


# --- CodeStar Connections (not in moto) --------------------------------------------------------


def mock_connection(request: MockRequest) -> Created:
    arn = request.arn("codestar-connections", f"connection/{stable_uuid(request.logical_name)}")
    return arn, {"name": request.physical_name(), "arn": arn, "connectionStatus": "PENDING"}


def plan_connection(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    name = request.physical_name()
    tags = request.tags()
    params = _present(ConnectionName=name, ProviderType=fields.get("providerType"), Tags=_tag_list(tags))

    def apply() -> Created:
        # Nothing to call: check the request AWS would get, and hand out a made-up ARN.
        target.check("codestar-connections", "CreateConnection", params)
        arn = target.arn("codestar-connections", f"connection/{stable_uuid(request.logical_name)}")
        return arn, {
            "arn": arn,
            "name": name,
            "connectionStatus": "PENDING",
            "ownerAccountId": target.account_id,
            "tagsAll": tags,
        }

    return apply


def delete_connection(target: Target, resource: RegisteredResource) -> None:
    target.check("codestar-connections", "DeleteConnection", {"ConnectionArn": resource.id})


CONNECTION = ResourceType(
    "aws:codestarconnections/connection:Connection",
    mock=mock_connection,
    translator=Translator(
        plan_connection,
        delete_connection,
        placeholder="placeholder ARN: moto has no CodeStar Connections",
    ),
    price=_free("no charge of its own", CODEPIPELINE_PRICING),
)


# --- SNS ---------------------------------------------------------------------------------------

SNS_PRICING = "https://aws.amazon.com/sns/pricing/"

# What AWS puts on a topic that has no policy of its own; deleting a TopicPolicy restores it.
SNS_DEFAULT_ACTIONS = [
    "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
    "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish",
]  # fmt: skip


def mock_topic(request: MockRequest) -> Created:
    name = request.physical_name()
    arn = request.arn("sns", name)
    return arn, {"name": name, "arn": arn, "owner": request.account_id}


def plan_topic(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    name = request.physical_name()
    tags = request.tags()
    attributes = _present(DisplayName=fields.get("displayName"), KmsMasterKeyId=fields.get("kmsMasterKeyId"))

    def apply() -> Created:
        arn = target.client("sns").create_topic(Name=name, Attributes=attributes, Tags=_tag_list(tags))["TopicArn"]
        return arn, {"arn": arn, "name": name, "owner": target.account_id, "tagsAll": tags}

    return apply


TOPIC = ResourceType(
    "aws:sns/topic:Topic",
    mock=mock_topic,
    translator=Translator(plan_topic, _deleted_by("sns", "delete_topic", "TopicArn"), inventory_kind="sns topics"),
    price=_free("per publish and delivery only (e-mail $2.00 per 100,000)", SNS_PRICING),
)


def mock_topic_policy(request: MockRequest) -> Created:
    return str(request.inputs["arn"]), {"owner": request.account_id}


def plan_topic_policy(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    arn = fields.require("arn")
    policy = fields.require("policy")

    def apply() -> Created:
        target.client("sns").set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy)
        return arn, {"owner": target.account_id}

    return apply


def default_topic_policy(topic_arn: str, account_id: str) -> str:
    """The policy AWS gives a new topic (and pulumi-aws puts back when a TopicPolicy is destroyed)."""
    return json.dumps(
        {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": SNS_DEFAULT_ACTIONS,
                    "Resource": topic_arn,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": account_id}},
                }
            ],
        }
    )


def delete_topic_policy(target: Target, resource: RegisteredResource) -> None:
    target.client("sns").set_topic_attributes(
        TopicArn=resource.id,
        AttributeName="Policy",
        AttributeValue=default_topic_policy(resource.id, target.account_id),
    )


TOPIC_POLICY = ResourceType(
    "aws:sns/topicPolicy:TopicPolicy",
    mock=mock_topic_policy,
    translator=Translator(plan_topic_policy, delete_topic_policy),
    price=_free("topic setting", SNS_PRICING),
)


def mock_subscription(request: MockRequest) -> Created:
    arn = f"{request.inputs['topic']}:{stable_uuid(request.logical_name)}"
    return arn, {"arn": arn}


def plan_subscription(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    params = {
        "TopicArn": fields.require("topic"),
        "Protocol": fields.require("protocol"),
        "Endpoint": fields.require("endpoint"),
        "ReturnSubscriptionArn": True,
    }

    def apply() -> Created:
        sns = target.client("sns")
        arn = sns.subscribe(**params)["SubscriptionArn"]
        attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        return arn, {
            "arn": arn,
            "ownerId": attributes.get("Owner", target.account_id),
            "pendingConfirmation": attributes.get("PendingConfirmation") == "true",
        }

    return apply


TOPIC_SUBSCRIPTION = ResourceType(
    "aws:sns/topicSubscription:TopicSubscription",
    mock=mock_subscription,
    translator=Translator(plan_subscription, _deleted_by("sns", "unsubscribe", "SubscriptionArn")),
    price=_free("subscriptions are free", SNS_PRICING),
)


# --- EventBridge -------------------------------------------------------------------------------

EVENTBRIDGE_PRICING = "https://aws.amazon.com/eventbridge/pricing/"


def mock_rule(request: MockRequest) -> Created:
    name = request.physical_name()
    return name, {"name": name, "arn": request.arn("events", f"rule/{name}")}


def plan_rule(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    name = request.physical_name()
    tags = request.tags()
    params = _present(
        Name=name,
        EventPattern=fields.get("eventPattern"),
        Description=fields.get("description"),
        # pulumi-aws's default state
        State=fields.get("state") or "ENABLED",
        Tags=_tag_list(tags),
    )

    def apply() -> Created:
        arn = target.client("events").put_rule(**params)["RuleArn"]
        return name, {"name": name, "arn": arn, "eventBusName": "default", "tagsAll": tags}

    return apply


EVENT_RULE = ResourceType(
    "aws:cloudwatch/eventRule:EventRule",
    mock=mock_rule,
    translator=Translator(plan_rule, _deleted_by("events", "delete_rule", "Name")),
    price=_free("rules on AWS service events are free", EVENTBRIDGE_PRICING),
)


def mock_target(request: MockRequest) -> Created:
    target_id = request.physical_name("targetId")
    return f"{request.inputs['rule']}-{target_id}", {"targetId": target_id}


def plan_target(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    rule = fields.require("rule")
    target_id = request.physical_name("targetId")
    transformer = fields.nested("inputTransformer")
    entry = _present(
        Id=target_id,
        Arn=fields.require("arn"),
        InputTransformer=None
        if transformer is None
        else _present(InputPathsMap=transformer.get("inputPaths"), InputTemplate=transformer.require("inputTemplate")),
    )

    def apply() -> Created:
        answer = target.client("events").put_targets(Rule=rule, Targets=[entry])
        if answer.get("FailedEntryCount"):
            raise request.refusal(f"PutTargets refused target {target_id}: {answer['FailedEntries']}")
        return f"{rule}-{target_id}", {"targetId": target_id, "eventBusName": "default"}

    return apply


def delete_target(target: Target, resource: RegisteredResource) -> None:
    target.client("events").remove_targets(Rule=resource.inputs["rule"], Ids=[resource.outputs["targetId"]])


EVENT_TARGET = ResourceType(
    "aws:cloudwatch/eventTarget:EventTarget",
    mock=mock_target,
    translator=Translator(plan_target, delete_target),
    price=_free("delivery of AWS service events is free", EVENTBRIDGE_PRICING),
)


# --- AWS Chatbot (not in moto) ----------------------------------------------------------------

# "There is no additional charge for AWS Chatbot": the topic, its deliveries and Chatbot's own log group
# (/aws/chatbot/<configuration name>, CloudWatch Logs) are billed by their services.
CHATBOT_PRICING = "https://aws.amazon.com/chatbot/pricing/"


def _chat_configuration_arn(partition_and_account: str, configuration_name: str) -> str:
    """A Slack channel configuration's ARN, which holds no region: `pulumi import` takes
    arn:aws:chatbot::<account>:chat-configuration/slack-channel/<name> (pulumi-aws)."""
    return f"arn:{partition_and_account}:chat-configuration/slack-channel/{configuration_name}"


def mock_slack_channel_configuration(request: MockRequest) -> Created:
    arn = _chat_configuration_arn(f"aws:chatbot::{request.account_id}", str(request.inputs["configurationName"]))
    return arn, {"chatConfigurationArn": arn}


def plan_slack_channel_configuration(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    name = fields.require("configurationName")
    tags = request.tags()
    params = _present(
        ConfigurationName=name,
        SlackTeamId=fields.require("slackTeamId"),
        SlackChannelId=fields.require("slackChannelId"),
        SlackChannelName=fields.get("slackChannelName"),
        IamRoleArn=fields.require("iamRoleArn"),
        SnsTopicArns=fields.get("snsTopicArns"),
        GuardrailPolicyArns=fields.get("guardrailPolicyArns"),
        LoggingLevel=fields.get("loggingLevel"),
        UserAuthorizationRequired=fields.get("userAuthorizationRequired"),
        Tags=_tag_list(tags, "TagKey", "TagValue") or None,
    )

    def apply() -> Created:
        # Nothing to call: check the request AWS would get (in the configuration's own region, the
        # provider's), and hand out the ARN Chatbot would give.
        target.check("chatbot", "CreateSlackChannelConfiguration", params)
        arn = _chat_configuration_arn(f"{target.partition.name}:chatbot::{target.account_id}", name)
        return arn, {"chatConfigurationArn": arn, "tagsAll": tags}

    return apply


def delete_slack_channel_configuration(target: Target, resource: RegisteredResource) -> None:
    target.check("chatbot", "DeleteSlackChannelConfiguration", {"ChatConfigurationArn": resource.id})


SLACK_CHANNEL_CONFIGURATION = ResourceType(
    "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration",
    mock=mock_slack_channel_configuration,
    translator=Translator(
        plan_slack_channel_configuration,
        delete_slack_channel_configuration,
        placeholder="placeholder ARN: moto has no AWS Chatbot",
    ),
    price=_free(
        "no charge of its own: its topic and Chatbot's log group are billed by SNS and CloudWatch Logs", CHATBOT_PRICING
    ),
)


# --- the registry ------------------------------------------------------------------------------


def _by_token(*types: ResourceType) -> dict[str, ResourceType]:
    table = {registered.token: registered for registered in types}
    if len(table) != len(types):
        raise ValueError("a resource type is registered twice: the second entry would hide the first")
    return table


RESOURCE_TYPES: Mapping[str, ResourceType] = _by_token(
    KMS_KEY,
    KMS_ALIAS,
    BUCKET,
    BUCKET_PUBLIC_ACCESS_BLOCK,
    BUCKET_OWNERSHIP_CONTROLS,
    BUCKET_VERSIONING,
    BUCKET_ENCRYPTION,
    BUCKET_LIFECYCLE,
    BUCKET_POLICY,
    ROLE,
    POLICY,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    OIDC_PROVIDER,
    SECRET,
    SECRET_VERSION,
    LOG_GROUP,
    PROJECT,
    REPORT_GROUP,
    PIPELINE,
    CONNECTION,
    TOPIC,
    TOPIC_POLICY,
    TOPIC_SUBSCRIPTION,
    EVENT_RULE,
    EVENT_TARGET,
    SLACK_CHANNEL_CONFIGURATION,
)
