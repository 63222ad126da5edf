"""The GitHub Actions workflows, read as GitHub reads them: who runs which Pulumi command, when, as whom.

Each rule is a function returning its violations, so the tests can also feed it a broken copy of
a workflow and watch it object (the `*_is_caught` tests): a rule that cannot fail proves nothing.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.stack_config import PROJECT_DIR
from pipeline.github import DEPLOY_BRANCH, PRODUCTION_ENVIRONMENT
from tests.test_github_roles import REPOSITORY, github_graph, trust
from tools.readme import DOCS_DIR, read_section

GITHUB_DIR = PROJECT_DIR / ".github"
WORKFLOW_DIR = GITHUB_DIR / "workflows"
STACKS = {"dev", "prod"}

CHECKOUT = "actions/checkout"
SETUP_PYTHON = "actions/setup-python"
AWS_CREDENTIALS = "aws-actions/configure-aws-credentials"
PULUMI = "pulumi/actions"

# Every pin was checked against the action repository's release tag (`git rev-parse <tag>^{commit}`
# in a clone of it). A new or moved pin needs its row here, so an unverified SHA cannot slip in.
VERIFIED_PINS = {
    CHECKOUT: ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    SETUP_PYTHON: ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    AWS_CREDENTIALS: ("e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"),
    PULUMI: ("8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"),
}

# Commands that change a stack or its state; a pull request may run none of them.
PREVIEW = "preview"
# Options of the pulumi CLI that take the next word as their value.
_VALUE_OPTIONS = {"--cwd", "-C", "--stack", "-s", "--color", "--config-file", "--tracing", "--profiling"}
_SHELL_AWS = re.compile(r"(^|[\s;&|(])(aws|pulumi)\s")
_MATRIX = re.compile(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}")
_VARIABLE = re.compile(r"^\$\{\{\s*vars\.([A-Z0-9_]+)\s*\}\}$")
_USES = re.compile(r"^\s*-?\s*uses:\s*(\S+)(.*)$", re.MULTILINE)


class _WorkflowLoader(yaml.SafeLoader):
    """YAML 1.1 reads `on`, `yes` and `no` as booleans; GitHub reads only true and false so."""


_WorkflowLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_WorkflowLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

Workflows = dict[str, dict[str, Any]]


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_WorkflowLoader)
    return document


def load_workflows() -> Workflows:
    return {path.name: load(path) for path in sorted(WORKFLOW_DIR.glob("*.y*ml"))}


def events(workflow: dict[str, Any]) -> dict[str, Any]:
    """`on:` in its long form: event -> filters (None where there are none)."""
    on = workflow["on"]
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on)


def called_workflow(job: dict[str, Any]) -> str | None:
    """The file name of a same-repository reusable workflow a job calls, if it calls one."""
    uses = str(job.get("uses", ""))
    for prefix in ("$/.github/workflows/", "./.github/workflows/"):
        if uses.startswith(prefix):
            return uses.removeprefix(prefix)
    return None


def triggers(workflows: Workflows, name: str) -> list[tuple[str, Any]]:
    """What starts `name`: its own events, and for a reusable workflow those of every caller."""
    found = [(event, filters) for event, filters in events(workflows[name]).items() if event != "workflow_call"]
    for caller, workflow in workflows.items():
        if any(called_workflow(job) == name for job in workflow["jobs"].values()):
            found += triggers(workflows, caller)
    return found


@dataclass(frozen=True)
class JobRun:
    """One job of one workflow, for one combination of its matrix, with `${{ matrix.* }}` filled in."""

    workflow: str
    job_id: str
    job: dict[str, Any]
    matrix: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        combination = ", ".join(f"{key}={value}" for key, value in self.matrix if "${{" not in value)
        return f"{self.workflow}:{self.job_id}" + (f"[{combination}]" if combination else "")

    def resolve(self, value: Any) -> str:
        values = dict(self.matrix)
        return _MATRIX.sub(lambda match: values.get(match.group(1), match.group(0)), str(value))

    @property
    def steps(self) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = self.job.get("steps", [])
        return steps

    def inputs(self, step: dict[str, Any]) -> dict[str, str]:
        return {key: self.resolve(value) for key, value in (step.get("with") or {}).items()}

    @property
    def permissions(self) -> dict[str, str]:
        granted: dict[str, str] = self.job.get("permissions", {})
        return granted


def job_runs(workflows: Workflows) -> Iterator[JobRun]:
    for name, workflow in workflows.items():
        for job_id, job in workflow["jobs"].items():
            matrix = (job.get("strategy") or {}).get("matrix") or {}
            combinations = matrix.get("include") or [{}]
            for combination in combinations:
                yield JobRun(name, job_id, job, tuple((k, str(v)) for k, v in combination.items()))


def action(step: dict[str, Any]) -> str:
    """`owner/repo` of a step's action, or '' for a `run:` step."""
    return str(step.get("uses", "")).split("@")[0]


