"""How each resource type the program uses is created in, and deleted from, the emulated account.

A translator reads every input through `Fields` and returns the boto3 calls to make; the adapter
refuses to run them if any input was left unread (so none is dropped silently). The outputs are
moto's real answers under the names pulumi-aws gives them (camelCase: id, arn, name, keyId, ...).
Where pulumi-aws would autoname, the name is `<logical name>-<7 hex>` derived from the logical
name, as harness/fake_aws.py does, so the unit tests and the emulator see the same names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.backend import Emulator, Partition
from emulator.errors import EmulatorError
from emulator.inputs import Fields
from emulator.validation import validate
from harness.capture import RegisteredResource
from harness.fake_aws import autoname, stable_uuid

Created = tuple[str, dict[str, Any]]
Apply = Callable[[], Created]

# moto's CodeBuild insists on source.location and artifacts.location even for type CODEPIPELINE,
# where AWS takes none (the pipeline supplies both). Only moto ever sees this value.
MOTO_ONLY_LOCATION = "emulator-placeholder-moto-requires-a-location"

# What AWS puts on a topic that has no policy of its own; deleting a TopicPolicy restores it.
SNS_DEFAULT_ACTIONS = [
    "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
    "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish",
]  # fmt: skip


@dataclass(frozen=True)
class Target:
    """Where resources go: the account and region of the provider they are registered with."""

    emulator: Emulator
    region: str
    account_id: str
    partition: Partition
    default_tags: Mapping[str, str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.emulator.client(service, self.region, self.account_id)

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition.name}:{service}:{region}:{self.account_id}:{resource}"

    def check(self, service: str, operation: str, params: Mapping[str, Any]) -> None:
        """Validate a call that is not made now (a later delete, or a service moto lacks)."""
        validate(params, self.client(service).meta.service_model.operation_model(operation))


@dataclass
class Request:
    """One resource to create: its logical name, its inputs and where it goes."""

    logical_name: str
    inputs: Fields
    target: Target

    def physical_name(self, key: str = "name", *, lower: bool = False) -> str:
        """The configured name, or the autoname pulumi-aws would generate (deterministic here)."""
        explicit = self.inputs.get(key)
        if explicit:
            return str(explicit)
        name = autoname(self.logical_name)
        return name.lower() if lower else name

    def tags(self) -> dict[str, str]:
        """The provider's default tags overlaid with the resource's own, as pulumi-aws applies them."""
        return {**self.target.default_tags, **(self.inputs.get("tags") or {})}


Deleter = Callable[[Target, RegisteredResource], None]


@dataclass(frozen=True)
class Translator:
    """How one resource type is created (`plan` reads the inputs, its result calls AWS) and deleted."""

    plan: Callable[[Request], Apply]
    delete: Deleter
    # Input paths moto cannot hold, and what happens to them instead (the README lists them).
    gaps: Mapping[str, str] = field(default_factory=dict)
    # Set when the resource is only pretended: printed beside its progress line.
    placeholder: str = ""


def _deleted_by(service: str, operation: str, parameter: str) -> Deleter:
    """A delete that is one call naming the resource by its id."""

    def delete(target: Target, resource: RegisteredResource) -> None:
        getattr(target.client(service), operation)(**{parameter: resource.id})

    return delete


def _present(**params: Any) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}


def _tag_list(tags: Mapping[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: name, value: tags[name]} for name in sorted(tags)]


# --- KMS ---------------------------------------------------------------------------------------


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


# --- S3 ----------------------------------------------------------------------------------------


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


def _bucket_setting(put: str, build: Callable[[Fields], dict[str, Any]], undo: str | Deleter) -> Translator:
    """A bucket sub-resource: one S3 Put call with the bucket's name as id, undone by `undo`."""

    def plan(request: Request) -> Apply:
        bucket = request.inputs.require("bucket")
        params = build(request.inputs)

        def apply() -> Created:
            getattr(request.target.client("s3"), put)(Bucket=bucket, **params)
            return bucket, {}

        return apply

    return Translator(plan, undo if callable(undo) else _deleted_by("s3", undo, "Bucket"))


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


def _ownership_controls(fields: Fields) -> dict[str, Any]:
    return {"OwnershipControls": {"Rules": [{"ObjectOwnership": fields.block("rule").require("objectOwnership")}]}}


def _versioning(fields: Fields) -> dict[str, Any]:
    return {"VersioningConfiguration": {"Status": fields.block("versioningConfiguration").require("status")}}


def _suspend_versioning(target: Target, resource: RegisteredResource) -> None:
    # pulumi-aws cannot un-version a bucket; destroying BucketVersioning suspends it.
    target.client("s3").put_bucket_versioning(Bucket=resource.id, VersioningConfiguration={"Status": "Suspended"})


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


def _bucket_policy(fields: Fields) -> dict[str, Any]:
    return {"Policy": fields.require("policy")}


# --- IAM ---------------------------------------------------------------------------------------


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


def plan_role_policy_attachment(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    role = fields.require("role")
    policy_arn = fields.require("policyArn")

    def apply() -> Created:
        # An AWS managed policy is there only if the emulator loaded them (Emulator(aws_managed_policies=True));
        # otherwise IAM answers NoSuchEntity, as AWS does for a policy that does not exist.
        target.client("iam").attach_role_policy(RoleName=role, PolicyArn=policy_arn)
        # `<role>/<policy ARN>`, the id `pulumi import` takes (harness/fake_aws.py gives the same).
        return f"{role}/{policy_arn}", {"role": role, "policyArn": policy_arn}

    return apply


def delete_role_policy_attachment(target: Target, resource: RegisteredResource) -> None:
    target.client("iam").detach_role_policy(RoleName=resource.inputs["role"], PolicyArn=resource.inputs["policyArn"])


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


# --- Secrets Manager ---------------------------------------------------------------------------


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


# --- CloudWatch Logs ---------------------------------------------------------------------------


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


# --- CodeBuild ---------------------------------------------------------------------------------


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


# --- CodePipeline ------------------------------------------------------------------------------


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
                _present(branches=_git_filter(push.nested("branches")), tags=_git_filter(push.nested("tags")))
                for push in git.each("pushes")
            ]
            or None,
        ),
    }


