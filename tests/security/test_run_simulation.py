"""One pipeline execution, simulated offline: every call each actor makes is allowed, and each is seen
refused when the statement granting it is taken away.

The calls are pipeline/run_calls.py's catalogue; harness/run_simulation.py resolves them against the
stack's graph and judges them with principalmapper's IAM evaluation (identity policies, boundary,
resource, key and trust policies, conditions, the request context AWS sends).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import secrets
from typing import Any

import pytest

from harness.capture import StackGraph, evaluate, evaluate_once
from harness.fake_aws import FakeAws
from harness.run_simulation import (
    AccessModel,
    CatalogueMismatchError,
    Judgement,
    Request,
    Simulation,
    describe,
    refusals_of_call,
    resolve,
    scopes,
)
from harness.stack_config import BOOTSTRAP_DIR, qualify, stack_config
from pipeline.run_calls import RUN_CALLS, RunCall, run_calls_by_id

ACCOUNT_ID = "123456789012"
OTHER_ACCOUNT_ID = "210987654321"
REGION = "eu-west-1"
TOKEN_KEY = "pulumiAccessToken"
TOKEN = "pul-" + secrets.token_hex(20)  # made up per run: a literal token would be a committed secret
CONNECTION = f"arn:aws:codeconnections:{REGION}:{ACCOUNT_ID}:connection/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"

EVERY_OPTION: dict[str, Any] = {
    "codestarConnectionArn": CONNECTION,
    "buildSecrets": [
        f"NPM_TOKEN=arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:npm-token-AbCdEf",
        "PULUMI_CONFIG_PASSPHRASE=/cicd/pulumi-passphrase",
    ],
    # The deploy identity in another account, as the bootstrap creates it there.
    "previewRoleArn": f"arn:aws:iam::{OTHER_ACCOUNT_ID}:role/cicd-bootstrap-preview-{REGION}",
    "deployRoleArn": f"arn:aws:iam::{OTHER_ACCOUNT_ID}:role/cicd-bootstrap-deploy-{REGION}",
    "githubRepository": "my-org/my-service",
    "requireApproval": "true",
    # The Build step's tests produce coverage: a CODE_COVERAGE report group beside the TEST one.
    "coverageFormat": "COBERTURAXML",
}

# name -> (stack, config overrides). A stack has exactly one backend, so "both backends" is two variants.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "dev": ("dev", {}),
    "prod": ("prod", {}),
    "every-option-s3-backend": (
        "dev",
        {**EVERY_OPTION, "backendUrl": f"s3://cicd-state-{OTHER_ACCOUNT_ID}-{REGION}"},
    ),
    "every-option-pulumi-cloud": ("dev", {**EVERY_OPTION, "backendUrl": None, TOKEN_KEY: TOKEN}),
    "s3-source": ("prod", {"sourceType": "s3", "sourceBucket": "my-source-bucket"}),
    # Three services' pipelines, two from one monorepo (Pulumi.platform.yaml).
    "platform": ("platform", {}),
}


# The bootstraps the pipeline stacks name (their Pulumi.<stack>.yaml): name -> (bootstrap stack, account it
# runs in). dev bootstraps the pipeline's own account; prod bootstraps 210987654321 for a pipeline in
# 123456789012, whose CodeBuild roles then assume its roles across accounts.
BOOTSTRAPS: dict[str, tuple[str, str]] = {
    "dev": ("dev", ACCOUNT_ID),
    "prod": ("prod", OTHER_ACCOUNT_ID),
    "platform": ("platform", ACCOUNT_ID),
}

# Simulated together: name -> (pipeline variant, bootstrap). The every-option variants name prod's roles
# and backend, in the other account.
JOINED: dict[str, tuple[str, str]] = {
    "dev+bootstrap": ("dev", "dev"),
    "prod+bootstrap": ("prod", "prod"),
    "every-option-s3-backend+bootstrap": ("every-option-s3-backend", "prod"),
    "every-option-pulumi-cloud+bootstrap": ("every-option-pulumi-cloud", "prod"),
    "platform+bootstrap": ("platform", "platform"),
}
SIMULATED = [*VARIANTS, *JOINED]


@functools.cache
def graph_of(variant: str) -> StackGraph:
    stack, overrides = VARIANTS[variant]
    return evaluate_once(stack, overrides, secret_keys=[qualify(TOKEN_KEY)] if TOKEN_KEY in overrides else [])


@functools.cache
def bootstrap_graph(name: str) -> StackGraph:
    stack, account = BOOTSTRAPS[name]
    return evaluate(stack, project_dir=BOOTSTRAP_DIR, mocks=FakeAws(region=REGION, account_id=account))


def graphs_of(simulated: str) -> list[StackGraph]:
    if simulated in JOINED:
        pipeline, bootstrap = JOINED[simulated]
        return [graph_of(pipeline), bootstrap_graph(bootstrap)]
    return [graph_of(simulated)]


@functools.cache
def simulation_of(simulated: str) -> Simulation:
    return Simulation.of(graphs_of(simulated))


def config_fragments(simulated: str) -> set[str]:
    """Every value the config of the simulated stacks holds, list items and NAME=value halves included."""
    stack, overrides = VARIANTS[JOINED[simulated][0] if simulated in JOINED else simulated]
    configs = [stack_config(stack, overrides)]
    if simulated in JOINED:
        configs.append(stack_config(BOOTSTRAPS[JOINED[simulated][1]][0], project_dir=BOOTSTRAP_DIR))
    fragments: set[str] = set()
    for value in (value for config in configs for value in config.values()):
        items = json.loads(value) if value.startswith("[") else [value]
        for item in items:
            fragments.update(str(item).split("="))
            fragments.add(str(item).removeprefix("s3://"))
    return {fragment for fragment in fragments if len(fragment) >= 8}


# ---------------------------------------------------------------------------------------------
# The catalogue


def test_each_catalogue_entry_cites_the_aws_documentation() -> None:
    run_calls_by_id()  # ids are unique
    for call in RUN_CALLS:
        assert call.doc.startswith("https://docs.aws.amazon.com/"), call.id
        assert all(url.startswith("https://") for url in call.see), call.id
        assert call.why, call.id
        assert call.context.get("aws:SecureTransport") == "true", call.id


def test_each_catalogue_entry_applies_in_some_variant() -> None:
    """An entry no variant exercises could never be seen failing."""
    applied = {request.call.id for simulated in SIMULATED for request in simulation_of(simulated).requests}
    assert sorted(call.id for call in RUN_CALLS if call.id not in applied) == []


@pytest.mark.parametrize("simulated", SIMULATED)
def test_every_fact_found_is_covered(simulated: str) -> None:
    """A fact the engine reads off the graph (an approval, output artifacts, a step role) that no entry
    names is a kind of call the catalogue misses."""
    named = {fact for call in RUN_CALLS for fact in call.when}
    found = {(scope.actor, fact) for scope in scopes(graphs_of(simulated)) for fact in scope.facts}
    assert sorted(each for each in found if each[1] not in named) == []


# ---------------------------------------------------------------------------------------------
# A run is allowed


@pytest.mark.parametrize("simulated", SIMULATED)
def test_every_call_of_a_run_is_allowed(simulated: str) -> None:
    judgements = simulation_of(simulated).judgements()
    assert len(judgements) >= 30  # resolved against the graph, not vacuously empty
    assert [describe(j) for j in judgements if not j.allowed] == []


@pytest.mark.parametrize("simulated", SIMULATED)
def test_no_call_is_allowed_only_by_the_read_only_stand_in(simulated: str) -> None:
    """ReadOnlyAccess is modelled by a broader stand-in (harness/run_simulation.py): a call it alone grants
    could be refused by the real policy, so each must also be granted by a statement the stack writes."""
    judgements = simulation_of(simulated).judgements()
    leaning = [
        describe(j) for j in judgements if j.only_through_stand_ins and any("STAND-IN" in s for s in j.stand_ins)
    ]
    assert leaning == []


@pytest.mark.parametrize("simulated", SIMULATED)
def test_what_the_simulation_cannot_judge_is_what_config_names_from_outside(simulated: str) -> None:
    """Sides of a decision missing from the graph (a configured connection, secret or role) must come
    from the stack's config; anything else the program creates is judged in full."""
    fragments = config_fragments(simulated)
    unjudged = {j.request.resource for j in simulation_of(simulated).judgements() if j.unjudged}
    assert [arn for arn in sorted(unjudged) if not any(fragment in arn for fragment in fragments)] == []


