"""Offline run simulation: would each call of one pipeline execution (pipeline/run_calls.py) be allowed?
And each call the GitHub roles' `pulumi up` and `pulumi preview --refresh` make (pipeline/github_calls.py)?

The engine resolves every catalogue entry against one or more captured graphs (harness.capture
`evaluate`; several graphs are joined, e.g. a bootstrap stack and the pipeline stack; a GitHub entry
once per registered resource of its type, `github_scopes`), and judges each resulting request with
principalmapper 1.1.5's local IAM evaluation, fed with what the program registers:

- identity policies: a role's inline `aws:iam/rolePolicy:RolePolicy` documents, `inlinePolicies`,
  and managed policies (`aws:iam/rolePolicyAttachment:RolePolicyAttachment`, `managedPolicyArns`)
  read from `aws:iam/policy:Policy` in the graphs;
- the role's `permissionsBoundary`, read from `aws:iam/policy:Policy` by ARN;
- resource policies: bucket policies (for the bucket and its objects), topic policies, key policies
  (a key without one gets AWS's default key policy), and role trust policies for sts:AssumeRole (for
  sts:* only: IAM's own actions on a role have no resource policy);
- the request context the catalogue lists, plus aws:PrincipalArn and aws:PrincipalAccount of the
  calling role (for an assumed-role session, aws:PrincipalArn is the role's ARN).

A request is allowed only when principalmapper's full evaluation allows it
(`local_check_authorization_full` for roles; `resource_policy_authorization` returning SERVICE_MATCH
for service principals, which have no identity policies).

AWS-managed policies cannot be read offline. Two are modelled, and every judgement granted through one
says so in `Judgement.stand_ins` (and `only_through_stand_ins` when nothing else grants it):
- AdministratorAccess as its documented document, Allow "*" on "*"
  (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AdministratorAccess.html);
- ReadOnlyAccess as a STAND-IN that allows `*:Get*`, `*:List*`, `*:Describe*` and `*:BatchGet*` on "*"
  (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/ReadOnlyAccess.html lists the real
  actions service by service; they are not this pattern), so a call allowed only through the stand-in is
  reported, not trusted (tests/security/test_run_simulation.py refuses one).
Any other AWS-managed policy contributes nothing and is named in `Judgement.unjudged`.

What principalmapper 1.1.5 does, and where it stops (read from its source, querying/*.py):
- Python 3.11: its CaseInsensitiveDict imports `collections.Mapping`; the shim below aliases the
  `collections.abc` names before the import.
- Same-account KMS keys and IAM roles: the key (trust) policy must match the caller, either by ARN
  (NODE_MATCH: allowed without identity policy or boundary) or through the account root (ROOT_MATCH:
  the identity policy and the boundary must then allow too), as KMS and STS document. A NODE_MATCH also
  skips the boundary, which AWS does for a resource policy naming a role *session*, not the role
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html); the graphs' key
  and trust policies name the account root, so this shortcut is never taken here.
- Other same-account resource policies: an Allow naming the role (or "*") ends the evaluation as
  allowed (NODE_MATCH, again skipping the boundary); otherwise the identity policy decides.
- Cross-account: the resource policy must match the caller's account or ARN (DIFF_ACCOUNT_MATCH) and
  the caller's identity policy and boundary must allow, as AWS's cross-account logic documents.
- Service principals: `resource_policy_authorization` checks the resource policy only; a Deny for "*"
  applies to them too. It infers no context keys for them: every key comes from the catalogue.
- Conditions: String*, Arn*, Bool, Numeric*, Date*, IpAddress, Null, with ForAllValues/ForAnyValue and
  IfExists. ForAllValues holds when the key is absent, as in IAM. Limits: ArnEquals matches like
  ArnLike (wildcards, case-insensitive); Bool compares the *string* "true"/"false", so a policy with a
  JSON boolean never matches (the program writes strings); StringNotLike with an absent key does not
  match, where IAM's negated operators do; resource ARNs and patterns compare case-insensitively,
  where IAM is case-sensitive for most resource ARNs. In a resource policy, a statement whose Action is
  written with an upper-case `SNS:`/`SQS:` prefix matches every action (`_statement_matches_action`
  compares the request's action with itself); the program writes prefixes in lower case.
- Not modelled by principalmapper (nor here): SCPs and RCPs (none are passed), session policies, VPC
  endpoint policies, KMS grants, S3 ACLs, and the S3 Block Public Access setting.
Where the graphs lack a side of a decision (a configured connection, secret, parameter or role, a bucket
the stack does not create), the judgement is made on the sides present and `Judgement.unjudged` names
the missing one; nothing is assumed for it.
"""

from __future__ import annotations

import collections
import collections.abc
import copy
import json
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from harness.capture import RegisteredResource, StackGraph
from pipeline.build import ASSUME_ROLE_VARIABLE, BACKEND_URL_VARIABLE, STACK_VARIABLE
from pipeline.reports import COVERAGE_REPORT_GROUP_VARIABLE, TEST_REPORT_GROUP_VARIABLE
from pipeline.run_calls import RUN_CALLS, Actor, Resource, RunCall, When

# principalmapper 1.1.5 imports Mapping and MutableMapping from `collections`, which Python 3.10 removed;
# alias the abstract base classes it expects before importing it (the one compatibility shim).
for _name in ("Mapping", "MutableMapping", "Iterable", "Sequence"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from principalmapper.common import Node, Policy  # type: ignore[import-untyped]  # noqa: E402
from principalmapper.querying.local_policy_simulation import (  # type: ignore[import-untyped]  # noqa: E402
    ResourcePolicyEvalResult,
    policy_has_matching_statement,
    resource_policy_authorization,
    resource_policy_matching_statements,
)
from principalmapper.querying.query_interface import (  # type: ignore[import-untyped]  # noqa: E402
    local_check_authorization_full,
)
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # type: ignore[import-untyped]  # noqa: E402

Document = dict[str, Any]
ContextValue = str | list[str]

ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
STAND_INS: Mapping[str, tuple[str, Document]] = MappingProxyType(
    {
        ADMINISTRATOR_ACCESS: (
            "AdministratorAccess as documented: Allow * on *",
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        ),
        READ_ONLY_ACCESS: (
            "ReadOnlyAccess STAND-IN (*:Get*, *:List*, *:Describe*, *:BatchGet*); the real policy differs",
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["*:Get*", "*:List*", "*:Describe*", "*:BatchGet*"],
                        "Resource": "*",
                    }
                ],
            },
        ),
    }
)