def shell_commands(script: str) -> list[str]:
    """The subcommand of each `pulumi ...` invocation in a shell script, options skipped."""
    commands = []
    for line in re.split(r"[\n;&|]+", script):
        words = line.split()
        for start, word in enumerate(words):
            if word.rsplit("/", 1)[-1] != "pulumi":
                continue
            rest = iter(words[start + 1 :])
            for argument in rest:
                if not argument.startswith("-"):
                    commands.append(argument)
                    break
                if argument in _VALUE_OPTIONS:
                    next(rest, None)
    return commands


def pulumi_commands(run: JobRun) -> list[tuple[int, str]]:
    """(step index, command) of every Pulumi command the job runs, by action or by shell."""
    found = []
    for index, step in enumerate(run.steps):
        if action(step) == PULUMI:
            found.append((index, run.inputs(step).get("command", "")))
        found += [(index, command) for command in shell_commands(str(step.get("run", "")))]
    return [(index, "up" if command == "update" else command) for index, command in found]


def subjects_of(workflows: Workflows, run: JobRun) -> set[str]:
    """The OIDC `sub` claims GitHub gives this job, one per event that can start it."""
    if "environment" in run.job:
        environment = run.job["environment"]
        name = environment["name"] if isinstance(environment, dict) else environment
        return {f"repo:{REPOSITORY}:environment:{name}"}
    subjects = set()
    for event, filters in triggers(workflows, run.workflow):
        if event in ("pull_request", "pull_request_target"):
            subjects.add(f"repo:{REPOSITORY}:pull_request")
        for branch in (filters or {}).get("branches", []) if event == "push" else []:
            subjects.add(f"repo:{REPOSITORY}:ref:refs/heads/{branch}")
    return subjects


# ---------------------------------------------------------------------------------------------
# The rules


def pull_request_violations(workflows: Workflows) -> list[str]:
    """A job a pull request can start runs no Pulumi command but preview."""
    violations = []
    for run in job_runs(workflows):
        started_by = {event for event, _ in triggers(workflows, run.workflow)}
        if started_by & {"pull_request", "pull_request_target"}:
            violations += [
                f"{run.label} runs `pulumi {command}` on {sorted(started_by)}"
                for _, command in pulumi_commands(run)
                if command != PREVIEW
            ]
    return violations


def up_violations(workflows: Workflows) -> list[str]:
    """A job that changes a stack is started by pushes to main and nothing else."""
    violations = []
    for run in job_runs(workflows):
        changing = {command for _, command in pulumi_commands(run) if command != PREVIEW}
        if changing:
            violations += [
                f"{run.label} runs {sorted(changing)} on {event} {filters}"
                for event, filters in triggers(workflows, run.workflow)
                if (event, filters) != ("push", {"branches": [DEPLOY_BRANCH]})
            ]
    return violations


def preview_violations(workflows: Workflows) -> list[str]:
    """Previews run on pull requests only (main gets `up`, which previews first anyway)."""
    return [
        f"{run.label} previews on {event}"
        for run in job_runs(workflows)
        if any(command == PREVIEW for _, command in pulumi_commands(run))
        for event, _ in triggers(workflows, run.workflow)
        if event != "pull_request"
    ]


