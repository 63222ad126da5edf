"""IAM building blocks: policy documents as pure functions of outputs, and a service role.

Documents are built here rather than with `aws.iam.get_policy_document_output` so that they
are plain data a test (and parliament) can read without an invoke, and every ARN in them
is an output, which carries the dependency on the resource it names.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

Statement = Mapping[str, Any]


def statement(
    sid: str,
    actions: Sequence[pulumi.Input[str]],
    resources: Sequence[pulumi.Input[str]],
    *,
    condition: Mapping[str, Mapping[str, Any]] | None = None,
    effect: str = "Allow",
) -> Statement:
    """One identity-policy statement; `resources` are ARNs, normally outputs.

    An action may be an output too, where its service prefix follows an ARN (see
    `pipeline.source.use_connection_action`); such actions keep their order.
    """
    literal = [action for action in actions if isinstance(action, str)]
    body: dict[str, Any] = {
        "Sid": sid,
        "Effect": effect,
        "Action": sorted(literal) if len(literal) == len(actions) else list(actions),
        "Resource": list(resources),
    }
    if condition:
        body["Condition"] = condition
    return body


def merged_statements(statements: Sequence[Statement]) -> list[Statement]:
    """One statement per Sid, with the resources of every statement of that Sid (each once).

    Statements sharing a Sid must grant the same actions under the same condition; only their
    resources may differ (the build step and the deploy step each write their own log group, each
    service's pipeline runs its own projects). Actions and conditions may be outputs (the connection's
    `UseConnection` follows its ARN), so they are compared once resolved, and a difference fails the
    resource whose policy this is.
    """
    by_sid: dict[str, list[Statement]] = {}
    for each in statements:
        by_sid.setdefault(each["Sid"], []).append(each)
    merged: list[Statement] = []
    for sid, group in by_sid.items():
        # What is known now is compared now, so a mistake fails the program where it is made.
        _all_alike(sid, [_known_part({**each, "Resource": []}) for each in group])
        resources = pulumi.Output.all(*(resource for each in group for resource in each["Resource"])).apply(
            lambda arns: list(dict.fromkeys(arns))
        )
        if len(group) > 1 and any(_holds_outputs({**each, "Resource": []}) for each in group):
            alike = pulumi.Output.all(*(pulumi.Output.from_input({**each, "Resource": []}) for each in group))
            resources = pulumi.Output.all(alike.apply(functools.partial(_all_alike, sid)), resources).apply(
                lambda checked_and_resources: checked_and_resources[1]
            )
        merged.append({**group[0], "Resource": resources})
    return merged


_NOT_YET_KNOWN = "<output>"


def _known_part(value: Any) -> Any:
    """`value` with each output in it replaced by one placeholder."""
    if isinstance(value, pulumi.Output):
        return _NOT_YET_KNOWN
    if isinstance(value, Mapping):
        return {key: _known_part(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_known_part(item) for item in value]
    return value


def _holds_outputs(value: Any) -> bool:
    if isinstance(value, pulumi.Output):
        return True
    if isinstance(value, Mapping):
        return any(_holds_outputs(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_outputs(item) for item in value)
    return False


def _all_alike(sid: str, statements: list[Any]) -> bool:
    first = statements[0]
    differing = [other for other in statements if other != first]
    if differing:
        raise ValueError(f"statements {sid} differ in more than their resources: {first} and {differing[0]}")
    return True


def policy_document(statements: Sequence[Statement]) -> pulumi.Output[str]:
    """A policy document as JSON, resolved once every ARN in it is known."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def service_trust_policy(service: str, account_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """Trust exactly one AWS service principal, and only on behalf of this account.

    The aws:SourceAccount condition is AWS's confused-deputy guard:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
    """
    return policy_document(
        [
            {
                "Sid": "TrustOnlyThisService",
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ]
    )


@dataclass(frozen=True)
class ServiceRoleArgs:
    """The one service that may assume the role, for which account, what it may do, and its cap."""

    service: str
    account_id: pulumi.Input[str]
    statements: Sequence[Statement]
    permissions_boundary: pulumi.Input[str]
    description: str


class ServiceRole(pulumi.ComponentResource):
    """An IAM role one AWS service may assume, with its inline least-privilege policy.

    `policy` is created as a child so callers can make their resources depend on it: a
    role whose permissions are not yet attached is the cause of CodeBuild's first-deploy
    "not authorized to perform sts:AssumeRole".

    `permissions_boundary` (the stack's PermissionsBoundary) caps what the role can ever do,
    whatever its inline policy says: the GitHub deploy role may write these policies, and may
    create and change only roles that carry this boundary.
    """

    role: aws.iam.Role
    policy: aws.iam.RolePolicy

    def __init__(self, name: str, args: ServiceRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("cicd:iam:ServiceRole", name, None, opts)
        self.role = aws.iam.Role(
            name,
            description=args.description,
            assume_role_policy=service_trust_policy(args.service, args.account_id),
            max_session_duration=3600,
            permissions_boundary=args.permissions_boundary,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.name,
            policy=policy_document(args.statements),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.role.arn
        self.register_outputs({"arn": self.role.arn, "name": self.role.name})
