"""parliament lints every identity-based policy the program produces: zero findings.

parliament runs offline with its bundled copy of the Service Authorization Reference and,
with `include_community_auditors`, also reports privilege escalation, credentials exposure
and permissions management. Its measured blind spots are covered elsewhere: trust policies
(it calls them malformed) in test_trust_policies.py, resource policies in
test_resource_policies.py, and bare wildcards in test_iam_wildcards.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import parliament
from parliament.finding import Finding

from harness.capture import StackGraph
from pipeline.chatbot import NOTIFICATION_PERMISSIONS
from pipeline.github_grants import UNSCOPABLE_ACTIONS
from tests.security.conftest import ACTIVE_VARIANTS, graph_of
from tests.security.policies import (
    BOUNDARY_KEY,
    PolicyDocument,
    Statement,
    actions,
    identity_policies,
    resources,
    takes_the_boundary_condition,
)

# Resources this stack names: `cicd-<environment>-...`, its log groups /cicd-pipeline/<environment>/...,
# its key alias alias/cicd-pipeline-<environment>, and GitHub's OIDC provider.
NAMED_BY_THIS_STACK = re.compile(
    r"[:/]cicd-[a-z0-9-]+-|:log-group:/cicd-pipeline/|:alias/cicd-pipeline-|:oidc-provider/token\.actions\.githubusercontent\.com$"
)
# KMS keys and CodeStar connections get random ids, so no name can scope them: these ARNs are
# allowed only under a condition on the stack's Project and Environment tags.
UNNAMEABLE = re.compile(r":(key|connection)/\*$")
STACK_TAG_KEYS = {"aws:ResourceTag/Project", "aws:ResourceTag/Environment"}


def _flagged_actions(finding: Finding) -> frozenset[str]:
    listed = finding.location.get("actions") if isinstance(finding.location, dict) else None
    return frozenset(str(action).lower() for action in (listed or []))


def _lower(statement: Statement) -> set[str]:
    return {action.lower() for action in actions(statement)}


def _assumes_only_named_roles(finding: Finding, policy: PolicyDocument) -> bool:
    granted = [statement for statement in policy.statements if "sts:assumerole" in _lower(statement)]
    return all(":role/" in arn and "*" not in arn for statement in granted for arn in resources(statement))


def _statement_is_scoped(statement: Statement) -> bool:
    if "*" in resources(statement):
        return _lower(statement) <= {action.lower() for action in UNSCOPABLE_ACTIONS}
    tagged = set(statement.get("Condition", {}).get("StringEquals", {})) >= STACK_TAG_KEYS
    return all(NAMED_BY_THIS_STACK.search(arn) or (UNNAMEABLE.search(arn) and tagged) for arn in resources(statement))


def _writes_roles_only_within_the_boundary(statement: Statement) -> bool:
    bounded = statement.get("Condition", {}).get("ArnEquals", {}).get(BOUNDARY_KEY)
    return bool(bounded) or not any(map(takes_the_boundary_condition, actions(statement)))


def _passes_roles_only_to_named_services(statement: Statement) -> bool:
    passed_to = statement.get("Condition", {}).get("StringEquals", {}).get("iam:PassedToService")
    return "iam:passrole" not in _lower(statement) or bool(passed_to)


def _manages_only_this_stack(finding: Finding, policy: PolicyDocument) -> bool:
    flagged = [s for s in policy.statements if s["Effect"] == "Allow" and _lower(s) & _flagged_actions(finding)]
    return all(
        _statement_is_scoped(s)
        and _passes_roles_only_to_named_services(s)
        and _writes_roles_only_within_the_boundary(s)
        for s in flagged
    )


KMS_ALIAS_ACTIONS = {"kms:createalias", "kms:deletealias", "kms:updatealias"}


def _alias_split_as_documented(finding: Finding, policy: PolicyDocument) -> bool:
    """The alias's side on the stack's alias by name, the key's side on keys with the stack's tags."""
    mismatched = {str(item["action"]).lower() for item in finding.detail}
    granting = [s for s in policy.statements if s["Effect"] == "Allow" and _lower(s) & KMS_ALIAS_ACTIONS]
    aliases = [s for s in granting if all(":alias/cicd-pipeline-" in arn for arn in resources(s))]
    keys = [s for s in granting if all(UNNAMEABLE.search(arn) for arn in resources(s)) and _statement_is_scoped(s)]
    return (
        mismatched <= KMS_ALIAS_ACTIONS
        and len(aliases) == len(keys) == 1
        and len(granting) == 2
        and _lower(aliases[0]) & KMS_ALIAS_ACTIONS == _lower(keys[0]) & KMS_ALIAS_ACTIONS == KMS_ALIAS_ACTIONS
    )


def _bucket_of_this_stack(finding: Finding, policy: PolicyDocument) -> bool:
    return (
        re.match(r"Possible resource policy privilege escalation on arn:aws:s3:::cicd-[a-z0-9-]+-\* ", finding.detail)
        is not None
    )


def _chatbots_notification_template(finding: Finding, policy: PolicyDocument) -> bool:
    """Only CloudWatch reads are flagged, granted on "*" by exactly the Slack channel's template (pipeline/chatbot.py)."""
    flagged = {str(action).lower() for action in finding.detail}
    on_everything = [s for s in policy.statements if s["Effect"] == "Allow" and "*" in resources(s)]
    template = [s for s in on_everything if sorted(actions(s)) == sorted(NOTIFICATION_PERMISSIONS)]
    return (
        bool(flagged)
        and all(action.startswith(("cloudwatch:describe", "cloudwatch:get", "cloudwatch:list")) for action in flagged)
        and len(template) == 1
        and all(
            not action.startswith("cloudwatch:") for s in on_everything if s not in template for action in _lower(s)
        )
    )