def credential_violations(workflows: Workflows) -> list[str]:
    """AWS only through the OIDC credentials step, before any step that talks to AWS, and id-token only there."""
    violations = []
    for run in job_runs(workflows):
        oidc = [index for index, step in enumerate(run.steps) if action(step) == AWS_CREDENTIALS]
        first = oidc[0] if oidc else len(run.steps)
        for index, step in enumerate(run.steps):
            talks_to_aws = action(step) == PULUMI or _SHELL_AWS.search(str(step.get("run", ""))) is not None
            if talks_to_aws and index < first:
                violations.append(f"{run.label} step {index} uses AWS before the OIDC credentials step")
        for index in oidc:
            inputs = run.inputs(run.steps[index])
            if not _VARIABLE.match(inputs.get("role-to-assume", "")):
                violations.append(f"{run.label}: role-to-assume is not a repository variable: {inputs}")
            static = sorted(key for key in inputs if key.startswith(("aws-access-key", "aws-secret", "aws-session")))
            if static:
                violations.append(f"{run.label}: static credentials {static}")
        if bool(oidc) != (run.permissions.get("id-token") == "write"):
            violations.append(f"{run.label}: id-token write must go with, and only with, the OIDC step")
    return violations


def pulumi_step_violations(workflows: Workflows) -> list[str]:
    """Every pulumi/actions step names a stack this project has and the directory its program is in."""
    violations = []
    for run in job_runs(workflows):
        for step in run.steps:
            if action(step) != PULUMI:
                continue
            inputs = run.inputs(step)
            stack, work_dir = inputs.get("stack-name", ""), inputs.get("work-dir", "")
            if not (PROJECT_DIR / work_dir / "Pulumi.yaml").is_file() or not work_dir:
                violations.append(f"{run.label}: work-dir {work_dir!r} holds no Pulumi.yaml")
            if not (PROJECT_DIR / work_dir / f"Pulumi.{stack}.yaml").is_file() or not stack:
                violations.append(f"{run.label}: stack-name {stack!r} has no Pulumi.<stack>.yaml")
    return violations


def pulumi_runs(workflows: Workflows, command: str) -> dict[str, JobRun]:
    """stack -> the job run that runs `command` on it."""
    found = {}
    for run in job_runs(workflows):
        for index, found_command in pulumi_commands(run):
            if found_command == command and action(run.steps[index]) == PULUMI:
                found[run.inputs(run.steps[index]).get("stack-name", "")] = run
    return found


@pytest.fixture(scope="module")
def workflows() -> Workflows:
    return load_workflows()


# ---------------------------------------------------------------------------------------------
# When: preview on pull requests, up on main


def test_preview_runs_only_on_pull_requests(workflows: Workflows) -> None:
    assert preview_violations(workflows) == []


def test_up_runs_only_on_pushes_to_main(workflows: Workflows) -> None:
    assert up_violations(workflows) == []


def test_no_pull_request_can_run_a_pulumi_command_but_preview(workflows: Workflows) -> None:
    assert pull_request_violations(workflows) == []


def test_up_on_a_pull_request_is_caught(workflows: Workflows) -> None:
    """The rules above object to each way a workflow could run `pulumi up` on a pull request."""
    by_trigger = copy.deepcopy(workflows)
    by_trigger["deploy.yml"]["on"]["pull_request"] = None
    by_command = copy.deepcopy(workflows)
    preview_job = by_command["pull-request.yml"]["jobs"]["preview"]
    next(s for s in preview_job["steps"] if action(s) == PULUMI)["with"]["command"] = "up"
    by_shell = copy.deepcopy(workflows)
    by_shell["checks.yml"]["jobs"]["test"]["steps"].append({"run": "pulumi --cwd . up --yes --stack dev"})
    for broken, where in ((by_trigger, "deploy.yml"), (by_command, "pull-request.yml"), (by_shell, "checks.yml")):
        assert any(where in violation for violation in pull_request_violations(broken)), where
        assert any(where in violation for violation in up_violations(broken)), where


def test_preview_on_push_is_caught(workflows: Workflows) -> None:
    broken = copy.deepcopy(workflows)
    broken["pull-request.yml"]["on"]["push"] = {"branches": [DEPLOY_BRANCH]}
    assert preview_violations(broken) != []