def default_key_policy(account_root: str) -> Document:
    """What KMS gives a key created without a policy: the account's IAM policies decide.
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html"""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": account_root}, "Action": "kms:*", "Resource": "*"}],
    }


# ------------------------------------------------------------------------------------------------
# Requests: the catalogue resolved against the graphs


@dataclass(frozen=True)
class Target:
    """One ARN a symbolic resource resolves to, with the values a request context may name."""

    arn: str
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scope:
    """One actor in the graphs: who calls, the facts that select entries, and what its resources are."""

    actor: Actor
    label: str
    principal: str  # a role ARN, or a service principal such as events.amazonaws.com
    facts: frozenset[When]
    values: Mapping[str, str]
    resources: Mapping[Resource, tuple[Target, ...]]
    registered: str = ""  # the resource type a GitHub role's scope is for (RunCall.registered)


@dataclass(frozen=True)
class Request:
    """One concrete call: the catalogue entry, who makes it, the action, the ARN and the context."""

    call: RunCall
    scope: str
    principal: str
    action: str
    resource: str
    context: Mapping[str, ContextValue]

    def __str__(self) -> str:
        return f"{self.call.id}: {self.scope} -> {self.action} on {self.resource}"


class CatalogueMismatchError(Exception):
    """An entry's facts hold but its resource resolves to nothing: the catalogue or the engine is wrong."""