def test_the_every_option_variants_exercise_each_option() -> None:
    by_id = {
        variant: {request.call.id for request in simulation_of(variant).requests}
        for variant in ("every-option-s3-backend", "every-option-pulumi-cloud")
    }
    requests = simulation_of("every-option-pulumi-cloud").requests
    assert {"build.secrets.read", "build.secrets.decrypt", "build.parameters.read"} <= by_id[
        "every-option-pulumi-cloud"
    ]
    assert "build.secrets.decrypt" not in by_id["every-option-s3-backend"]  # no stored token there
    assert {r.action for r in requests if r.call.id == "pipeline.source.use-connection"} == {
        "codeconnections:UseConnection"
    }
    assumed = {r.resource for r in requests if r.call.id == "build.step-role.assume"}
    assert assumed == {EVERY_OPTION["previewRoleArn"], EVERY_OPTION["deployRoleArn"]}


@pytest.mark.parametrize("simulated", JOINED)
def test_with_the_bootstrap_the_assume_role_is_judged_on_both_sides(simulated: str) -> None:
    judgements = [j for j in simulation_of(simulated).judgements() if j.request.call.id == "build.step-role.assume"]
    pipelines = graph_of(JOINED[simulated][0]).of_type("aws:codepipeline/pipeline:Pipeline")
    assert len(judgements) == 2 * len(pipelines)  # each pipeline's Build and Deploy step
    assert [describe(j) for j in judgements if j.unjudged or not j.allowed] == []
    cross_account = JOINED[simulated][1] == "prod"
    assert all((j.request.resource.split(":")[4] == OTHER_ACCOUNT_ID) == cross_account for j in judgements)