def plan_pipeline(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    name = request.physical_name()
    tags = request.tags()
    stores = [_artifact_store(store) for store in fields.each("artifactStores")]
    if len(stores) != 1:
        raise EmulatorError("the emulator supports one artifact store (a single-region pipeline)")
    declaration = _present(
        name=name,
        roleArn=fields.require("roleArn"),
        artifactStore=stores[0],
        stages=[
            {"name": stage.require("name"), "actions": [_action(action) for action in stage.each("actions")]}
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


# --- CodeStar Connections (not in moto) --------------------------------------------------------


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


# --- SNS ---------------------------------------------------------------------------------------


def plan_topic(request: Request) -> Apply:
    fields, target = request.inputs, request.target
    name = request.physical_name()
    tags = request.tags()
    attributes = _present(DisplayName=fields.get("displayName"), KmsMasterKeyId=fields.get("kmsMasterKeyId"))

    def apply() -> Created:
        arn = target.client("sns").create_topic(Name=name, Attributes=attributes, Tags=_tag_list(tags))["TopicArn"]
        return arn, {"arn": arn, "name": name, "owner": target.account_id, "tagsAll": tags}

    return apply


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


# --- EventBridge -------------------------------------------------------------------------------


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
            raise EmulatorError(f"PutTargets refused target {target_id}: {answer['FailedEntries']}")
        return f"{rule}-{target_id}", {"targetId": target_id, "eventBusName": "default"}

    return apply


def delete_target(target: Target, resource: RegisteredResource) -> None:
    target.client("events").remove_targets(Rule=resource.inputs["rule"], Ids=[resource.outputs["targetId"]])


# --- the registry ------------------------------------------------------------------------------


TRANSLATORS: dict[str, Translator] = {
    "aws:kms/key:Key": Translator(plan_key, delete_key),
    "aws:kms/alias:Alias": Translator(plan_alias, _deleted_by("kms", "delete_alias", "AliasName")),
    "aws:s3/bucket:Bucket": Translator(plan_bucket, delete_bucket),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_setting(
        "put_public_access_block", _public_access_block, "delete_public_access_block"
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _bucket_setting(
        "put_bucket_ownership_controls", _ownership_controls, "delete_bucket_ownership_controls"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": _bucket_setting(
        "put_bucket_versioning", _versioning, _suspend_versioning
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _bucket_setting(
        "put_bucket_encryption", _encryption, "delete_bucket_encryption"
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _bucket_setting(
        "put_bucket_lifecycle_configuration", _lifecycle, "delete_bucket_lifecycle"
    ),
    "aws:s3/bucketPolicy:BucketPolicy": _bucket_setting("put_bucket_policy", _bucket_policy, "delete_bucket_policy"),
    "aws:iam/role:Role": Translator(plan_role, _deleted_by("iam", "delete_role", "RoleName")),
    "aws:iam/rolePolicy:RolePolicy": Translator(plan_role_policy, delete_role_policy),
    # A role with a managed policy attached cannot be deleted (DeleteConflict); the attachment
    # depends on the role through its `role` input, so it is detached first.
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Translator(
        plan_role_policy_attachment, delete_role_policy_attachment
    ),
    # The roles carrying a policy as their boundary depend on it, so they are deleted first.
    "aws:iam/policy:Policy": Translator(plan_policy, _deleted_by("iam", "delete_policy", "PolicyArn")),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": Translator(
        plan_oidc_provider, _deleted_by("iam", "delete_open_id_connect_provider", "OpenIDConnectProviderArn")
    ),
    "aws:secretsmanager/secret:Secret": Translator(plan_secret, delete_secret),
    "aws:secretsmanager/secretVersion:SecretVersion": Translator(plan_secret_version, keep_secret_version),
    "aws:cloudwatch/logGroup:LogGroup": Translator(
        plan_log_group, _deleted_by("logs", "delete_log_group", "logGroupName")
    ),
    "aws:codebuild/project:Project": Translator(
        plan_project,
        delete_project,
        gaps={"encryptionKey": "sent and validated, but moto reports alias/aws/s3 for every project"},
    ),
    "aws:codepipeline/pipeline:Pipeline": Translator(
        plan_pipeline, _deleted_by("codepipeline", "delete_pipeline", "name")
    ),
    "aws:codestarconnections/connection:Connection": Translator(
        plan_connection,
        delete_connection,
        placeholder="placeholder ARN: moto has no CodeStar Connections",
    ),
    "aws:sns/topic:Topic": Translator(plan_topic, _deleted_by("sns", "delete_topic", "TopicArn")),
    "aws:sns/topicPolicy:TopicPolicy": Translator(plan_topic_policy, delete_topic_policy),
    "aws:sns/topicSubscription:TopicSubscription": Translator(
        plan_subscription, _deleted_by("sns", "unsubscribe", "SubscriptionArn")
    ),
    "aws:cloudwatch/eventRule:EventRule": Translator(plan_rule, _deleted_by("events", "delete_rule", "Name")),
    "aws:cloudwatch/eventTarget:EventTarget": Translator(plan_target, delete_target),
}