def _format(template: str, values: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise CatalogueMismatchError(f"no value {{{name}}} for {template!r}; known: {sorted(values)}")
        return values[name]

    return re.sub(r"\{([^{}]+)\}", substitute, template)


def requests_for(call: RunCall, scope: Scope) -> list[Request]:
    """The requests one entry makes in one scope: none unless its actor and facts match."""
    if call.actor != scope.actor or call.registered != scope.registered or not set(call.when) <= scope.facts:
        return []
    targets = scope.resources.get(call.resource, ())
    if not targets:
        raise CatalogueMismatchError(f"{call.id}: {scope.label} meets {call.when} but has no {call.resource!r}")
    found = []
    for target in targets:
        values = {**scope.values, **target.values}
        found.append(
            Request(
                call=call,
                scope=scope.label,
                principal=scope.principal,
                action=_format(call.action, values),
                resource=target.arn,
                context=MappingProxyType(
                    {
                        _format(key, values): _format(value, values)
                        if isinstance(value, str)
                        else [_format(each, values) for each in value]
                        for key, value in call.context.items()
                    }
                ),
            )
        )
    return found


def resolve(graphs: Sequence[StackGraph], calls: Iterable[RunCall] = RUN_CALLS) -> list[Request]:
    """Every request the catalogue makes for the joined graphs."""
    found = [*scopes(graphs), *github_scopes(graphs)]
    return [request for call in calls for scope in found for request in requests_for(call, scope)]


# ------------------------------------------------------------------------------------------------
# Reading the graphs


def _arn_part(arn: str, index: int) -> str:
    parts = arn.split(":")
    return parts[index] if len(parts) > index else ""


class Graphs:
    """The joined graphs: resources by type, and lookups by physical name and ARN.

    Two bootstraps may both define alias/cicd-state; lookups that can meet twins take the account.
    """

    def __init__(self, graphs: Sequence[StackGraph]) -> None:
        self.graphs = list(graphs)
        self.custom = [(resource, account_of(graph), graph) for graph in self.graphs for resource in graph.custom()]

    def of_type(self, token: str, account: str | None = None) -> list[RegisteredResource]:
        return [r for r, a, _ in self.custom if r.type == token and account in (None, a)]

    def by_output(self, token: str, key: str, value: object, account: str | None = None) -> RegisteredResource | None:
        return next((r for r in self.of_type(token, account) if r.outputs.get(key) == value), None)

    def graph_of(self, resource: RegisteredResource) -> StackGraph:
        return next(graph for each, _, graph in self.custom if each is resource)

    def bucket_key_enabled(self, bucket: str) -> bool:
        """Whether the bucket's default encryption uses an S3 Bucket Key (then KMS sees the bucket's ARN)."""
        return any(rule.get("bucketKeyEnabled") for rule in self._encryption_rules(bucket))

    def bucket_key(self, bucket: str, *, partition: str, region: str, account: str) -> str | None:
        """The KMS key a bucket's default encryption names, if the graphs configure one."""
        for rule in self._encryption_rules(bucket):
            default = rule.get("applyServerSideEncryptionByDefault") or {}
            if default.get("sseAlgorithm", "").startswith("aws:kms") and default.get("kmsMasterKeyId"):
                return self.key_arn(str(default["kmsMasterKeyId"]), partition=partition, region=region, account=account)
        return None

    def _encryption_rules(self, bucket: str) -> list[dict[str, Any]]:
        token = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        return [
            rule
            for c in self.of_type(token)
            if c.inputs.get("bucket") == bucket
            for rule in c.inputs.get("rules") or []
        ]

    def key_arn(self, reference: str, *, partition: str, region: str, account: str) -> str:
        """A key ARN from what a resource names: a key ARN, a key id, or an alias (name or ARN)."""
        if ":key/" in reference:
            return reference
        alias = reference.split(":", 5)[-1] if reference.startswith("arn:") else reference
        if alias.startswith("alias/"):
            found = self.by_output("aws:kms/alias:Alias", "name", alias, account)
            if found is None:
                raise CatalogueMismatchError(f"alias {alias} of account {account} is not in the graphs")
            reference = str(found.inputs["targetKeyId"])
            if ":key/" in reference:
                return reference
        key = self.by_output("aws:kms/key:Key", "keyId", reference, account)
        if key is not None:
            return str(key.outputs["arn"])
        return f"arn:{partition}:kms:{region}:{account}:key/{reference}"


def account_of(graph: StackGraph) -> str:
    """The account a graph was evaluated in: the one its roles (or else its ARNs) are in; "" for none."""
    arns = [str(r.outputs.get("arn", "")) for r in graph.custom()]
    roles = [_arn_part(arn, 4) for arn in arns if ":iam::" in arn and ":role/" in arn]
    found = roles or [_arn_part(arn, 4) for arn in arns if _arn_part(arn, 4).isdigit()]
    return max(set(found), key=found.count) if found else ""


def _bucket_arn(partition: str, bucket: str) -> str:
    return f"arn:{partition}:s3:::{bucket}"


def scopes(graphs: Sequence[StackGraph]) -> list[Scope]:
    """Every actor the joined graphs hold, with its facts and resources."""
    return list(_scopes(Graphs(graphs)))


def _scopes(graphs: Graphs) -> Iterator[Scope]:
    for pipeline in graphs.of_type("aws:codepipeline/pipeline:Pipeline"):
        yield _pipeline_scope(graphs, pipeline)
        yield from _build_scopes(graphs, pipeline)
    yield from _eventbridge_scopes(graphs)
    yield from _logs_scopes(graphs)


def _actions(pipeline: RegisteredResource) -> list[dict[str, Any]]:
    return [action for stage in pipeline.inputs["stages"] for action in stage["actions"]]


def _artifact_targets(graphs: Graphs, pipeline: RegisteredResource) -> dict[Resource, tuple[Target, ...]]:
    """The artifact store's objects, bucket and key, as the pipeline's actions and builds reach them."""
    arn = str(pipeline.outputs["arn"])
    partition, region, account = _arn_part(arn, 1), _arn_part(arn, 3), _arn_part(arn, 4)
    objects, buckets, keys = [], [], []
    for store in pipeline.inputs["artifactStores"]:
        bucket = _bucket_arn(partition, str(store["location"]))
        # CodePipeline keys an artifact by pipeline, artifact name and a random suffix.
        artifact = f"{bucket}/{pipeline.outputs['name']}/source/Ab12Cd3"
        objects.append(Target(artifact, {"bucket": bucket}))
        buckets.append(Target(bucket, {"bucket": bucket}))
        key = (store.get("encryptionKey") or {}).get("id")
        if key:
            context = bucket if graphs.bucket_key_enabled(str(store["location"])) else artifact
            key_arn = graphs.key_arn(str(key), partition=partition, region=region, account=account)
            keys.append(Target(key_arn, {"bucket": bucket, "s3 encryption context": context}))
    return {"artifact objects": tuple(objects), "artifact bucket": tuple(buckets), "artifact key": tuple(keys)}


def _arn_values(arn: str) -> dict[str, str]:
    return {"partition": _arn_part(arn, 1), "region": _arn_part(arn, 3), "account": _arn_part(arn, 4)}


def _topic_key(graphs: Graphs, topic_arn: str) -> tuple[Target, ...]:
    topic = graphs.by_output("aws:sns/topic:Topic", "arn", topic_arn)
    reference = topic.inputs.get("kmsMasterKeyId") if topic is not None else None
    if not reference:
        return ()
    values = _arn_values(topic_arn)
    key = graphs.key_arn(
        str(reference), partition=values["partition"], region=values["region"], account=values["account"]
    )
    return (Target(key, {"topic": topic_arn}),)


def _pipeline_scope(graphs: Graphs, pipeline: RegisteredResource) -> Scope:
    arn = str(pipeline.outputs["arn"])
    values = _arn_values(arn)
    actions = _actions(pipeline)
    facts: set[When] = set()
    resources: dict[Resource, tuple[Target, ...]] = dict(_artifact_targets(graphs, pipeline))
    if resources["artifact key"]:
        facts.add("encrypted artifacts")

    connections = [a["configuration"]["ConnectionArn"] for a in actions if a["provider"] == "CodeStarSourceConnection"]
    if connections:
        facts.add("connection source")
        resources["connection"] = tuple(Target(c, {"connection service": _arn_part(c, 2)}) for c in connections)

    s3_sources = [a["configuration"] for a in actions if a["category"] == "Source" and a["provider"] == "S3"]
    if s3_sources:
        facts.add("s3 source")
        buckets = [_bucket_arn(values["partition"], c["S3Bucket"]) for c in s3_sources]
        resources["source bucket"] = tuple(Target(b) for b in buckets)
        resources["source objects"] = tuple(
            Target(f"{b}/{c['S3ObjectKey']}") for b, c in zip(buckets, s3_sources, strict=True)
        )

    projects = []
    for action in actions:
        if action["provider"] == "CodeBuild":
            name = action["configuration"]["ProjectName"]
            project = graphs.by_output("aws:codebuild/project:Project", "name", name)
            project_arn = str(project.outputs["arn"]) if project else (
                f"arn:{values['partition']}:codebuild:{values['region']}:{values['account']}:project/{name}"
            )  # fmt: skip
            projects.append(Target(project_arn))
    resources["build projects"] = tuple(projects)

    topics = [
        str(a["configuration"]["NotificationArn"])
        for a in actions
        if a["category"] == "Approval" and (a.get("configuration") or {}).get("NotificationArn")
    ]
    if topics:
        facts.add("approval")
        resources["approval topic"] = tuple(Target(t, {"topic": t}) for t in topics)
        resources["approval topic key"] = tuple(key for t in topics for key in _topic_key(graphs, t))
        if resources["approval topic key"]:
            facts.add("encrypted approval topic")

    return Scope(
        actor="pipeline role",
        label=f"pipeline role of {pipeline.outputs['name']}",
        principal=str(pipeline.inputs["roleArn"]),
        facts=frozenset(facts),
        values=values,
        resources=MappingProxyType(resources),
    )


def _variables(project: RegisteredResource, kind: str) -> list[tuple[str, str]]:
    variables = (project.inputs.get("environment") or {}).get("environmentVariables") or []
    return [(str(v["name"]), str(v["value"])) for v in variables if v.get("type", "PLAINTEXT") == kind]


def _secret_arn(value: str) -> str:
    """The secret a SECRETS_MANAGER variable names: its ARN, without `:json-key:stage:version` qualifiers."""
    if not value.startswith("arn:"):
        raise CatalogueMismatchError(f"a SECRETS_MANAGER variable names {value!r}, not an ARN: its ARN is unknown")
    return ":".join(value.split(":")[:7])


def _log_stream_targets(graphs: Graphs, project: RegisteredResource, values: Mapping[str, str]) -> tuple[Target, ...]:
    config = ((project.inputs.get("logsConfig") or {}).get("cloudwatchLogs")) or {}
    if config.get("status", "ENABLED") != "ENABLED":
        return ()
    # Without a group name CodeBuild writes to /aws/codebuild/<project>.
    name = config.get("groupName") or f"/aws/codebuild/{project.outputs['name']}"
    group = graphs.by_output("aws:cloudwatch/logGroup:LogGroup", "name", name)
    group_arn = str(group.outputs["arn"]) if group else (
        f"arn:{values['partition']}:logs:{values['region']}:{values['account']}:log-group:{name}"
    )  # fmt: skip
    # CodeBuild names a build's stream after the build id's uuid.
    return (Target(f"{group_arn}:log-stream:{uuid.UUID(int=1)}", {"log group": group_arn}),)


# The report group variables a project sets (pipeline/reports.py): the resource and fact each makes.
_REPORT_GROUP_VARIABLES: tuple[tuple[str, Resource, When], ...] = (
    (TEST_REPORT_GROUP_VARIABLE, "test report groups", "test reports"),
    (COVERAGE_REPORT_GROUP_VARIABLE, "coverage report groups", "coverage reports"),
)


def _report_exports(
    graphs: Graphs, group_arns: Sequence[str], values: Mapping[str, str]
) -> tuple[tuple[Target, ...], tuple[Target, ...]]:
    """The exported raw files of the groups the graphs define (an object under each S3 destination's
    path), and the keys the exports encrypt with. The build role uploads them (run_calls REPORT_EXPORT)."""
    objects: list[Target] = []
    keys: list[Target] = []
    for arn in group_arns:
        group = graphs.by_output("aws:codebuild/reportGroup:ReportGroup", "arn", arn)
        export = (group.inputs.get("exportConfig") or {}) if group is not None else {}
        destination = export.get("s3Destination") or {}
        if export.get("type") != "S3" or not destination.get("bucket"):
            continue
        bucket = _bucket_arn(values["partition"], str(destination["bucket"]))
        path = str(destination.get("path") or "").strip("/")
        exported = f"{bucket}/{path + '/' if path else ''}{uuid.UUID(int=1)}/junit.xml"
        objects.append(Target(exported, {"bucket": bucket}))
        key = destination.get("encryptionKey")
        if key and not destination.get("encryptionDisabled"):
            context = bucket if graphs.bucket_key_enabled(str(destination["bucket"])) else exported
            key_arn = graphs.key_arn(
                str(key), partition=values["partition"], region=values["region"], account=values["account"]
            )
            keys.append(Target(key_arn, {"bucket": bucket, "s3 encryption context": context}))
    return tuple(objects), tuple(keys)


def _build_scopes(graphs: Graphs, pipeline: RegisteredResource) -> Iterator[Scope]:
    artifacts = _artifact_targets(graphs, pipeline)
    for action in _actions(pipeline):
        if action["provider"] != "CodeBuild":
            continue
        project = graphs.by_output("aws:codebuild/project:Project", "name", action["configuration"]["ProjectName"])
        if project is None:
            continue  # a project the stack does not define: its role is not in the graphs
        values = _arn_values(str(project.outputs["arn"]))
        facts: set[When] = set()
        resources: dict[Resource, tuple[Target, ...]] = {
            **artifacts,
            "own log streams": _log_stream_targets(graphs, project, values),
        }
        if artifacts["artifact key"]:
            facts.add("encrypted artifacts")
        if action.get("outputArtifacts"):
            facts.add("output artifacts")

        secrets = [_secret_arn(value) for _, value in _variables(project, "SECRETS_MANAGER")]
        if secrets:
            facts.add("secrets manager variables")
            resources["secrets manager variables"] = tuple(Target(s, {"secret": s}) for s in secrets)
            stored = []
            for secret_arn in secrets:
                secret = graphs.by_output("aws:secretsmanager/secret:Secret", "arn", secret_arn)
                if secret is not None and secret.inputs.get("kmsKeyId"):
                    key = graphs.key_arn(
                        str(secret.inputs["kmsKeyId"]),
                        partition=values["partition"],
                        region=values["region"],
                        account=values["account"],
                    )
                    stored.append(Target(key, {"secret": secret_arn}))
            if stored:
                facts.add("stored secrets")
                resources["stored secret keys"] = tuple(stored)

        parameters = [value for _, value in _variables(project, "PARAMETER_STORE")]
        if parameters:
            facts.add("parameter store variables")
            prefix = f"arn:{values['partition']}:ssm:{values['region']}:{values['account']}:parameter"
            resources["parameter store variables"] = tuple(
                Target(p if p.startswith("arn:") else prefix + (p if p.startswith("/") else "/" + p))
                for p in parameters
            )

        plain = dict(_variables(project, "PLAINTEXT"))
        group_arns = []
        for variable, resource, fact in _REPORT_GROUP_VARIABLES:
            if plain.get(variable):
                facts.add(fact)
                resources[resource] = (Target(plain[variable]),)
                group_arns.append(plain[variable])
        exports, export_keys = _report_exports(graphs, group_arns, values)
        if exports:
            facts.add("exported reports")
            resources["report export objects"] = exports
        if export_keys:
            facts.add("encrypted report export")
            resources["report export key"] = export_keys

        step_roles = [value for name, value in _variables(project, "PLAINTEXT") if name == ASSUME_ROLE_VARIABLE]
        if step_roles:
            facts.add("step role")
            resources["step role"] = tuple(Target(role) for role in step_roles)

        yield Scope(
            actor="build role",
            label=f"build role of {project.outputs['name']}",
            principal=str(project.inputs["serviceRole"]),
            facts=frozenset(facts),
            values=values,
            resources=MappingProxyType(resources),
        )
        for step_role in step_roles:
            role = graphs.by_output("aws:iam/role:Role", "arn", step_role)
            if role is not None:
                yield _step_scope(graphs, project, role, values)


def _backend_bucket(url: str) -> tuple[str, str] | None:
    """`s3://bucket/prefix?query` -> (bucket, prefix ending in / or empty); None for another backend."""
    if not url.startswith("s3://"):
        return None
    location = url.removeprefix("s3://").split("?", 1)[0]
    bucket, _, prefix = location.partition("/")
    return bucket, f"{prefix.rstrip('/')}/" if prefix else ""


def _step_scope(
    graphs: Graphs, project: RegisteredResource, role: RegisteredResource, build: Mapping[str, str]
) -> Scope:
    """The role a build step assumes, where a joined graph (the bootstrap) defines it: what pulumi calls as it."""
    role_arn = str(role.outputs["arn"])
    account, partition = _arn_part(role_arn, 4), _arn_part(role_arn, 1)
    values = {"partition": partition, "region": build["region"], "account": account}
    plain = dict(_variables(project, "PLAINTEXT"))
    buildspec = str((project.inputs.get("source") or {}).get("buildspec") or "")
    facts: set[When] = set()
    # `pulumi up` writes state; `pulumi preview` only reads it (what the step's buildspec runs, buildspecs/*.yml).
    if re.search(r"^\s*-\s*pulumi up\b", buildspec, re.MULTILINE):
        facts.add("deploy step")
    resources: dict[Resource, tuple[Target, ...]] = {}
    backend_url = plain.get(BACKEND_URL_VARIABLE, "")
    location = _backend_bucket(backend_url)
    if location is not None:
        bucket_name, prefix = location
        bucket = _bucket_arn(partition, bucket_name)
        # A stack's checkpoint: .pulumi/stacks/<project>/<stack>.json (project-scoped layout).
        state = f"{bucket}/{prefix}.pulumi/stacks/service/{plain.get(STACK_VARIABLE, 'stack')}.json"
        facts.add("s3 backend")
        resources["state bucket"] = (Target(bucket, {"bucket": bucket}),)
        resources["state objects"] = (Target(state, {"bucket": bucket}),)
        key = graphs.bucket_key(bucket_name, partition=partition, region=values["region"], account=account)
        if key is not None:
            facts.add("encrypted s3 backend")
            context = bucket if graphs.bucket_key_enabled(bucket_name) else state
            resources["state bucket key"] = (Target(key, {"bucket": bucket, "s3 encryption context": context}),)
    exports = graphs.graph_of(role).exports
    provider = str(exports.get("secretsProvider", ""))
    if provider.startswith("awskms://") and location is not None and exports.get("backendUrl") == backend_url:
        reference, _, query = provider.removeprefix("awskms://").partition("?")
        region = dict(part.split("=", 1) for part in query.split("&") if "=" in part).get("region", values["region"])
        key = graphs.key_arn(reference, partition=partition, region=region, account=account)
        facts.add("awskms secrets provider")
        resources["secrets provider key"] = (Target(key),)
    return Scope(
        actor="step role",
        label=f"step role {role.outputs['name']} of {project.outputs['name']}",
        principal=role_arn,
        facts=frozenset(facts),
        values=values,
        resources=MappingProxyType(resources),
    )


def _eventbridge_scopes(graphs: Graphs) -> Iterator[Scope]:
    for target in graphs.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        topic = str(target.inputs["arn"])
        if _arn_part(topic, 2) != "sns":
            continue
        rule = graphs.by_output("aws:cloudwatch/eventRule:EventRule", "name", target.inputs["rule"])
        if rule is None:
            raise CatalogueMismatchError(f"the rule of target {target.name} is not in the graphs")
        rule_arn = str(rule.outputs["arn"])
        keys = _topic_key(graphs, topic)
        yield Scope(
            actor="EventBridge",
            label=f"EventBridge rule {rule.outputs['name']}",
            principal="events.amazonaws.com",
            facts=frozenset({"encrypted alert topic"} if keys else set()),
            values={**_arn_values(rule_arn), "rule": rule_arn},
            resources=MappingProxyType({"alert topic": (Target(topic, {"topic": topic}),), "alert topic key": keys}),
        )


def _logs_scopes(graphs: Graphs) -> Iterator[Scope]:
    for group in graphs.of_type("aws:cloudwatch/logGroup:LogGroup"):
        if not group.inputs.get("kmsKeyId"):
            continue
        group_arn = str(group.outputs["arn"])
        values = _arn_values(group_arn)
        key = graphs.key_arn(
            str(group.inputs["kmsKeyId"]),
            partition=values["partition"],
            region=values["region"],
            account=values["account"],
        )
        yield Scope(
            actor="CloudWatch Logs",
            label=f"CloudWatch Logs for {group.outputs['name']}",
            principal=f"logs.{values['region']}.amazonaws.com",
            facts=frozenset(),
            values=values,
            resources=MappingProxyType({"log group key": (Target(key, {"log group": group_arn}),)}),
        )


# ------------------------------------------------------------------------------------------------
# The GitHub roles: what `pulumi up` / `pulumi preview --refresh` of their stack do to each resource

GITHUB_ROLE_EXPORTS: Mapping[Actor, str] = MappingProxyType(
    {"GitHub deploy role": "githubDeployRoleArn", "GitHub preview role": "githubPreviewRoleArn"}
)
ROLE = "aws:iam/role:Role"
KEY = "aws:kms/key:Key"
SLACK_CHANNEL = "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration"
# The output holding a resource's own ARN, where it is not `arn`.
ARN_OUTPUTS: Mapping[str, str] = MappingProxyType({SLACK_CHANNEL: "chatConfigurationArn"})


def own_arn(resource: RegisteredResource) -> Any:
    """A registered resource's own ARN output (None for a resource without one)."""
    return resource.outputs.get(ARN_OUTPUTS.get(resource.type, "arn"))


def github_scopes(graphs: Sequence[StackGraph]) -> list[Scope]:
    """The GitHub roles of each graph that exports them, once per resource the graph registers, with
    that resource's relations (pipeline/github_calls.py): `pulumi` manages or reads every one."""
    joined = Graphs(graphs)
    found = []
    for graph in joined.graphs:
        roles = {
            actor: str(graph.exports[name]) for actor, name in GITHUB_ROLE_EXPORTS.items() if name in graph.exports
        }
        for resource in graph.custom() if roles else ():
            facts, relations = _relations(joined, resource)
            region = str(_provider(joined, resource).inputs.get("region", ""))
            found += [
                Scope(
                    actor=actor,
                    label=f"{actor} for {resource.name}",
                    principal=role,
                    facts=facts,
                    values={**_arn_values(role), "region": region},
                    resources=relations,
                    registered=resource.type,
                )
                for actor, role in roles.items()
            ]
    return found


def _provider(joined: Graphs, resource: RegisteredResource) -> RegisteredResource:
    return joined.graph_of(resource).by_urn(resource.provider.rpartition("::")[0])


def _tags(joined: Graphs, resource: RegisteredResource) -> dict[str, str]:
    """`tag <Key>` values: the provider's default tags and the resource's own, as AWS stores them."""
    default_tags = json.loads(_provider(joined, resource).inputs.get("defaultTags") or "{}").get("tags") or {}
    return {f"tag {key}": str(value) for key, value in {**default_tags, **(resource.inputs.get("tags") or {})}.items()}


def _own(joined: Graphs, resource: RegisteredResource | None) -> Target:
    """A registered resource's own ARN, with its tags and, for a role, the boundary it carries."""
    if resource is None:
        raise CatalogueMismatchError("a resource the graphs name is not registered in them")
    values = _tags(joined, resource)
    if resource.type == ROLE and resource.inputs.get("permissionsBoundary"):
        values["boundary"] = str(resource.inputs["permissionsBoundary"])
    return Target(str(own_arn(resource)), values)


def _relations(
    joined: Graphs, resource: RegisteredResource
) -> tuple[frozenset[When], Mapping[Resource, tuple[Target, ...]]]:
    """The facts of one registered resource, and the ARNs its relations (pipeline/github_calls.py) resolve to."""
    kind, inputs, arn = resource.type, resource.inputs, own_arn(resource)
    values = _arn_values(str(arn or ""))
    facts: set[When] = set()
    found: dict[Resource, tuple[Target, ...]] = {"every resource": (Target("*"),)}
    if isinstance(arn, str) and "arn" not in inputs:  # an `arn` input names another resource (a target, a topic)
        found["it"] = (_own(joined, resource),)
    if kind == "aws:s3/bucket:Bucket":
        found["its objects"] = (Target(f"{arn}/some/object"),)
    elif kind.startswith("aws:s3/") and isinstance(inputs.get("bucket"), str):
        found["its bucket"] = (Target(_bucket_arn("aws", inputs["bucket"])),)
    elif kind == "aws:cloudwatch/logGroup:LogGroup":
        found["its log streams"] = (Target(f"{arn}:*"),)
    elif kind == "aws:iam/rolePolicy:RolePolicy":
        found["its role"] = (_own(joined, joined.by_output(ROLE, "name", inputs["role"])),)
    elif kind in ("aws:sns/topicSubscription:TopicSubscription", "aws:sns/topicPolicy:TopicPolicy"):
        found["its topic"] = (Target(str(inputs.get("topic") or inputs["arn"])),)
    elif kind == "aws:cloudwatch/eventTarget:EventTarget":
        rule = joined.by_output("aws:cloudwatch/eventRule:EventRule", "name", inputs["rule"])
        found["its rule"] = (_own(joined, rule),)
    elif kind == "aws:secretsmanager/secretVersion:SecretVersion":
        secret_arn = str(inputs["secretId"])
        found["its secret"] = (Target(secret_arn),)
        secret = joined.by_output("aws:secretsmanager/secret:Secret", "arn", secret_arn)
        if secret is not None and secret.inputs.get("kmsKeyId"):
            key = _own(joined, joined.by_output(KEY, "arn", joined.key_arn(secret.inputs["kmsKeyId"], **values)))
            found["its key"] = (Target(key.arn, {**key.values, "secret": secret_arn}),)
    elif kind == "aws:kms/alias:Alias":
        found["its key"] = (
            _own(joined, joined.by_output(KEY, "arn", joined.key_arn(inputs["targetKeyId"], **values))),
        )
    elif kind == "aws:codebuild/project:Project":
        found["its service role"] = (Target(str(inputs["serviceRole"])),)
    elif kind == SLACK_CHANNEL:
        found["its service role"] = (Target(str(inputs["iamRoleArn"])),)
        found["its guardrails"] = tuple(
            _own(joined, joined.by_output("aws:iam/policy:Policy", "arn", guardrail))
            for guardrail in inputs.get("guardrailPolicyArns") or ()
        )
    elif kind == "aws:codepipeline/pipeline:Pipeline":
        found["its service role"] = (Target(str(inputs["roleArn"])),)
        connections = []
        for connection in (
            a["configuration"]["ConnectionArn"]
            for a in _actions(resource)
            if "ConnectionArn" in (a.get("configuration") or {})
        ):
            created = joined.by_output("aws:codestarconnections/connection:Connection", "arn", connection)
            facts.add("created connection" if created else "configured connection")
            tags = _tags(joined, created) if created else {}
            connections.append(Target(connection, {"connection service": _arn_part(connection, 2), **tags}))
        found["its connection"] = tuple(connections)
    if any("boundary" in target.values for target in found.get("it", ()) + found.get("its role", ())):
        facts.add("bounded role")
    return frozenset(facts), MappingProxyType(found)


# ------------------------------------------------------------------------------------------------
# The access model: every policy document the graphs hold, and who they apply to

GrantKind = Literal["identity", "boundary", "resource"]


@dataclass(frozen=True)
class RoleModel:
    arn: str
    unique_id: str
    identity: tuple[str, ...]  # document ids
    boundary: str | None
    trust: str
    unreadable: tuple[str, ...]  # attached policies no graph holds and no stand-in models


@dataclass(frozen=True)
class StatementRef:
    """A statement by document id and position, e.g. to remove an action from it."""

    document: str
    index: int


@dataclass(frozen=True)
class Judgement:
    request: Request
    allowed: bool
    why: str  # which side refused, when not allowed
    unjudged: tuple[str, ...] = ()  # sides of the decision the graphs do not hold
    stand_ins: tuple[str, ...] = ()  # modelled AWS-managed policies among the statements granting it
    only_through_stand_ins: bool = False  # no statement the graphs hold grants it: a stand-in alone does


def _statements(document: Document) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _glob(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE) is not None


def _parent(resource: str) -> str:
    """The registered resource an ARN lives in: an object's bucket, a log stream's group, else itself.
    A bucket policy covers the bucket's objects; a log group holds its streams."""
    if _arn_part(resource, 2) == "s3":
        return resource.split("/", 1)[0]
    if _arn_part(resource, 2) == "logs":
        # IAM names a group's streams, for most actions the group itself, with a trailing `:*`.
        return resource.split(":log-stream:", 1)[0].removesuffix(":*")
    return resource


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class AccessModel:
    """Policy documents by id, the roles they apply to, and each resource's policy and owner."""

    def __init__(
        self,
        documents: Mapping[str, Document],
        roles: Mapping[str, RoleModel],
        resource_policies: Mapping[str, str],
        owners: Mapping[str, str],
    ) -> None:
        self.documents = dict(documents)
        self.roles = dict(roles)
        self.resource_policies = dict(resource_policies)
        self.owners = dict(owners)

    # -- building -------------------------------------------------------------------------------

    @classmethod
    def of(cls, graphs: Sequence[StackGraph]) -> AccessModel:
        joined = Graphs(graphs)
        documents: dict[str, Document] = {}
        resource_policies: dict[str, str] = {}
        owners: dict[str, str] = {}

        for resource, account, _ in joined.custom:
            arn = own_arn(resource)
            if isinstance(arn, str) and arn.startswith("arn:"):
                owners[arn] = account
            if resource.type == "aws:s3/bucket:Bucket":
                owners[_bucket_arn(_arn_part(str(arn), 1) or "aws", str(resource.outputs["bucket"]))] = account
        for resource in joined.of_type("aws:iam/policy:Policy"):
            documents[f"policy {resource.outputs['arn']}"] = json.loads(resource.inputs["policy"])
        for arn, (label, document) in STAND_INS.items():
            documents[f"policy {arn}"] = {**copy.deepcopy(document), "StandIn": label}
        for resource in joined.of_type("aws:s3/bucketPolicy:BucketPolicy"):
            bucket = _bucket_arn("aws", str(resource.inputs["bucket"]))
            bucket = next((b for b in owners if b.endswith(f":s3:::{resource.inputs['bucket']}")), bucket)
            documents[f"bucket policy of {bucket}"] = json.loads(resource.inputs["policy"])
            resource_policies[bucket] = f"bucket policy of {bucket}"
        for resource in joined.of_type("aws:sns/topicPolicy:TopicPolicy"):
            topic = str(resource.inputs["arn"])
            documents[f"topic policy of {topic}"] = json.loads(resource.inputs["policy"])
            resource_policies[topic] = f"topic policy of {topic}"
        for resource in joined.of_type("aws:kms/key:Key"):
            key = str(resource.outputs["arn"])
            root = f"arn:{_arn_part(key, 1)}:iam::{_arn_part(key, 4)}:root"
            policy = resource.inputs.get("policy")
            documents[f"key policy of {key}"] = json.loads(policy) if policy else default_key_policy(root)
            resource_policies[key] = f"key policy of {key}"

        roles = {}
        for role in joined.of_type("aws:iam/role:Role"):
            roles[str(role.outputs["arn"])] = cls._role(joined, role, documents, resource_policies)
        return cls(documents, roles, resource_policies, owners)

    @staticmethod
    def _role(
        joined: Graphs, role: RegisteredResource, documents: dict[str, Document], resource_policies: dict[str, str]
    ) -> RoleModel:
        arn, name = str(role.outputs["arn"]), str(role.outputs.get("name") or role.id)
        trust = f"trust policy of {arn}"
        documents[trust] = json.loads(role.inputs["assumeRolePolicy"])
        resource_policies[arn] = trust
        identity: list[str] = []
        for index, inline in enumerate(role.inputs.get("inlinePolicies") or []):
            if inline.get("policy"):
                documents[f"inline policy {index} of {arn}"] = json.loads(inline["policy"])
                identity.append(f"inline policy {index} of {arn}")
        for policy in joined.of_type("aws:iam/rolePolicy:RolePolicy"):
            if policy.inputs["role"] == name:
                document_id = f"role policy {policy.outputs.get('name') or policy.name} of {arn}"
                documents[document_id] = json.loads(policy.inputs["policy"])
                identity.append(document_id)
        attached = [str(a) for a in role.inputs.get("managedPolicyArns") or []]
        attached += [
            str(a.inputs["policyArn"])
            for a in joined.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if a.inputs["role"] == name
        ]
        unreadable = tuple(a for a in attached if f"policy {a}" not in documents)
        identity += [f"policy {a}" for a in attached if f"policy {a}" in documents]
        boundary = role.inputs.get("permissionsBoundary")
        if boundary and f"policy {boundary}" not in documents:
            unreadable += (f"permissions boundary {boundary}",)
        return RoleModel(
            arn=arn,
            unique_id=str(role.outputs.get("uniqueId") or "AROA" + name.upper()),
            identity=tuple(identity),
            boundary=f"policy {boundary}" if boundary and f"policy {boundary}" in documents else None,
            trust=trust,
            unreadable=unreadable,
        )

    # -- judging --------------------------------------------------------------------------------

    def _policy(self, document_id: str) -> Any:
        return Policy(document_id, document_id, self.documents[document_id])

    def _node(self, role: RoleModel) -> Any:
        return Node(
            role.arn,
            role.unique_id,
            [self._policy(d) for d in role.identity],
            None,
            self.documents[role.trust],
            None,
            0,
            False,
            False,
            self._policy(role.boundary) if role.boundary else None,
            False,
            {},
        )

    def _resource_policy(self, request: Request) -> str | None:
        """The resource's own policy; a role's trust policy is one only for STS (iam:* calls on a role have none)."""
        policy_id = self.resource_policies.get(_parent(request.resource))
        if policy_id and policy_id.startswith("trust policy ") and not request.action.lower().startswith("sts:"):
            return None
        return policy_id

    def _owner(self, resource: str) -> tuple[str | None, bool]:
        """The account owning `resource`, and whether a graph registered it (else it is read off the ARN)."""
        parent = _parent(resource)
        if parent in self.owners:
            return self.owners[parent], True
        return _arn_part(resource, 4) or None, False

    def context(self, request: Request) -> Any:
        """The request's context as principalmapper reads it (keys case-insensitive)."""
        values: dict[str, ContextValue] = dict(request.context)
        if request.principal in self.roles:
            values.setdefault("aws:PrincipalArn", request.principal)
            values.setdefault("aws:PrincipalAccount", _arn_part(request.principal, 4))
        return CaseInsensitiveDict(values)

    def _stand_ins(self, request: Request) -> tuple[tuple[str, ...], bool]:
        """The stand-ins among the identity statements granting `request`, and whether only they do."""
        granting = {ref.document for ref in self.granting(request)["identity"]}
        labels = tuple(str(self.documents[d]["StandIn"]) for d in sorted(granting) if "StandIn" in self.documents[d])
        return labels, bool(granting) and all("StandIn" in self.documents[d] for d in granting)

    def judge(self, request: Request) -> Judgement:
        """Whether AWS would allow `request`, judged on the sides of the decision the graphs hold."""
        policy_id = self._resource_policy(request)
        policy = self.documents[policy_id] if policy_id else None
        owner, registered = self._owner(request.resource)
        unjudged: list[str] = []
        if not registered and request.resource != "*":  # "*": an action without a resource type
            what = {"kms": "key policy", "iam": "trust policy"}.get(_arn_part(request.resource, 2), "resource policy")
            unjudged.append(f"{request.resource} is not in the graphs: its {what} is not judged")
            if owner is None:
                unjudged.append(f"{request.resource}: its account is unknown, taken to be the caller's")
        context = self.context(request)
        role = self.roles.get(request.principal)

        if role is None:
            if request.principal.startswith("arn:"):
                raise CatalogueMismatchError(f"{request}: the calling role {request.principal} is not in the graphs")
            if policy is None:
                return Judgement(request, False, "no resource policy lets the service in", tuple(unjudged))
            result = resource_policy_authorization(
                request.principal, owner, policy, request.action, request.resource, context
            )
            allowed = result is ResourcePolicyEvalResult.SERVICE_MATCH
            return Judgement(request, allowed, "" if allowed else f"{policy_id}: {result.name}", tuple(unjudged))

        unjudged += [f"{role.arn}: {name} is unreadable offline and grants nothing here" for name in role.unreadable]
        node = self._node(role)
        resource_owner = owner or _arn_part(role.arn, 4)
        allowed = bool(
            local_check_authorization_full(
                node, request.action, request.resource, context, policy, resource_owner if policy else None
            )
        )
        why = (
            ""
            if allowed
            else self._why(role, node, request, context=context, policy_id=policy_id, owner=resource_owner)
        )
        stand_ins, only_stand_ins = self._stand_ins(request)
        return Judgement(request, allowed, why, tuple(unjudged), stand_ins, only_stand_ins)

    def _why(
        self, role: RoleModel, node: Any, request: Request, *, context: Any, policy_id: str | None, owner: str
    ) -> str:
        def matches(document_id: str, effect: str) -> bool:
            return bool(
                policy_has_matching_statement(
                    self.documents[document_id], effect, request.action, request.resource, context
                )
            )

        parts = []
        if any(matches(d, "Deny") for d in role.identity):
            parts.append("an identity policy denies")
        elif not any(matches(d, "Allow") for d in role.identity):
            parts.append("no identity policy allows")
        if role.boundary and matches(role.boundary, "Deny"):
            parts.append("the boundary denies")
        elif role.boundary and not matches(role.boundary, "Allow"):
            parts.append("the boundary does not allow")
        if policy_id:
            result = resource_policy_authorization(
                node, owner, self.documents[policy_id], request.action, request.resource, context
            )
            parts.append(f"{policy_id}: {result.name}")
        return "; ".join(parts)

    # -- grants, and taking them away -------------------------------------------------------------

    def granting(self, request: Request) -> dict[GrantKind, list[StatementRef]]:
        """The Allow statements that match `request`, by where they sit."""
        context = self.context(request)
        role = self.roles.get(request.principal)
        found: dict[GrantKind, list[StatementRef]] = {"identity": [], "boundary": [], "resource": []}

        def allowing(document_id: str) -> list[StatementRef]:
            return [
                StatementRef(document_id, index)
                for index, statement in enumerate(_statements(self.documents[document_id]))
                if statement.get("Effect") == "Allow"
                and policy_has_matching_statement(
                    {"Statement": [statement]}, "Allow", request.action, request.resource, context
                )
            ]

        if role is not None:
            found["identity"] = [ref for d in role.identity for ref in allowing(d)]
            if role.boundary:
                found["boundary"] = allowing(role.boundary)
        policy_id = self._resource_policy(request)
        if policy_id:
            statements = _statements(self.documents[policy_id])
            caller = self._node(role) if role is not None else request.principal
            matching = resource_policy_matching_statements(
                caller, self.documents[policy_id], request.action, request.resource, context
            )
            found["resource"] = [
                StatementRef(policy_id, next(i for i, s in enumerate(statements) if s is each))
                for each in matching
                if each.get("Effect") == "Allow"
            ]
        return found

    def without(self, refs: Sequence[StatementRef], action: str) -> AccessModel:
        """A copy in which the statements `refs` no longer grant `action` (the patterns matching it removed)."""
        documents = dict(self.documents)
        for document_id in {ref.document for ref in refs}:
            documents[document_id] = copy.deepcopy(self.documents[document_id])
        for ref in refs:
            statement = _statements(documents[ref.document])[ref.index]
            if "Action" in statement:
                statement["Action"] = [a for a in _as_list(statement["Action"]) if not _glob(str(a), action)]
            else:
                statement["NotAction"] = [*_as_list(statement["NotAction"]), action]
        return AccessModel(documents, self.roles, self.resource_policies, self.owners)


# Role callers lose their grant from their identity policy; service principals have none, so theirs
# is taken from the resource policy. The other places a grant sits (the boundary, a key or trust
# policy naming the account) are taken away too, one at a time, wherever one grants the call.
PRIMARY: Mapping[str, GrantKind] = MappingProxyType({"role": "identity", "service": "resource"})


def refused_without(model: AccessModel, request: Request) -> list[str]:
    """What a removal left allowed, per place a grant sits; the primary place must hold a grant.
    Empty when the request is seen refused each time one of its grants is taken away."""
    found = model.granting(request)
    caller = "role" if request.principal.startswith("arn:") else "service"
    failures = [] if found[PRIMARY[caller]] else [f"{request}: no {PRIMARY[caller]} statement grants it"]
    for kind, refs in found.items():
        if refs and model.without(refs, request.action).judge(request).allowed:
            failures.append(f"{request}: still allowed without its {kind} grant {refs}")
    return failures


def refusals_of_call(call_id: str, simulations: Iterable[tuple[str, Simulation]]) -> tuple[int, list[str]]:
    """`refused_without` for every request of `call_id` in the named simulations (variants of a stack).

    How many requests were checked (0 when the call applies in none), and the failures, each prefixed
    with its simulation's name."""
    checked, failures = 0, []
    for name, simulation in simulations:
        for request in simulation.requests:
            if request.call.id == call_id:
                checked += 1
                failures += [f"{name}: {failure}" for failure in refused_without(simulation.model, request)]
    return checked, failures


# ------------------------------------------------------------------------------------------------
# The whole simulation


@dataclass(frozen=True)
class Simulation:
    """The joined graphs' requests and their judgements."""

    model: AccessModel
    requests: tuple[Request, ...]

    @classmethod
    def of(cls, graphs: Sequence[StackGraph], calls: Iterable[RunCall] = RUN_CALLS) -> Simulation:
        return cls(AccessModel.of(graphs), tuple(resolve(graphs, calls)))

    def judgements(self) -> list[Judgement]:
        return [self.model.judge(request) for request in self.requests]

    def denied(self) -> list[Judgement]:
        return [judgement for judgement in self.judgements() if not judgement.allowed]


def describe(judgement: Judgement) -> str:
    """One line for a report or an assertion message."""
    verdict = "allowed" if judgement.allowed else f"DENIED ({judgement.why})"
    notes = "".join(f"\n    unjudged: {note}" for note in judgement.unjudged)
    alone = " (alone)" if judgement.only_through_stand_ins else ""
    notes += "".join(f"\n    granted through a modelled policy{alone}: {note}" for note in judgement.stand_ins)
    return f"{judgement.request} [{verdict}] {dict(judgement.request.context)}{notes}"