def test_each_stack_is_previewed_with_a_comment_and_deployed(workflows: Workflows) -> None:
    previews, ups = pulumi_runs(workflows, PREVIEW), pulumi_runs(workflows, "up")
    assert set(previews) == STACKS
    assert set(ups) == STACKS
    for run in previews.values():
        step = next(s for s in run.steps if action(s) == PULUMI)
        assert run.inputs(step)["comment-on-pr"].lower() == "true"
        assert run.permissions.get("pull-requests") == "write"
    # prod only after dev succeeded, and only in the environment whose reviewers gate it.
    assert ups["dev"].job_id in ups["prod"].job["needs"]
    assert ups["prod"].job.get("environment") == PRODUCTION_ENVIRONMENT
    assert "environment" not in ups["dev"].job


def test_previews_and_ups_run_after_the_checks(workflows: Workflows) -> None:
    checks = {run.workflow: run for run in job_runs(workflows) if called_workflow(run.job) == "checks.yml"}
    assert set(checks) == {"pull-request.yml", "deploy.yml"}
    for run in [*pulumi_runs(workflows, PREVIEW).values(), pulumi_runs(workflows, "up")["dev"]]:
        assert checks[run.workflow].job_id in run.job["needs"], run.label
    check_steps = [str(s.get("run")) for job in workflows["checks.yml"]["jobs"].values() for s in job["steps"]]
    assert {"make lint", "make lint-workflows", "make test"} <= set(check_steps)


# ---------------------------------------------------------------------------------------------
# As whom: OIDC roles, least permissions


def test_every_aws_step_follows_the_oidc_credentials_step(workflows: Workflows) -> None:
    assert credential_violations(workflows) == []


def test_aws_before_credentials_is_caught(workflows: Workflows) -> None:
    swapped = copy.deepcopy(workflows)
    steps = swapped["deploy.yml"]["jobs"]["up-dev"]["steps"]
    oidc = next(i for i, s in enumerate(steps) if action(s) == AWS_CREDENTIALS)
    steps[oidc], steps[oidc + 1] = steps[oidc + 1], steps[oidc]
    keyed = copy.deepcopy(workflows)
    oidc_step = next(s for s in keyed["deploy.yml"]["jobs"]["up-prod"]["steps"] if action(s) == AWS_CREDENTIALS)
    oidc_step["with"]["aws-access-key-id"] = "${{ secrets.AWS_ACCESS_KEY_ID }}"
    assert any("before the OIDC" in violation for violation in credential_violations(swapped))
    assert any("static credentials" in violation for violation in credential_violations(keyed))


def test_no_static_aws_keys_anywhere() -> None:
    text = "\n".join(path.read_text(encoding="utf-8") for path in GITHUB_DIR.rglob("*.y*ml"))
    assert re.findall(r"(?i)aws[-_](access[-_]key|secret[-_]access|session[-_]token)", text) == []


def test_each_job_assumes_the_role_that_trusts_it(workflows: Workflows) -> None:
    """The role variable a job uses is its stack's, and that role's trust names the job's OIDC subject."""
    for command, kind in ((PREVIEW, "preview"), ("up", "deploy")):
        for stack, run in pulumi_runs(workflows, command).items():
            step = next(s for s in run.steps if action(s) == AWS_CREDENTIALS)
            variable = _VARIABLE.match(run.inputs(step)["role-to-assume"])
            assert variable is not None
            assert variable.group(1) == f"{stack.upper()}_{kind.upper()}_ROLE_ARN", run.label
            condition = trust(github_graph(stack), kind)["Statement"][0]["Condition"]["StringEquals"]
            assert subjects_of(workflows, run) == {condition["token.actions.githubusercontent.com:sub"]}, run.label


def test_permissions_are_denied_by_default_and_granted_per_job(workflows: Workflows) -> None:
    allowed = {"contents": "read", "id-token": "write", "pull-requests": "write"}
    for name, workflow in workflows.items():
        assert workflow["permissions"] == {}, name
        for job_id, job in workflow["jobs"].items():
            granted = job.get("permissions")
            assert isinstance(granted, dict), f"{name}:{job_id} sets no permissions of its own"
            assert {scope: allowed.get(scope) for scope in granted} == granted, f"{name}:{job_id}"


# ---------------------------------------------------------------------------------------------
# How: concurrency, Python, the Pulumi step


