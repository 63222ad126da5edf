"""What a bootstrap deployment must look like, and how a pipeline stack must be wired to it, read through boto3.

Shared by `make local` and tests/emulator/test_bootstrap.py. Like emulator/verify.py, each check
reads the emulated accounts, not the program's inputs, and raises CheckFailedError naming what it
found. The expectations restate the contract of issue 9 (fixed names, the state bucket's
protections, whom each role trusts) rather than importing the program's own constants, so that a
change to the program cannot move both sides at once.

`BOOTSTRAP_CHECKS` run against the bootstrap stack; `link_checks(bootstrap)` against a pipeline
stack deployed beside it (same account for dev, another account for prod).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from emulator.lifecycle import Deployment
from emulator.verify import (
    Check,
    GuardedBucket,
    as_list,
    bucket_guard_checks,
    build_projects,
    expect,
    parsed,
    role_name_from_arn,
    second_run_changes_nothing,
    service_pipelines,
    statements_for,
)
from harness.fake_aws import autoname

PROJECT = "cicd-bootstrap"
STEP_ROLES = ("preview", "deploy")
SECRETS_KEY_ALIAS = "alias/cicd-state"
# The pipeline step whose CodeBuild role assumes each bootstrap role: Build previews, Deploy deploys.
PIPELINE_STEP_OF = {"preview": "build", "deploy": "deploy"}
# A state object where Pulumi's DIY backend keeps a project-scoped stack (.pulumi/stacks/<project>/<stack>.json):
# https://www.pulumi.com/docs/iac/guides/basics/using-a-diy-backend/
STATE_OBJECT = ".pulumi/stacks/my-service/dev.json"
# What each role must be able to do with the state and its key after the assume-role, and what the
# preview role must not (issue 9: the preview role reads; the deploy role reads and writes).
MAY = {
    "preview": (("s3:ListBucket", "bucket"), ("s3:GetObject", "object"), ("kms:Decrypt", "key")),
    "deploy": (
        ("s3:ListBucket", "bucket"),
        ("s3:GetObject", "object"),
        ("s3:PutObject", "object"),
        ("s3:DeleteObject", "object"),
        ("kms:Decrypt", "key"),
        ("kms:Encrypt", "key"),
        ("kms:GenerateDataKey", "key"),
    ),
}
MAY_NOT = {
    "preview": (("s3:PutObject", "object"), ("s3:DeleteObject", "object"), ("kms:Encrypt", "key")),
    "deploy": (),
}


def _config(deployment: Deployment, key: str) -> str:
    return deployment.config.get(f"{PROJECT}:{key}", "")


def _partition(deployment: Deployment) -> str:
    return str(deployment.outputs["deployRoleArn"]).split(":")[1]


def pipeline_account(deployment: Deployment) -> str:
    """The account whose pipeline may assume the roles: `pipelineAccountId`, or the bootstrapped one."""
    return _config(deployment, "pipelineAccountId") or deployment.account_id


def _iam_arn(partition: str, account: str, resource: str) -> str:
    return f"arn:{partition}:iam::{account}:{resource}"


# --- reading a trust policy ----------------------------------------------------------------------


@cache
def _component_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


def arn_like(pattern: str, arn: str) -> bool:
    """IAM's ArnLike: each of the six colon-separated parts matched on its own, `*` and `?` wildcards.

    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
    """
    patterns, parts = pattern.split(":", 5), arn.split(":", 5)
    return len(patterns) == len(parts) == 6 and all(
        _component_pattern(p).fullmatch(a) for p, a in zip(patterns, parts, strict=True)
    )


def _principal_admits(principal: Any, role_arn: str) -> bool:
    """Whether a trust statement's `Principal` names `role_arn`, or its account (`:root` or the bare id)."""
    if not isinstance(principal, dict):
        return bool(principal == "*")
    account = role_arn.split(":")[4]
    partition = role_arn.split(":")[1]
    named = as_list(principal.get("AWS", []))
    return any(name in (role_arn, account, _iam_arn(partition, account, "root"), "*") for name in named)


def _condition_admits(condition: dict[str, Any], role_arn: str) -> bool:
    """The trust's conditions for an AssumeRole by a session of `role_arn` (aws:PrincipalArn is the role's ARN).

    Only aws:PrincipalArn is known to be in that request's context; any other key makes the
    statement unreadable here, which is a failure rather than a guess.
    """
    for operator, keys in condition.items():
        for key, wanted in keys.items():
            expect(key.lower() == "aws:principalarn", f"the trust tests {operator} {key}, which this check cannot read")
            values = as_list(wanted)
            expect(
                operator in ("ArnLike", "StringLike", "ArnEquals", "StringEquals"),
                f"the trust tests aws:PrincipalArn with {operator}, which this check cannot read",
            )
            if operator.endswith("Like"):
                matched = any(arn_like(value, role_arn) for value in values)
            else:
                matched = role_arn in values
            if not matched:
                return False
    return True


