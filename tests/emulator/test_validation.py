"""The emulator refuses what AWS would refuse, although moto accepts it.

Each bad call is made twice in the same emulated account: through a plain boto3 client, where
moto takes it, and through the emulator's validated client, which names the parameter.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ParamValidationError

from emulator.backend import FAKE_CREDENTIALS, Emulator
from emulator.validation import constraint_errors, documented_values

pytestmark = pytest.mark.emulator

REGION = "eu-west-1"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


def plain_client(service: str) -> Any:
    """What moto alone does: a boto3 client with no validation beyond botocore's own."""
    return boto3.Session(**FAKE_CREDENTIALS).client(service, region_name=REGION)


def pipeline_declaration(emulator: Emulator, name: str) -> dict[str, Any]:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam = emulator.client("iam", REGION)
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    emulator.client("s3", REGION).create_bucket(
        Bucket=f"{name}-artifacts", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    action = {
        "name": "Source",
        "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
        "configuration": {"S3Bucket": "source", "S3ObjectKey": "source.zip"},
        "outputArtifacts": [{"name": "source"}],
    }
    build = {
        "name": "Build",
        "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
        "configuration": {"ProjectName": "build"},
        "inputArtifacts": [{"name": "source"}],
    }
    return {
        "name": name,
        "roleArn": role,
        "artifactStore": {"type": "S3", "location": f"{name}-artifacts"},
        "stages": [{"name": "Source", "actions": [action]}, {"name": "Build", "actions": [build]}],
        "pipelineType": "V2",
    }


def test_pipeline_type_v3_is_refused(emulator: Emulator) -> None:
    declaration = pipeline_declaration(emulator, "typo")
    plain_client("codepipeline").create_pipeline(pipeline={**declaration, "pipelineType": "V3"})

    with pytest.raises(ParamValidationError, match=r"pipeline\.pipelineType: 'V3' is not one of V1, V2"):
        emulator.client("codepipeline", REGION).create_pipeline(
            pipeline={**declaration, "name": "x", "pipelineType": "V3"}
        )


def test_action_category_buidl_is_refused(emulator: Emulator) -> None:
    declaration = pipeline_declaration(emulator, "typo")
    declaration["stages"][1]["actions"][0]["actionTypeId"]["category"] = "Buidl"
    plain_client("codepipeline").create_pipeline(pipeline=declaration)

    with pytest.raises(
        ParamValidationError,
        match=r"pipeline\.stages\[1\]\.actions\[0\]\.actionTypeId\.category: 'Buidl' is not one of",
    ):
        emulator.client("codepipeline", REGION).create_pipeline(pipeline={**declaration, "name": "x"})


def test_log_retention_of_13_days_is_refused(emulator: Emulator) -> None:
    emulator.client("logs", REGION).create_log_group(logGroupName="/typo")
    plain_client("logs").put_retention_policy(logGroupName="/typo", retentionInDays=13)

    with pytest.raises(
        ParamValidationError, match=r"retentionInDays: 13 is not one of the documented values 1, 3, 5, 7, 14"
    ):
        emulator.client("logs", REGION).put_retention_policy(logGroupName="/typo", retentionInDays=13)
    emulator.client("logs", REGION).put_retention_policy(logGroupName="/typo", retentionInDays=14)


def test_patterns_are_matched_whole_with_javas_unicode_classes(emulator: Emulator) -> None:
    iam = emulator.client("iam", REGION)
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    iam.create_role(RoleName="ok", AssumeRolePolicyDocument=trust, Tags=[{"Key": "Équipe", "Value": "plateforme"}])

    with pytest.raises(ParamValidationError, match=r"RoleName: 'has space' does not match the pattern"):
        iam.create_role(RoleName="has space", AssumeRolePolicyDocument=trust)
    with pytest.raises(ParamValidationError, match=r"Tags\[0\]\.Key: 'a\*b' does not match the pattern"):
        iam.create_role(RoleName="other", AssumeRolePolicyDocument=trust, Tags=[{"Key": "a*b", "Value": ""}])


def test_maximums_are_checked_as_well_as_minimums() -> None:
    model = botocore.session.get_session().get_service_model("iam")
    shape = model.operation_model("CreateRole").input_shape

    errors = constraint_errors(shape, {"RoleName": "r" * 65, "MaxSessionDuration": 43201, "Description": ""})

    assert errors == [
        "Invalid length for parameter RoleName: 65 characters, above the maximum 64",
        "Invalid range for parameter MaxSessionDuration: 43201 is above the maximum 43200",
    ]


def test_documented_values_are_read_from_the_model_itself() -> None:
    model = botocore.session.get_session().get_service_model("logs")
    retention = model.operation_model("PutRetentionPolicy").input_shape.members["retentionInDays"]

    assert documented_values(retention)[:5] == (1, 3, 5, 7, 14)
    assert documented_values(retention)[-1] == 3653