def test_the_steps_reach_the_backend_as_their_assumed_roles() -> None:
    calls = {
        (r.scope.split()[2], r.call.id) for r in simulation_of("dev+bootstrap").requests if r.call.actor == "step role"
    }
    preview, deploy = f"cicd-bootstrap-preview-{REGION}", f"cicd-bootstrap-deploy-{REGION}"
    reads = {"step.state.list", "step.state.read", "step.state.decrypt", "step.secrets.decrypt"}
    writes = {"step.state.write", "step.state.delete", "step.state.encrypt"}
    assert calls == {(preview, c) for c in reads} | {(deploy, c) for c in reads | writes}
    # With Pulumi Cloud the state and its secrets are not in the bootstrap's bucket and key.
    cloud = simulation_of("every-option-pulumi-cloud+bootstrap").requests
    assert [r.call.id for r in cloud if r.call.actor == "step role"] == []


# ---------------------------------------------------------------------------------------------
# Each call is refused without its grant

# harness.run_simulation.refused_without takes each grant away, one place at a time.


@pytest.mark.parametrize("call_id", [call.id for call in RUN_CALLS])
def test_each_call_is_refused_when_its_grant_is_removed(call_id: str) -> None:
    checked, failures = refusals_of_call(call_id, ((simulated, simulation_of(simulated)) for simulated in SIMULATED))
    assert checked, f"{call_id} applies in no variant"
    assert failures == []


# ---------------------------------------------------------------------------------------------
# The engine judges as AWS documents


def _one(variant: str, call_id: str) -> Request:
    return next(r for r in simulation_of(variant).requests if r.call.id == call_id)


def _judge(variant: str, request: Request) -> Judgement:
    return simulation_of(variant).model.judge(request)


def _with(request: Request, **changes: Any) -> Request:
    context = dict(request.context)
    context.update(changes.pop("context", {}))
    return dataclasses.replace(request, context=context, **changes)


def test_an_explicit_deny_in_the_bucket_policy_wins_over_the_roles_allow() -> None:
    upload = _one("dev", "pipeline.source.upload-artifact")
    assert _judge("dev", upload).allowed
    assert not _judge("dev", _with(upload, context={"aws:SecureTransport": "false"})).allowed


def test_eventbridge_publishes_only_for_the_stacks_rule() -> None:
    publish = _one("dev", "events.alert.publish")
    other_rule = f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/someone-elses"
    assert not _judge("dev", _with(publish, context={"aws:SourceArn": other_rule})).allowed
    without_source = dataclasses.replace(
        publish, context={k: v for k, v in publish.context.items() if k != "aws:SourceArn"}
    )
    assert not _judge("dev", without_source).allowed


def test_cloudwatch_logs_uses_the_key_only_for_this_accounts_log_groups() -> None:
    use = _one("dev", "logs.key.decrypt")
    elsewhere = f"arn:aws:logs:{REGION}:{OTHER_ACCOUNT_ID}:log-group:/x"
    assert not _judge("dev", _with(use, context={"kms:EncryptionContext:aws:logs:arn": elsewhere})).allowed


def test_the_connection_prefix_must_match_the_arns_service() -> None:
    use = _one("every-option-s3-backend", "pipeline.source.use-connection")
    assert _judge("every-option-s3-backend", use).allowed
    assert not _judge("every-option-s3-backend", _with(use, action="codestar-connections:UseConnection")).allowed