def test_one_uninterrupted_update_per_stack_and_previews_never_cancel_one(workflows: Workflows) -> None:
    up_groups = {}
    for stack, run in pulumi_runs(workflows, "up").items():
        concurrency = run.job["concurrency"]
        assert concurrency["cancel-in-progress"] is False, run.label
        assert stack in concurrency["group"]
        up_groups[stack] = concurrency["group"]
    assert len(set(up_groups.values())) == len(up_groups)
    for stack, run in pulumi_runs(workflows, PREVIEW).items():
        group = run.resolve(run.job["concurrency"]["group"])
        assert stack in group
        assert "github.event.pull_request.number" in group
        assert all(not group.startswith(up_group) for up_group in up_groups.values())


def test_pulumi_steps_name_their_stack_and_work_dir(workflows: Workflows) -> None:
    assert pulumi_step_violations(workflows) == []


def test_a_pulumi_step_without_stack_or_work_dir_is_caught(workflows: Workflows) -> None:
    broken = copy.deepcopy(workflows)
    step = next(s for s in broken["deploy.yml"]["jobs"]["up-prod"]["steps"] if action(s) == PULUMI)
    del step["with"]["work-dir"]
    step["with"]["stack-name"] = "staging"
    assert len(pulumi_step_violations(broken)) == 2


def test_python_and_the_programs_dependencies_are_installed_before_pulumi(workflows: Workflows) -> None:
    python = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["tool"]["mypy"]["python_version"]
    virtualenv = load(PROJECT_DIR / "Pulumi.yaml")["runtime"]["options"]["virtualenv"]
    install = f"{virtualenv}/bin/python -m pip install -r requirements.txt"
    for run in job_runs(workflows):
        setup = [i for i, s in enumerate(run.steps) if action(s) == SETUP_PYTHON]
        for index in setup:
            assert run.inputs(run.steps[index])["python-version"] == python, run.label
            assert run.inputs(run.steps[index])["cache"] == "pip", run.label
        for index, _ in pulumi_commands(run):
            installs = [i for i, s in enumerate(run.steps) if install in str(s.get("run"))]
            assert setup, run.label
            assert installs, run.label
            assert setup[0] < installs[0] < index, run.label


def test_the_workflows_install_the_cli_version_the_buildspecs_do(workflows: Workflows) -> None:
    buildspec = load(PROJECT_DIR / "buildspecs" / "deploy.yml")["env"]["variables"]["PULUMI_VERSION"]
    versions = {
        run.inputs(step).get("pulumi-version")
        for run in job_runs(workflows)
        for step in run.steps
        if action(step) == PULUMI
    }
    assert versions == {buildspec}


# ---------------------------------------------------------------------------------------------
# Supply chain and leftovers


def test_every_action_is_pinned_to_a_verified_commit() -> None:
    for path in sorted(GITHUB_DIR.rglob("*.y*ml")):
        for reference, rest in _USES.findall(path.read_text(encoding="utf-8")):
            if reference.startswith(("$/", "./")):
                continue
            name, _, sha = reference.partition("@")
            assert name in VERIFIED_PINS, f"{path.name}: {name} has no verified pin"
            assert (sha, rest.strip()) == (VERIFIED_PINS[name][0], f"# {VERIFIED_PINS[name][1]}"), path.name


def test_nothing_mentions_cdktf_or_npx() -> None:
    for path in GITHUB_DIR.rglob("*"):
        if path.is_file():
            assert re.findall(r"(?i)cdktf|npx", path.read_text(encoding="utf-8")) == [], path


def test_dependabot_updates_python_packages_and_actions() -> None:
    config = load(GITHUB_DIR / "dependabot.yml")
    assert {(u["package-ecosystem"], u["directory"]) for u in config["updates"]} == {
        ("pip", "/"),
        ("github-actions", "/"),
    }


def test_the_ci_page_documents_every_secret_and_variable(workflows: Workflows) -> None:
    section = read_section(DOCS_DIR / "ci.md", "ci")
    text = "\n".join(path.read_text(encoding="utf-8") for path in WORKFLOW_DIR.glob("*.y*ml"))
    names = set(re.findall(r"\b(?:secrets|vars)\.([A-Z][A-Z0-9_]+)", text)) - {"GITHUB_TOKEN"}
    assert len(names) >= 8
    assert {name for name in names if f"| `{name}` |" not in section} == set()
