"""The policy documents a captured graph holds, sorted by kind, and small readers for their statements.

Policies travel as JSON strings in resource inputs. Which input of which type holds which kind
of document is listed here once; `test_every_policy_document_is_checked` fails when the program
registers a policy this table does not know, so no document escapes the checks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import parliament

from harness.capture import RegisteredResource, StackGraph
from harness.run_simulation import AccessModel, ContextValue, Request
from pipeline.run_calls import OVER_TLS, RunCall

# Identity-based: attached to a principal, so they must name their resources.
IDENTITY_POLICY_INPUTS = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
TRUST_POLICY_INPUTS = {"aws:iam/role:Role": "assumeRolePolicy"}
RESOURCE_POLICY_INPUTS = {
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:kms/key:Key": "policy",
}

Statement = dict[str, Any]


@dataclass(frozen=True)
class PolicyDocument:
    """One policy document and the resource input it came from."""

    resource: RegisteredResource
    prop: str
    text: str

    @property
    def label(self) -> str:
        return f"{self.resource.type} {self.resource.name}.{self.prop}"

    @property
    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.text)
        return parsed

    @property
    def statements(self) -> list[Statement]:
        return as_list(self.document["Statement"])


def as_list(value: Any) -> list[Any]:
    """IAM accepts a single value wherever it accepts a list."""
    return value if isinstance(value, list) else [value]


def _documents(graph: StackGraph, inputs: dict[str, str]) -> list[PolicyDocument]:
    return [
        PolicyDocument(resource, inputs[resource.type], resource.inputs[inputs[resource.type]])
        for resource in graph.resources
        if resource.type in inputs and resource.inputs.get(inputs[resource.type])
    ]


def identity_policies(graph: StackGraph) -> list[PolicyDocument]:
    """Inline role policies, managed policies, and the inline policies a Role may carry itself."""
    inline_on_roles = [
        PolicyDocument(role, f"inlinePolicies[{index}].policy", inline["policy"])
        for role in graph.of_type("aws:iam/role:Role")
        for index, inline in enumerate(role.inputs.get("inlinePolicies") or [])
        if inline.get("policy")
    ]
    return _documents(graph, IDENTITY_POLICY_INPUTS) + inline_on_roles


def trust_policies(graph: StackGraph) -> list[PolicyDocument]:
    return _documents(graph, TRUST_POLICY_INPUTS)


def resource_policies(graph: StackGraph, token: str | None = None) -> list[PolicyDocument]:
    documents = _documents(graph, RESOURCE_POLICY_INPUTS)
    return [document for document in documents if token is None or document.resource.type == token]


def _json_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if value.lstrip().startswith("{"):
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _json_strings(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{path}[{index}]")


def all_policy_inputs(graph: StackGraph) -> set[tuple[str, str]]:
    """(urn, input path) of every input that is a JSON document with a Statement: a policy."""
    found = set()
    for resource in graph.custom():
        for path, text in _json_strings(resource.inputs, ""):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                continue
            if isinstance(parsed, dict) and "Statement" in parsed:
                found.add((resource.urn, path))
    return found


def actions(statement: Statement) -> list[str]:
    return [str(action) for action in as_list(statement.get("Action", []))]


def resources(statement: Statement) -> list[str]:
    return [str(resource) for resource in as_list(statement.get("Resource", []))]


def principal_values(statement: Statement) -> list[tuple[str, str]]:
    """(kind, value) pairs: ("*", "*") for `"Principal": "*"`, else ("Service", "...") and so on."""
    principal = statement.get("Principal")
    if principal == "*":
        return [("*", "*")]
    if not isinstance(principal, dict):
        return []
    return [(kind, str(value)) for kind, values in principal.items() for value in as_list(values)]


def is_github_role(policy: PolicyDocument) -> bool:
    """A trust policy for GitHub's OIDC provider rather than an AWS service."""
    return any(kind == "Federated" for statement in policy.statements for kind, _ in principal_values(statement))


def roles_holding(graph: StackGraph, policy: PolicyDocument) -> set[str]:
    """Ids of the roles an identity policy applies to: inline, on the role itself, or attached."""
    resource = policy.resource
    if resource.type == "aws:iam/rolePolicy:RolePolicy":
        return {str(resource.inputs["role"])}
    if resource.type == "aws:iam/role:Role":
        return {resource.id}
    arn = resource.outputs.get("arn")
    attached = {
        a.inputs["role"]
        for a in graph.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["policyArn"] == arn
    }
    attached |= {
        role.id for role in graph.of_type("aws:iam/role:Role") if arn in role.inputs.get("managedPolicyArns", [])
    }
    return {str(role) for role in attached}


BOUNDARY_KEY = "iam:PermissionsBoundary"


def takes_the_boundary_condition(action: str) -> bool:
    """Whether the Service Authorization Reference (parliament's offline copy) lists iam:PermissionsBoundary
    among the condition keys of `action` (or of any action the pattern covers)."""
    iam = next(service for service in parliament.iam_definition if service["prefix"] == "iam")
    return any(
        BOUNDARY_KEY in resource_type["condition_keys"]
        for expanded in parliament.expand_action(action)
        if expanded["service"] == "iam"
        for privilege in iam["privileges"]
        if privilege["privilege"] == expanded["action"]
        for resource_type in privilege["resource_types"]
    )


# ---------------------------------------------------------------------------------------------
# Asking the run simulation's engine (harness/run_simulation.py) about one request.

# Condition keys and their values in a request, e.g. {"iam:PassedToService": "codebuild.amazonaws.com"}
# or {"aws:TagKeys": ["Team"]}; a key the request does not carry is simply absent.
RequestContext = Mapping[str, ContextValue]

# The catalogue entry of a request no catalogue makes (one a test expects refused, say): a placeholder
# the engine does not read; the request names its principal.
_ASKED = RunCall("asked by a test", "GitHub deploy role", "", "it", "", "not a catalogue entry")


def asked(principal: str, action: str, resource: str, context: RequestContext | None = None) -> Request:
    """`principal` calling `action` on `resource` with `context`, over TLS as every AWS call."""
    return Request(
        _ASKED, "asked by a test", principal, action, resource, MappingProxyType({**OVER_TLS, **(context or {})})
    )


def allowed(
    model: AccessModel, principal: str, action: str, resource: str, context: RequestContext | None = None
) -> bool:
    """Whether principalmapper, given every policy the graphs hold, allows the request."""
    return bool(model.judge(asked(principal, action, resource, context)).allowed)