@dataclass(frozen=True)
class Waiver:
    """A parliament finding that is wrong, or accepted, for this program, and the check that it is that case."""

    issue: str
    reason: str
    holds: Callable[[Finding, PolicyDocument], bool]
    flagged_actions: frozenset[str] | None = None


# The one place findings are waived; anything else parliament reports fails the test.
WAIVERS = (
    Waiver(
        issue="CREDENTIALS_EXPOSURE",
        flagged_actions=frozenset({"sts:assumerole"}),
        reason=(
            "False positive: parliament flags sts:AssumeRole whatever the resource. The build steps may assume "
            "only the preview/deploy role named in config (one role ARN, no wildcard): obtaining that role's "
            "credentials is the point of the grant, and that role's own trust policy decides the rest."
        ),
        holds=_assumes_only_named_roles,
    ),
    Waiver(
        issue="PERMISSIONS_MANAGEMENT_ACTIONS",
        reason=(
            "Accepted by design, not a false positive: the GitHub deploy role runs `pulumi up` of this stack, "
            "which writes its roles, role policies and the bucket, topic and key policies. parliament flags "
            "these actions whatever the resource and condition; the check holds only while each statement "
            "names this stack's resources (keys and connections, which have no names, only under the stack's "
            "tag conditions), every action that takes iam:PermissionsBoundary is conditioned on the stack's "
            "boundary, and PassRole names its services. The residual risk is in the README's security model."
        ),
        holds=_manages_only_this_stack,
    ),
    Waiver(
        issue="RESOURCE_MISMATCH",
        reason=(
            "False positive: parliament wants the alias and the key of an alias operation in one statement. "
            "AWS authorizes the operation on each separately and documents the split "
            "(https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html); here it lets the key's "
            "side carry the stack's tag condition, which the alias (it has no tags) could never meet."
        ),
        holds=_alias_split_as_documented,
    ),
    Waiver(
        issue="RESOURCE_POLICY_PRIVILEGE_ESCALATION",
        reason=(
            "Accepted by design: the GitHub deploy role manages the artifact bucket's policy but not its "
            "objects; a policy it wrote could grant it the artifacts, which it can reach anyway through the "
            "build projects it manages. Block Public Access keeps any such policy from opening the bucket."
        ),
        holds=_bucket_of_this_stack,
    ),
    Waiver(
        issue="RESOURCE_STAR",
        reason=(
            "Accepted by design: the Slack channel's role and guardrail, and so the boundary over that role, "
            'grant AWS\'s "Notification permissions" template for a notifications-only Chatbot channel, '
            "cloudwatch:Describe*, Get* and List* on * as AWS writes it "
            "(https://docs.aws.amazon.com/chatbot/latest/adminguide/understanding-permissions.html). Read-only; "
            "some of these actions take no resource type, so no ARN could replace the *."
        ),
        holds=_chatbots_notification_template,
    ),
)


def is_waived(finding: Finding, policy: PolicyDocument) -> bool:
    return any(
        finding.issue == waiver.issue
        and waiver.flagged_actions in (None, _flagged_actions(finding))
        and waiver.holds(finding, policy)
        for waiver in WAIVERS
    )


def findings(text: str) -> list[Finding]:
    linted = parliament.analyze_policy_string(text, include_community_auditors=True)
    return list(linted.findings)


def test_parliament_zero_findings_on_identity_policies(graph: StackGraph) -> None:
    policies = identity_policies(graph)
    assert policies
    reported = {
        policy.label: [f"{f.issue}: {f.detail} {f.location}" for f in findings(policy.text) if not is_waived(f, policy)]
        for policy in policies
    }
    assert reported == {policy.label: [] for policy in policies}


def test_parliament_is_awake() -> None:
    """A document parliament must object to, so a broken install cannot pass silently."""
    too_broad = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}'
    )
    assert {finding.issue for finding in findings(too_broad)} == {"RESOURCE_STAR"}


def test_each_waiver_is_still_needed() -> None:
    """A waiver nothing needs any more is deleted, not kept as a blind spot."""
    used = {
        waiver.issue
        for variant in ACTIVE_VARIANTS
        for policy in identity_policies(graph_of(variant))
        for finding in findings(policy.text)
        for waiver in WAIVERS
        if finding.issue == waiver.issue and is_waived(finding, policy)
    }
    assert used == {waiver.issue for waiver in WAIVERS}