def test_the_trust_policy_alone_keeps_the_build_steps_role_out_of_the_deploy_role() -> None:
    """Even with an identity policy allowing every AssumeRole, the deploy role's trust refuses the Build
    step's role, in the same account and across accounts."""
    for simulated in ("dev+bootstrap", "prod+bootstrap"):
        simulation = simulation_of(simulated)
        preview_assume, deploy_assume = sorted(
            (r for r in simulation.requests if r.call.id == "build.step-role.assume"),
            key=lambda r: "deploy" in r.resource,
        )
        model = simulation.model
        build_role = model.roles[preview_assume.principal]
        anything = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
        permissive = AccessModel(
            {**model.documents, "assume anything": anything},
            {
                **model.roles,
                build_role.arn: dataclasses.replace(build_role, identity=(*build_role.identity, "assume anything")),
            },
            model.resource_policies,
            model.owners,
        )
        # The boundary still caps the build role; lift it too, so only the trust policy decides.
        permissive.roles[build_role.arn] = dataclasses.replace(permissive.roles[build_role.arn], boundary=None)
        assert permissive.judge(preview_assume).allowed
        sideways = dataclasses.replace(preview_assume, resource=deploy_assume.resource)
        judgement = permissive.judge(sideways)
        assert not judgement.allowed
        assert "trust policy" in judgement.why


def test_a_call_outside_the_grants_is_refused() -> None:
    upload = _one("dev", "build.artifacts.download")
    assert not _judge("dev", _with(upload, action="s3:DeleteObject")).allowed


def test_the_catalogue_resolves_without_a_pipeline_to_nothing() -> None:
    empty = StackGraph(resources=[], exports={}, invokes=[])
    assert resolve([empty]) == []


def test_an_entry_whose_facts_hold_must_find_its_resource() -> None:
    call: RunCall = dataclasses.replace(run_calls_by_id()["build.secrets.read"], when=())
    with pytest.raises(CatalogueMismatchError, match="has no 'secrets manager variables'"):
        resolve([graph_of("dev")], [call])


# ---------------------------------------------------------------------------------------------
# Test reports: each Build step publishes to its own groups, each group takes its own kind


def _report_requests(simulated: str, call_id: str) -> list[Request]:
    return [r for r in simulation_of(simulated).requests if r.call.id == call_id]


def test_only_the_build_steps_publish_reports_each_to_its_own_groups() -> None:
    """Services share nothing per step: three services, three Build steps, three TEST groups."""
    requests = _report_requests("platform", "build.test-reports.BatchPutTestCases")
    groups = graph_of("platform").of_type("aws:codebuild/reportGroup:ReportGroup")
    assert sorted(r.resource for r in requests) == sorted(g.outputs["arn"] for g in groups)
    assert all(r.scope.startswith("build role of ") and "-build-" in r.scope for r in requests)
    assert len({r.principal for r in requests}) == 3
    # A step's role may not publish into another service's group.
    first, second = requests[0], requests[1]
    assert not _judge("platform", dataclasses.replace(first, resource=second.resource)).allowed


def test_a_group_takes_only_its_kind_of_results() -> None:
    """A report group holds one kind: no test cases into the coverage group, no coverage into the TEST group."""
    variant = "every-option-s3-backend"
    (cases,) = _report_requests(variant, "build.test-reports.BatchPutTestCases")
    (coverage,) = _report_requests(variant, "build.coverage-reports.BatchPutCodeCoverages")
    assert _judge(variant, cases).allowed
    assert _judge(variant, coverage).allowed
    assert not _judge(variant, dataclasses.replace(cases, resource=coverage.resource)).allowed
    assert not _judge(variant, dataclasses.replace(coverage, resource=cases.resource)).allowed


def test_the_report_export_is_uploaded_by_the_build_role_into_the_artifact_store_with_the_pipeline_key() -> None:
    uploads = _report_requests("dev", "build.report-export.upload")
    (bucket,) = graph_of("dev").of_type("aws:s3/bucket:Bucket")
    (key,) = graph_of("dev").of_type("aws:kms/key:Key")
    assert [r.resource.split("/", 1)[0] for r in uploads] == [f"arn:aws:s3:::{bucket.outputs['bucket']}"]
    assert uploads[0].resource.split("/", 2)[1] == "test-reports"
    (encrypt,) = _report_requests("dev", "build.report-export.encrypt")
    assert encrypt.resource == key.outputs["arn"]