def trust_admits(document: str | dict[str, Any], role_arn: str) -> bool:
    """Whether a trust policy lets a session of the role `role_arn` call sts:AssumeRole (no Deny read)."""
    for statement in as_list(parsed(document).get("Statement", [])):
        if (
            statement.get("Effect") == "Allow"
            and "sts:AssumeRole" in as_list(statement.get("Action", []))
            and _principal_admits(statement.get("Principal"), role_arn)
            and _condition_admits(statement.get("Condition", {}), role_arn)
        ):
            return True
    return False


def _sample_step_roles(partition: str, account: str, step: str) -> Iterator[str]:
    """ARNs as the pipeline names its CodeBuild roles (`cicd-<environment>-<step>-role-<7 chars>`), per environment."""
    for environment in ("dev", "prod", "staging-eu"):
        yield _iam_arn(partition, account, f"role/{autoname(f'cicd-{environment}-{step}-role')}")


def _trust_of(deployment: Deployment, role_arn: str) -> dict[str, Any]:
    role = deployment.client("iam").get_role(RoleName=role_name_from_arn(role_arn))["Role"]
    return parsed(role["AssumeRolePolicyDocument"])


# --- reading what a role may do ------------------------------------------------------------------


def _default_version(iam: Any, policy_arn: str) -> dict[str, Any]:
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    return parsed(iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"])


def _role_documents(deployment: Deployment, role_name: str) -> list[dict[str, Any]]:
    """Every identity policy of a role: its inline ones and the default version of each attached one."""
    iam = deployment.client("iam")
    documents = [
        parsed(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"])
        for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    ]
    documents += [
        _default_version(iam, attached["PolicyArn"])
        for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
    ]
    return documents


def _allowed(documents: list[dict[str, Any]], action: str, resource: str) -> bool:
    return any(statements_for(document, "Allow", action, resource, principal=None) for document in documents)


# --- the bootstrap's checks ----------------------------------------------------------------------


def fixed_names(deployment: Deployment) -> str:
    """The names a pipeline stack file writes down before the bootstrap runs are the ones it created."""
    outputs, account, region = deployment.outputs, deployment.account_id, deployment.region
    partition = _partition(deployment)
    bucket = f"cicd-state-{account}-{region}"
    expected = {
        "stateBucket": bucket,
        "backendUrl": f"s3://{bucket}",
        "secretsProvider": f"awskms://{SECRETS_KEY_ALIAS}?region={region}",
        "previewRoleArn": _iam_arn(partition, account, f"role/cicd-bootstrap-preview-{region}"),
        "deployRoleArn": _iam_arn(partition, account, f"role/cicd-bootstrap-deploy-{region}"),
        "deployBoundaryArn": _iam_arn(partition, account, f"policy/cicd-bootstrap-deploy-boundary-{region}"),
    }
    wrong = {name: outputs.get(name) for name, value in expected.items() if outputs.get(name) != value}
    expect(not wrong, f"outputs {wrong} are not the fixed names { ({name: expected[name] for name in wrong}) }")
    location = deployment.client("s3").get_bucket_location(Bucket=bucket).get("LocationConstraint")
    expect(location == region, f"{bucket} is in {location}, not {region}")
    iam = deployment.client("iam")
    for role in STEP_ROLES:
        iam.get_role(RoleName=role_name_from_arn(expected[f"{role}RoleArn"]))
    iam.get_policy(PolicyArn=expected["deployBoundaryArn"])
    return f"{bucket}, {SECRETS_KEY_ALIAS}, cicd-bootstrap-{{preview,deploy}}-{region} in account {account}"


def state_never_expires(deployment: Deployment) -> str:
    bucket = deployment.outputs["stateBucket"]
    try:
        rules = deployment.client("s3").get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NoSuchLifecycleConfiguration":
            raise
        rules = []
    expiring = [
        rule
        for rule in rules
        if rule.get("Status") == "Enabled" and (rule.get("Expiration") or rule.get("NoncurrentVersionExpiration"))
    ]
    expect(not expiring, f"state in {bucket} expires: {expiring}")
    return "no lifecycle rule expires state or its earlier versions" + ("" if rules else " (no lifecycle rules)")


def secrets_key(deployment: Deployment) -> str:
    kms, key_arn = deployment.client("kms"), deployment.outputs["secretsKeyArn"]
    metadata = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    expect(metadata.get("KeyState") == "Enabled", f"the secrets key {key_arn} is {metadata.get('KeyState')}")
    expect(kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"], f"rotation of {key_arn} is off")
    aliases = {alias["AliasName"]: alias.get("TargetKeyId") for alias in kms.list_aliases()["Aliases"]}
    expect(
        aliases.get(SECRETS_KEY_ALIAS) == metadata["KeyId"],
        f"{SECRETS_KEY_ALIAS} points at {aliases.get(SECRETS_KEY_ALIAS)}, not the secrets key {metadata['KeyId']}",
    )
    policy = parsed(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
    root = _iam_arn(_partition(deployment), deployment.account_id, "root")
    delegated = [
        statement
        for statement in as_list(policy.get("Statement", []))
        if statement.get("Effect") == "Allow"
        and root in as_list((statement.get("Principal") or {}).get("AWS", []))
        and "kms:*" in as_list(statement.get("Action", []))
    ]
    expect(delegated, f"the key policy of {key_arn} does not let the account's IAM policies grant its use")
    return f"enabled, automatic rotation on, {SECRETS_KEY_ALIAS} names it, IAM policies in the account decide its use"


def roles_trust_the_pipeline_step(deployment: Deployment) -> str:
    """Each role: one statement, trusting the pipeline account, narrowed to that account's matching step roles."""
    partition, trusted_account = _partition(deployment), pipeline_account(deployment)
    for role in STEP_ROLES:
        arn = deployment.outputs[f"{role}RoleArn"]
        trust = _trust_of(deployment, arn)
        statements = as_list(trust.get("Statement", []))
        expect(len(statements) == 1, f"{role_name_from_arn(arn)} has {len(statements)} trust statements, expected one")
        principal = statements[0].get("Principal")
        expect(
            principal == {"AWS": _iam_arn(partition, trusted_account, "root")},
            f"{role_name_from_arn(arn)} trusts {principal}, not exactly the pipeline account {trusted_account}",
        )
        own_step = PIPELINE_STEP_OF[role]
        other_step = PIPELINE_STEP_OF["deploy" if role == "preview" else "preview"]
        for admitted in _sample_step_roles(partition, trusted_account, own_step):
            expect(trust_admits(trust, admitted), f"{role_name_from_arn(arn)} does not admit {admitted}")
        refused = [
            *_sample_step_roles(partition, trusted_account, other_step),
            _iam_arn(partition, trusted_account, "role/someone-elses-role"),
            *_sample_step_roles(partition, "999999999999", own_step),
        ]
        for outsider in refused:
            expect(not trust_admits(trust, outsider), f"{role_name_from_arn(arn)} lets {outsider} assume it")
    return (
        f"each trusts account {trusted_account}, for its step's roles alone (cicd-*-build-role-*, cicd-*-deploy-role-*)"
    )


def deploy_role_within_the_boundary(deployment: Deployment) -> str:
    iam, outputs = deployment.client("iam"), deployment.outputs
    boundary = outputs["deployBoundaryArn"]
    deploy_role = role_name_from_arn(outputs["deployRoleArn"])
    carried = iam.get_role(RoleName=deploy_role)["Role"].get("PermissionsBoundary", {})
    expect(
        carried.get("PermissionsBoundaryArn") == boundary,
        f"{deploy_role} carries the permissions boundary {carried or 'none'}, not {boundary}",
    )
    document = _default_version(iam, boundary)
    # What the deploy role is granted on the state must get through the boundary.
    for action, where in MAY["deploy"]:
        resource = _resource(deployment, where)
        expect(
            statements_for(document, "Allow", action, resource, principal=None)
            and not statements_for(document, "Deny", action, resource, principal=None),
            f"the boundary stops the deploy role's {action} on {resource}",
        )
    partition, account = _partition(deployment), deployment.account_id
    any_role = _iam_arn(partition, account, "role/created-by-a-deploy")
    # The ways out of a boundary (issue 9; the CDK's example boundary): each must meet a Deny, the
    # first three unless the role in question carries this very boundary, the others always.
    escapes = (
        ("iam:CreateRole", any_role, True),
        ("iam:PutRolePolicy", any_role, True),
        ("iam:AttachRolePolicy", any_role, True),
        ("iam:DeleteRolePermissionsBoundary", any_role, False),
        ("iam:CreatePolicyVersion", boundary, False),
        ("iam:UpdateAssumeRolePolicy", outputs["previewRoleArn"], False),
        ("s3:PutBucketPolicy", f"arn:{partition}:s3:::{outputs['stateBucket']}", False),
        ("kms:ScheduleKeyDeletion", outputs["secretsKeyArn"], False),
    )
    for action, resource, unless_bounded in escapes:
        denials = [
            statement
            for statement in statements_for(document, "Deny", action, resource, principal=None)
            if _unless_this_boundary(statement.get("Condition"), boundary)
            or (not unless_bounded and "Condition" not in statement)
        ]
        expect(
            denials,
            f"the boundary does not deny {action} on {resource}"
            + (" to a role without this boundary" if unless_bounded else ""),
        )
    return f"{deploy_role} carries {role_name_from_arn(boundary)}, which denies its {len(escapes)} ways out"


def _unless_this_boundary(condition: Any, boundary: str) -> bool:
    """A Deny's condition that holds exactly when the role does not carry `boundary` (ARN or string operator)."""
    return isinstance(condition, dict) and any(
        condition == {operator: {"iam:PermissionsBoundary": boundary}}
        for operator in ("ArnNotEquals", "StringNotEquals")
    )


def _resource(deployment: Deployment, where: str) -> str:
    bucket = str(deployment.outputs["stateBucket"])
    partition = _partition(deployment)
    return {
        "bucket": f"arn:{partition}:s3:::{bucket}",
        "object": f"arn:{partition}:s3:::{bucket}/{STATE_OBJECT}",
        "key": str(deployment.outputs["secretsKeyArn"]),
    }[where]


def roles_reach_state_and_key(deployment: Deployment) -> str:
    iam = deployment.client("iam")
    for role in STEP_ROLES:
        role_name = role_name_from_arn(deployment.outputs[f"{role}RoleArn"])
        wanted = sorted(json.loads(_config(deployment, f"{role}PolicyArns") or "[]"))
        attached = sorted(
            policy["PolicyArn"] for policy in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
        )
        expect(attached == wanted, f"{role_name} has the managed policies {attached}, not {wanted}")
        documents = _role_documents(deployment, role_name)
        for action, where in MAY[role]:
            resource = _resource(deployment, where)
            expect(_allowed(documents, action, resource), f"{role_name} may not {action} on {resource}")
        for action, where in MAY_NOT[role]:
            resource = _resource(deployment, where)
            expect(not _allowed(documents, action, resource), f"{role_name} may {action} on {resource}")
    return "preview reads state and decrypts; deploy reads, writes and encrypts; each has its configured policies"


BOOTSTRAP_CHECKS = (
    Check("fixed-names", "bootstrap: the fixed names a pipeline stack file uses", fixed_names),
    *bucket_guard_checks(
        GuardedBucket(
            check_prefix="state-bucket",
            label="state bucket",
            bucket_output="stateBucket",
            key_output="secretsKeyArn",
            key_label="the secrets key",
            encryption_description="state bucket: SSE-KMS with the secrets key",
            versioned_note=": every state write keeps the one before",
        )
    ),
    Check("state-never-expires", "state never expires", state_never_expires),
    Check("secrets-key", "secrets key: enabled, rotated, aliased, IAM-governed", secrets_key),
    Check("role-trust", "preview and deploy roles trust only their pipeline step", roles_trust_the_pipeline_step),
    Check(
        "deploy-boundary",
        "deploy role carries the boundary, which closes the ways out",
        deploy_role_within_the_boundary,
    ),
    Check("role-permissions", "preview and deploy roles reach state and key as they must", roles_reach_state_and_key),
    Check("bootstrap-second-run", "a second run changes nothing (deterministic inputs)", second_run_changes_nothing),
)


# --- a pipeline stack against its bootstrap --------------------------------------------------------

ASSUME_ROLE_VARIABLE = "ASSUME_ROLE_ARN"
BACKEND_URL_VARIABLE = "PULUMI_BACKEND_URL"
ACCESS_TOKEN_VARIABLE = "PULUMI_ACCESS_TOKEN"
STEP_OUTPUT = {"preview": "previewRoleArn", "deploy": "deployRoleArn"}


def _step_projects(pipeline: Deployment) -> list[dict[str, dict[str, Any]]]:
    """Each service's Build (preview) and Deploy (deploy) CodeBuild projects, as CodeBuild describes them."""
    return [
        dict(zip(STEP_ROLES, build_projects(pipeline, service), strict=True)) for service in service_pipelines(pipeline)
    ]


def _variables(project: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in project["environment"].get("environmentVariables", [])}


def uses_the_bootstrap(bootstrap: Deployment, pipeline: Deployment) -> str:
    """The pipeline stack's config and its deployed steps name the bootstrap's roles and backend."""
    configured = {key: pipeline.config.get(f"cicd-pipeline:{key}") for key in (*STEP_OUTPUT.values(), "backendUrl")}
    cloud = configured["backendUrl"] is None and "cicd-pipeline:pulumiAccessToken" in pipeline.config
    expected = {key: bootstrap.outputs[key] for key in configured if not (cloud and key == "backendUrl")}
    differing = {key: configured[key] for key, value in expected.items() if configured[key] != value}
    expect(not differing, f"the pipeline stack {pipeline.stack} configures {differing}, not the bootstrap's {expected}")
    bootstrap_iam = bootstrap.client("iam")
    steps = [(role, project) for projects in _step_projects(pipeline) for role, project in projects.items()]
    for role, project in steps:
        variables = _variables(project)
        assumed, wanted = variables.get(ASSUME_ROLE_VARIABLE), bootstrap.outputs[STEP_OUTPUT[role]]
        expect(assumed == wanted, f"{project['name']} assumes {assumed}, not the bootstrap's {role} role {wanted}")
        bootstrap_iam.get_role(RoleName=role_name_from_arn(str(assumed)))
        if cloud:
            expect(
                ACCESS_TOKEN_VARIABLE in variables, f"{project['name']} has neither a backend URL nor a Pulumi token"
            )
        else:
            backend = variables.get(BACKEND_URL_VARIABLE)
            expect(
                backend == bootstrap.outputs["backendUrl"],
                f"{project['name']} logs in to {backend}, not the bootstrap's {bootstrap.outputs['backendUrl']}",
            )
    if not cloud:
        bootstrap.client("s3").head_bucket(Bucket=bootstrap.outputs["stateBucket"])
    backend = "Pulumi Cloud" if cloud else bootstrap.outputs["backendUrl"]
    return f"Build assumes the preview role, Deploy the deploy role, both log in to {backend}"


def bootstrap_trusts_the_pipeline(bootstrap: Deployment, pipeline: Deployment) -> str:
    """Each bootstrap role admits the CodeBuild role of its own step, not the other's; each step role may assume it."""
    pipeline_iam = pipeline.client("iam")
    for projects in _step_projects(pipeline):
        step_roles = {role: project["serviceRole"] for role, project in projects.items()}
        for role in STEP_ROLES:
            bootstrap_role = bootstrap.outputs[STEP_OUTPUT[role]]
            trust = _trust_of(bootstrap, bootstrap_role)
            other = "deploy" if role == "preview" else "preview"
            expect(
                trust_admits(trust, step_roles[role]),
                f"{role_name_from_arn(bootstrap_role)} does not admit {step_roles[role]}",
            )
            expect(
                not trust_admits(trust, step_roles[other]),
                f"{role_name_from_arn(bootstrap_role)} admits {step_roles[other]}",
            )
            own = _role_documents(pipeline, role_name_from_arn(step_roles[role]))
            expect(
                _allowed(own, "sts:AssumeRole", bootstrap_role),
                f"{role_name_from_arn(step_roles[role])} may not sts:AssumeRole on {bootstrap_role}",
            )
            pipeline_iam.get_role(RoleName=role_name_from_arn(step_roles[role]))
    accounts = f"{pipeline.account_id} -> {bootstrap.account_id}"
    kind = "same account" if pipeline.account_id == bootstrap.account_id else "cross-account"
    return f"{kind} ({accounts}): each step role, and only it, may assume its bootstrap role"


def link_checks(bootstrap: Deployment) -> tuple[Check, ...]:
    """Checks of a pipeline deployment against `bootstrap`, run with emulator.verify.verify(pipeline, ...)."""
    return (
        Check(
            "uses-bootstrap",
            "pipeline: config and steps name the bootstrap's roles and backend",
            lambda pipeline: uses_the_bootstrap(bootstrap, pipeline),
        ),
        Check(
            "trusts-pipeline",
            "bootstrap roles admit exactly the pipeline's step roles",
            lambda pipeline: bootstrap_trusts_the_pipeline(bootstrap, pipeline),
        ),
    )


LINK_CHECK_NAMES = ("uses-bootstrap", "trusts-pipeline")
