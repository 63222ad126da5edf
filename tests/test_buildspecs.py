"""The buildspecs, run the way CodeBuild 0.2 runs them (harness/buildspec_runner.py), with stand-ins.

Stand-ins for aws, pulumi, curl, python (venv creation), pip and make sit first on PATH. Each is a
small sh script that appends its argv and the AWS_* / backend variables it sees to a log, then fails
where a test asks it to. The make stand-in writes the test result files the service contract asks of
`make test` (pipeline/reports.py) before it fails or succeeds, as a test runner does. The aws stand-in answers `sts assume-role` like the AWS CLI: the real
response shape, `--query` applied with jmespath (the CLI's own query library), `--output text` as
tab-separated values. Every key, secret and token is generated per run.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
import yaml

from harness.buildspec_runner import (
    BuildRun,
    BuildspecError,
    ShellExitedError,
    parse_buildspec,
    run_buildspec,
)
from pipeline.reports import COVERAGE_FILE, JUNIT_FILE, REPORTS_DIRECTORY, CoverageFormat, reports_section

BUILDSPEC_DIR = Path(__file__).resolve().parent.parent / "buildspecs"
Step = Literal["build", "deploy"]
Backend = Literal["s3", "cloud"]
STEPS: tuple[Step, ...] = ("build", "deploy")
BACKENDS: tuple[Backend, ...] = ("s3", "cloud")

ACCOUNT = "210987654321"
REGION = "eu-west-1"
STACK = "my-org/my-service/dev"
ROLES: Mapping[Step, str] = {
    "build": f"arn:aws:iam::{ACCOUNT}:role/cicd-bootstrap-preview-{REGION}",
    "deploy": f"arn:aws:iam::{ACCOUNT}:role/cicd-bootstrap-deploy-{REGION}",
}
SESSION_NAMES: Mapping[Step, str] = {"build": "codebuild-preview-42", "deploy": "codebuild-deploy-42"}
BACKEND_URL = f"s3://cicd-state-{ACCOUNT}-{REGION}"
# What each step may ask of pulumi after logging in, exactly.
MAIN_COMMANDS: Mapping[Step, tuple[str, ...]] = {
    "build": ("preview", "--stack", STACK, "--non-interactive", "--diff"),
    "deploy": ("up", "--stack", STACK, "--non-interactive", "--yes"),
}

# Values logged as they are; the Pulumi token only as present or not, fake or not.
LOGGED_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "PULUMI_BACKEND_URL")
PRESENCE_ONLY = ("PULUMI_ACCESS_TOKEN",)
FIELD = "\x1f"

# How each stand-in fails when asked: a message like the real tool's, and its exit status. The AWS
# CLI exits 254 when the service returned an error
# (https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-returncodes.html).
FAILURES: Mapping[str, tuple[str, int]] = {
    "aws": ("An error occurred (AccessDenied) when calling the AssumeRole operation: refused (stand-in)", 254),
    "curl": ("curl: (22) The requested URL returned error: 503 (stand-in)", 22),
    "make": ("make: *** [Makefile: test] Error 1 (stand-in: a test failed)", 2),
    "pulumi": ("error: refused (stand-in)", 1),
    "python": ("python: failed (stand-in)", 1),
    "pip": ("pip: failed (stand-in)", 1),
    "get.pulumi.com": ("installer: failed (stand-in)", 1),
}

# Run by the aws stand-in with this interpreter, so jmespath comes from the test environment.
AWS_CLI_ANSWER = r"""
import json, re, sys
import jmespath

responses_path, *args = sys.argv[1:]
operation, options = " ".join(args[:2]), args[2:]
if operation != "sts assume-role" or len(options) % 2:
    sys.exit(f"aws (stand-in): no answer for {args!r}")
options = dict(zip(options[::2], options[1::2]))
role_arn, session = options.get("--role-arn", ""), options.get("--role-session-name", "")
# RoleSessionName: 2 to 64 of [\w+=,.@-] (AssumeRole, https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html)
if not re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@/-]+", role_arn) or not re.fullmatch(r"[\w+=,.@-]{2,64}", session):
    print(f"aws: [ERROR]: invalid --role-arn {role_arn!r} or --role-session-name {session!r}", file=sys.stderr)
    sys.exit(252)
with open(responses_path) as answers:
    credentials = json.load(answers)
if not credentials:  # the test wants a successful call that prints nothing
    sys.exit(0)
account, role_name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[1]
response = {
    "Credentials": {**credentials, "Expiration": "2030-01-01T00:00:00+00:00"},
    "AssumedRoleUser": {
        "AssumedRoleId": f"AROAEXAMPLEROLEID:{session}",
        "Arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}",
    },
}
result = jmespath.search(options["--query"], response) if "--query" in options else response
if options.get("--output", "json") != "text":
    print(json.dumps(result, indent=4))
elif isinstance(result, list) and not any(isinstance(item, (list, dict)) for item in result):
    print("\t".join("None" if item is None else str(item) for item in result))
elif isinstance(result, (str, int, float)):
    print(result)
else:
    sys.exit(f"aws (stand-in): text output of {result!r} not modelled")
"""


@dataclass(frozen=True)
class FakeCredentials:
    """Distinctive per run, so a stand-in that sees them proves where they came from."""

    access_key_id: str
    secret_access_key: str
    session_token: str

    @classmethod
    def generate(cls) -> FakeCredentials:
        return cls(f"ASIA{secrets.token_hex(8).upper()}", secrets.token_urlsafe(30), secrets.token_urlsafe(64))


@dataclass(frozen=True)
class Invocation:
    tool: str
    argv: tuple[str, ...]
    env: Mapping[str, str | None]  # None: unset
    cwd: Path  # the folder the tool ran in

    def __str__(self) -> str:
        return shlex.join((self.tool, *self.argv))


@dataclass(frozen=True)
class Outcome:
    build: BuildRun
    invocations: tuple[Invocation, ...]

    def of(self, tool: str) -> list[Invocation]:
        return [call for call in self.invocations if call.tool == tool]

    def pulumi_argv(self) -> list[tuple[str, ...]]:
        return [call.argv for call in self.of("pulumi")]

    def explain(self) -> str:
        calls = "\n".join(f"  {call}" for call in self.invocations)
        return f"build {self.build.status}, phases {dict(self.build.phases)}; calls:\n{calls}\nlog:\n{self.build.log}"


def _sh_quote(value: Path | str) -> str:
    return shlex.quote(str(value))


def _stand_in(tool: str, log: Path, failing: Path, then: str = "exit 0", first: str = "") -> str:
    logged = " ".join(f'"${{{name}+={"$" + name}}}"' for name in LOGGED_VARIABLES)
    present = " ".join(f'"${{{name}:+=<set>}}"' for name in PRESENCE_ONLY)
    message, status = FAILURES[tool]
    return f"""#!/bin/sh
# Stand-in for {tool}: log argv and environment, fail if the test asked, else act as below.
printf '%s\\037' {_sh_quote(tool)} "$(pwd -P)" {logged} {present} "$@" >> {_sh_quote(log)}
printf '\\n' >> {_sh_quote(log)}
{first}
if [ -f {_sh_quote(failing)} ]; then
  while IFS= read -r prefix; do
    [ -n "$prefix" ] || continue
    case "{tool} $*" in
      "$prefix"*) echo {_sh_quote(message)} >&2; exit {status} ;;
    esac
  done < {_sh_quote(failing)}
fi
{then}
"""


def _write_executable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


class Bench:
    """A CodeBuild-like workspace: stand-ins on PATH, a source checkout, the project's variables."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.payloads = root / "payloads"  # stand-ins reached by path, not through PATH
        self.source = root / "src"
        self.home = root / "home"
        self.tmp = root / "tmp"
        self.work = root / "work"
        for directory in (self.bin, self.payloads, self.source, self.home, self.tmp, self.work):
            directory.mkdir()
        self.log = root / "calls.log"
        self.failing = root / "failing"
        self.credentials = FakeCredentials.generate()
        self.pulumi_token = f"pul-{secrets.token_hex(20)}"
        self._install_stand_ins(root)
        (self.source / "requirements.txt").write_text("pulumi>=3,<4\n", encoding="utf-8")
        (self.source / "Makefile").write_text("test:\n\tpytest\n", encoding="utf-8")

    def _install_stand_ins(self, root: Path) -> None:
        answers = root / "assume-role.json"
        answers.write_text(
            json.dumps(
                {
                    "AccessKeyId": self.credentials.access_key_id,
                    "SecretAccessKey": self.credentials.secret_access_key,
                    "SessionToken": self.credentials.session_token,
                }
            ),
            encoding="utf-8",
        )
        answer = root / "aws_cli_answer.py"
        answer.write_text(AWS_CLI_ANSWER, encoding="utf-8")
        installer, pip = self.payloads / "get-pulumi.sh", self.payloads / "pip"
        _write_executable(installer, _stand_in("get.pulumi.com", self.log, self.failing))
        _write_executable(pip, _stand_in("pip", self.log, self.failing))
        behaviours = {
            "aws": f'exec {_sh_quote(sys.executable)} {_sh_quote(answer)} {_sh_quote(answers)} "$@"',
            # `curl URL -o FILE` writes the installer to FILE; `curl URL` prints it, as `| sh` wants.
            "curl": f"""out=
while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
if [ -n "$out" ]; then cp {_sh_quote(installer)} "$out"; else cat {_sh_quote(installer)}; fi""",
            "python": f"""if [ "$1" = -m ] && [ "$2" = venv ]; then
  mkdir -p "$3/bin" && cp {_sh_quote(pip)} "$3/bin/pip"
fi""",
            "pulumi": "exit 0",
        }
        for tool, then in behaviours.items():
            _write_executable(self.bin / tool, _stand_in(tool, self.log, self.failing, then))
        # `make test` writes its results where the contract says, whether the tests pass or fail.
        results = f"""mkdir -p {REPORTS_DIRECTORY}
printf '<testsuites/>\\n' > {REPORTS_DIRECTORY}/{JUNIT_FILE}
printf '<coverage/>\\n' > {REPORTS_DIRECTORY}/{COVERAGE_FILE}"""
        _write_executable(self.bin / "make", _stand_in("make", self.log, self.failing, "exit 0", first=results))

    def answer_nothing(self) -> None:
        """Make `aws sts assume-role` exit 0 without printing anything."""
        (self.bin.parent / "assume-role.json").write_text("{}", encoding="utf-8")

    def environment(self, step: Step, backend: Backend) -> dict[str, str]:
        """What the CodeBuild project and image give the build; the CodeBuild role is the container's."""
        environment = {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "HOME": str(self.home),
            "TMPDIR": str(self.tmp),
            "LANG": "C.UTF-8",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": f"/v2/credentials/{secrets.token_hex(8)}",
            "CODEBUILD_BUILD_NUMBER": "42",
            "PULUMI_STACK": STACK,
            "ASSUME_ROLE_ARN": ROLES[step],
        }
        if backend == "s3":
            environment["PULUMI_BACKEND_URL"] = BACKEND_URL
        else:
            environment["PULUMI_ACCESS_TOKEN"] = self.pulumi_token
        return environment

    def run(
        self,
        step: Step,
        *,
        backend: Backend = "s3",
        failing: Sequence[str] = (),
        without: Sequence[str] = (),
        overrides: Mapping[str, str] | None = None,
        buildspec: str | None = None,
    ) -> Outcome:
        """Run `step`'s buildspec; stand-ins fail on invocations starting with a `failing` prefix."""
        self.failing.write_text("".join(f"{prefix}\n" for prefix in failing), encoding="utf-8")
        environment = {**self.environment(step, backend), **(overrides or {})}
        for name in without:
            environment.pop(name)
        text = buildspec if buildspec is not None else (BUILDSPEC_DIR / f"{step}.yml").read_text(encoding="utf-8")
        build = run_buildspec(text, source_dir=self.source, work_dir=self.work, environment=environment)
        return Outcome(build, tuple(self._invocations()))

    def _invocations(self) -> Iterator[Invocation]:
        if not self.log.exists():
            return
        names = (*LOGGED_VARIABLES, *PRESENCE_ONLY)
        for line in self.log.read_text(encoding="utf-8").splitlines():
            tool, cwd, *fields = line.split(FIELD)[:-1]  # every field ends with the separator
            env = {name: value[1:] if value else None for name, value in zip(names, fields, strict=False)}
            yield Invocation(tool, tuple(fields[len(names) :]), env, Path(cwd))


@pytest.fixture
def bench(tmp_path: Path) -> Bench:
    return Bench(tmp_path)


def _option(argv: tuple[str, ...], name: str) -> str:
    return argv[argv.index(name) + 1]


# --- The defect: a refused assume-role must stop the build before pulumi runs ---------------------


@pytest.mark.parametrize("step", STEPS)
def test_a_refused_assume_role_fails_the_build_before_pulumi_runs(bench: Bench, step: Step) -> None:
    outcome = bench.run(step, failing=["aws sts assume-role"])

    assert [str(call) for call in outcome.of("pulumi")] == [], (
        f"pulumi ran after a refused assume-role:\n{outcome.explain()}"
    )
    assert outcome.of("make") == [], outcome.explain()
    assert outcome.build.status == "FAILED", outcome.explain()
    assert outcome.build.phases == {"install": True, "pre_build": False}, outcome.explain()
    (failed,) = outcome.build.failed_commands
    assert "aws sts assume-role" in failed.command
    assert f"Could not assume {ROLES[step]}" in outcome.build.log


@pytest.mark.parametrize("step", STEPS)
def test_assume_role_answering_no_keys_fails_the_build_before_pulumi_runs(bench: Bench, step: Step) -> None:
    """Empty keys count as none (botocore's EnvProvider skips an empty AWS_ACCESS_KEY_ID), and the
    credential chain would go on to the CodeBuild role's container credentials."""
    bench.answer_nothing()
    outcome = bench.run(step)

    assert outcome.of("pulumi") == [], outcome.explain()
    assert outcome.build.phases == {"install": True, "pre_build": False}, outcome.explain()


# --- Identity, backend and stack ------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("step", STEPS)
def test_pulumi_runs_under_the_assumed_keys_against_the_backend_and_stack(
    bench: Bench, step: Step, backend: Backend
) -> None:
    outcome = bench.run(step, backend=backend)
    assert outcome.build.succeeded, outcome.explain()

    (assume,) = outcome.of("aws")
    assert assume.argv[:2] == ("sts", "assume-role")
    assert _option(assume.argv, "--role-arn") == ROLES[step]
    assert _option(assume.argv, "--role-session-name") == SESSION_NAMES[step]
    assert assume.env["AWS_ACCESS_KEY_ID"] is None, "assume-role must be called as the CodeBuild role"

    keys = bench.credentials
    pulumi = outcome.of("pulumi")
    assert pulumi, outcome.explain()
    for call in pulumi:
        assert call.env["AWS_ACCESS_KEY_ID"] == keys.access_key_id, f"{call} did not run under the assumed keys"
        assert call.env["AWS_SECRET_ACCESS_KEY"] == keys.secret_access_key, str(call)
        assert call.env["AWS_SESSION_TOKEN"] == keys.session_token, str(call)
    assert [call.argv[0] for call in pulumi] == ["login", MAIN_COMMANDS[step][0]], outcome.explain()
    login, main = pulumi
    if backend == "s3":
        assert login.argv == ("login", "--non-interactive", BACKEND_URL)
    else:
        assert login.argv == ("login", "--non-interactive")
        assert login.env["PULUMI_ACCESS_TOKEN"] == "<set>"
    assert _option(main.argv, "--stack") == STACK
    assert f"pulumi runs as arn:aws:sts::{ACCOUNT}:assumed-role/" in outcome.build.log


@pytest.mark.parametrize("step", STEPS)
def test_each_step_asks_pulumi_for_login_and_its_one_command_only(bench: Bench, step: Step) -> None:
    """Deploy: login and `up --stack <stack> --non-interactive --yes`, no refresh, destroy or stack init."""
    outcome = bench.run(step)

    assert outcome.pulumi_argv() == [("login", "--non-interactive", BACKEND_URL), MAIN_COMMANDS[step]]


@pytest.mark.parametrize("without", [pytest.param("unset", id="unset"), pytest.param("empty", id="empty")])
@pytest.mark.parametrize("step", STEPS)
def test_no_role_to_assume_fails_before_aws_or_pulumi(bench: Bench, step: Step, without: str) -> None:
    if without == "unset":
        outcome = bench.run(step, without=["ASSUME_ROLE_ARN"])
    else:
        outcome = bench.run(step, overrides={"ASSUME_ROLE_ARN": ""})

    assert outcome.of("aws") == [], outcome.explain()
    assert outcome.of("pulumi") == [], outcome.explain()
    assert outcome.build.status == "FAILED"
    assert "ASSUME_ROLE_ARN is empty" in outcome.build.log


@pytest.mark.parametrize("step", STEPS)
def test_no_backend_fails_before_pulumi(bench: Bench, step: Step) -> None:
    outcome = bench.run(step, without=["PULUMI_BACKEND_URL"])  # and no PULUMI_ACCESS_TOKEN either

    assert outcome.of("pulumi") == [], outcome.explain()
    assert outcome.build.status == "FAILED"
    assert "No Pulumi backend: set PULUMI_BACKEND_URL" in outcome.build.log
    assert "PULUMI_ACCESS_TOKEN" in outcome.build.log


@pytest.mark.parametrize("step", STEPS)
def test_a_failed_login_stops_before_preview_or_up(bench: Bench, step: Step) -> None:
    outcome = bench.run(step, failing=["pulumi login"])

    assert outcome.pulumi_argv() == [("login", "--non-interactive", BACKEND_URL)], outcome.explain()
    assert outcome.build.phases == {"install": True, "pre_build": False}


@pytest.mark.parametrize("step", STEPS)
def test_a_failed_download_of_the_cli_fails_the_install(bench: Bench, step: Step) -> None:
    outcome = bench.run(step, failing=["curl"])

    assert [call.tool for call in outcome.invocations] == ["curl"], outcome.explain()
    assert outcome.build.phases == {"install": False}


# --- The build step's tests ------------------------------------------------------------------------


def test_the_build_step_runs_the_tests_before_the_preview(bench: Bench) -> None:
    outcome = bench.run("build")

    order = [str(call) for call in outcome.invocations if call.tool in ("make", "pulumi")]
    assert order[-2:] == ["make test", shlex.join(("pulumi", *MAIN_COMMANDS["build"]))], outcome.explain()


def test_a_failing_test_stops_the_preview(bench: Bench) -> None:
    outcome = bench.run("build", failing=["make test"])

    assert MAIN_COMMANDS["build"] not in outcome.pulumi_argv(), outcome.explain()
    assert outcome.build.phases == {"install": True, "pre_build": True, "build": False}


def test_the_deploy_step_runs_no_tests(bench: Bench) -> None:
    assert bench.run("deploy").of("make") == []


# --- The test reports: what `make test` writes is where the `reports:` section looks ---------------------


def reported_files(buildspec: str, source: Path) -> dict[str, Path]:
    """Report group variable -> the file CodeBuild takes for it: `base-directory` and `files` are relative
    to the original build location, the checkout's root (build-spec-ref.html, artifacts/base-directory)."""
    found = {}
    for key, group in yaml.safe_load(buildspec)["reports"].items():
        (name,) = group["files"]
        found[key] = source / group["base-directory"] / name
    return found


def _build_with_reports(directory: str, coverage: CoverageFormat | None) -> str:
    return (BUILDSPEC_DIR / "build.yml").read_text(encoding="utf-8") + reports_section(directory, coverage)


@pytest.mark.parametrize("directory", ["", "services/api"], ids=["root", "monorepo"])
def test_the_reports_section_finds_what_make_test_wrote(bench: Bench, directory: str) -> None:
    overrides = {}
    if directory:
        _service_folder(bench)
        overrides["SERVICE_DIRECTORY"] = directory
    buildspec = _build_with_reports(directory, "COBERTURAXML")
    outcome = bench.run("build", overrides=overrides, buildspec=buildspec)
    assert outcome.build.succeeded, outcome.explain()

    files = reported_files(buildspec, bench.source)
    assert set(files) == {"$TEST_REPORT_GROUP_ARN", "$COVERAGE_REPORT_GROUP_ARN"}
    assert [str(path) for path in files.values() if not path.is_file()] == [], outcome.explain()


def test_failed_tests_are_still_reported_but_not_previewed(bench: Bench) -> None:
    """Reports are taken in UPLOAD_ARTIFACTS, which "is always attempted, even if the BUILD phase fails"
    (view-build-details-phases.html), unless the phase aborts the build: the build phase has no on-failure."""
    buildspec = _build_with_reports("", None)
    outcome = bench.run("build", failing=["make test"], buildspec=buildspec)

    assert outcome.build.phases == {"install": True, "pre_build": True, "build": False}, outcome.explain()
    assert MAIN_COMMANDS["build"] not in outcome.pulumi_argv(), outcome.explain()
    (build_phase,) = [phase for phase in parse_buildspec(buildspec).phases if phase.name == "build"]
    assert build_phase.on_failure is None, "an aborted build never reaches UPLOAD_ARTIFACTS, where reports are taken"
    assert reported_files(buildspec, bench.source)["$TEST_REPORT_GROUP_ARN"].is_file()


# --- A monorepo's service: its own folder ------------------------------------------------------------

SERVICE_DIRECTORY = "services/api"


def _service_folder(bench: Bench) -> Path:
    """A monorepo checkout: the service's requirements, tests and project in their own folder."""
    folder = bench.source / SERVICE_DIRECTORY
    folder.mkdir(parents=True)
    (folder / "requirements.txt").write_text("pulumi>=3,<4\n", encoding="utf-8")
    (folder / "Makefile").write_text("test:\n\tpytest\n", encoding="utf-8")
    return folder.resolve()


@pytest.mark.parametrize("step", STEPS)
def test_a_services_step_installs_tests_and_runs_pulumi_in_its_folder(bench: Bench, step: Step) -> None:
    folder = _service_folder(bench)
    outcome = bench.run(step, overrides={"SERVICE_DIRECTORY": SERVICE_DIRECTORY})
    assert outcome.build.succeeded, outcome.explain()

    in_the_folder = ("pip", "make", "pulumi")
    ran = [call for call in outcome.invocations if call.tool in in_the_folder]
    assert {call.tool for call in ran} == set(in_the_folder) - ({"make"} if step == "deploy" else set())
    assert [str(call) for call in ran if call.cwd != folder] == [], outcome.explain()
    (pip,) = outcome.of("pip")
    assert pip.argv == ("install", "--quiet", "-r", "requirements.txt")  # the service's own requirements


@pytest.mark.parametrize("step", STEPS)
def test_without_a_service_folder_every_step_runs_at_the_root(bench: Bench, step: Step) -> None:
    outcome = bench.run(step)
    assert outcome.build.succeeded, outcome.explain()
    assert {call.cwd for call in outcome.invocations if call.tool != "aws"} == {bench.source.resolve()}


@pytest.mark.parametrize("step", STEPS)
def test_a_missing_service_folder_fails_the_install_before_anything_runs(bench: Bench, step: Step) -> None:
    outcome = bench.run(step, overrides={"SERVICE_DIRECTORY": "services/missing"})

    assert outcome.invocations == (), outcome.explain()
    assert outcome.build.phases == {"install": False}
    (failed,) = outcome.build.failed_commands
    assert failed.command == 'cd "${SERVICE_DIRECTORY:-.}"'


@pytest.mark.parametrize("step", STEPS)
def test_the_buildspecs_keep_version_shell_and_variable(step: Step) -> None:
    text = (BUILDSPEC_DIR / f"{step}.yml").read_text(encoding="utf-8")
    parse_buildspec(text)  # version 0.2, shell bash, nothing the runner would have to ignore
    assert re.search(r"--role-arn \"\$ASSUME_ROLE_ARN\"", text)


# --- The runner itself: CodeBuild's documented semantics -------------------------------------------


def _spec(phases: str, variables: str = "") -> str:
    return f"version: 0.2\nenv:\n  shell: bash\n{variables}phases:\n{phases}"


def _run(tmp_path: Path, text: str, environment: Mapping[str, str] | None = None) -> BuildRun:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "work").mkdir(exist_ok=True)
    return run_buildspec(
        text,
        source_dir=tmp_path / "src",
        work_dir=tmp_path / "work",
        environment={"PATH": "/usr/bin:/bin", **(environment or {})},
    )


def test_one_shell_for_every_phase(tmp_path: Path) -> None:
    run = _run(
        tmp_path,
        _spec(
            "  install:\n    commands:\n      - mkdir sub && cd sub\n      - UNEXPORTED=kept\n"
            '  build:\n    commands:\n      - test "$UNEXPORTED" = kept && test "${PWD##*/}" = sub\n'
        ),
    )
    assert run.succeeded, run.log


def test_a_failed_command_skips_the_rest_of_its_block_but_not_finally(tmp_path: Path) -> None:
    run = _run(
        tmp_path,
        _spec("  build:\n    commands:\n      - 'false'\n      - touch skipped\n    finally:\n      - touch finally\n"),
    )
    assert run.phases == {"build": False}
    assert not (tmp_path / "src" / "skipped").exists()
    assert (tmp_path / "src" / "finally").exists()


@pytest.mark.parametrize("failing", ["install", "pre_build"])
def test_a_failed_install_or_pre_build_runs_no_later_phase(tmp_path: Path, failing: str) -> None:
    commands = {
        name: "'false'" if name == failing else f"touch {name}"
        for name in ("install", "pre_build", "build", "post_build")
    }
    phases = "".join(f"  {name}:\n    commands:\n      - {command}\n" for name, command in commands.items())
    run = _run(tmp_path, _spec(phases))
    assert list(run.phases)[-1] == failing
    assert not run.phases[failing]
    assert not (tmp_path / "src" / "post_build").exists()


def test_a_failed_build_still_runs_post_build_with_build_succeeding_0(tmp_path: Path) -> None:
    run = _run(
        tmp_path,
        _spec(
            "  build:\n    commands:\n      - 'false'\n"
            '  post_build:\n    commands:\n      - echo "$CODEBUILD_BUILD_SUCCEEDING" > succeeding\n'
        ),
    )
    assert run.phases == {"build": False, "post_build": True}
    assert run.status == "FAILED"
    assert (tmp_path / "src" / "succeeding").read_text() == "0\n"


@pytest.mark.parametrize(
    ("on_failure", "phases"),
    [("ABORT", {"build": False}), ("CONTINUE", {"build": False, "post_build": True})],
)
def test_on_failure(tmp_path: Path, on_failure: str, phases: dict[str, bool]) -> None:
    spec = f"  build:\n    on-failure: {on_failure}\n    commands:\n      - 'false'\n  post_build:\n    commands:\n      - 'true'\n"
    assert _run(tmp_path, _spec(spec)).phases == phases


def test_continue_after_a_failed_pre_build_still_fails_the_build(tmp_path: Path) -> None:
    spec = "  pre_build:\n    on-failure: CONTINUE\n    commands:\n      - 'false'\n  build:\n    commands:\n      - 'true'\n"
    run = _run(tmp_path, _spec(spec))
    assert run.phases == {"pre_build": False, "build": True}
    assert run.status == "FAILED"


def test_a_multi_line_command_has_the_status_of_its_last_line(tmp_path: Path) -> None:
    """Why `read ... < <(aws ...)` followed by `export` hid a failed assume-role."""
    assert _run(tmp_path, _spec("  build:\n    commands:\n      - |\n        false\n        true\n")).succeeded


def test_project_variables_win_over_buildspec_variables(tmp_path: Path) -> None:
    variables = "  variables:\n    FROM_SPEC: spec\n    BOTH: spec\n"
    spec = _spec('  build:\n    commands:\n      - test "$FROM_SPEC/$BOTH" = spec/project\n', variables)
    assert _run(tmp_path, spec, {"BOTH": "project"}).succeeded


def test_exit_ends_the_session(tmp_path: Path) -> None:
    run = _run(tmp_path, _spec("  pre_build:\n    commands:\n      - exit 3\n      - touch never\n"))
    assert run.shell_exited
    assert run.status == "FAILED"
    assert [command.status for command in run.commands] == [3]
    with pytest.raises(ShellExitedError):
        _run(tmp_path, _spec("  build:\n    commands:\n      - exit 3\n  post_build:\n    commands:\n      - 'true'\n"))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("version: 0.1\nenv:\n  shell: bash\nphases: {}\n", id="version 0.1"),
        pytest.param("version: 0.2\nenv:\n  shell: /bin/sh\nphases: {}\n", id="sh"),
        pytest.param(_spec("  build:\n    run-as: nobody\n    commands: ['true']\n"), id="run-as"),
        pytest.param(_spec("  build:\n    on-failure: RETRY\n    commands: ['true']\n"), id="on-failure RETRY"),
        pytest.param(_spec("  build:\n    on_failure: ABORT\n    commands: ['true']\n"), id="misspelt key"),
        pytest.param(_spec("  build:\n    commands:\n      - true\n"), id="boolean command"),
        pytest.param(_spec("  test:\n    commands: ['true']\n"), id="unknown phase"),
        pytest.param("version: 0.2\nenv:\n  shell: bash\n  secrets-manager:\n    X: y\nphases: {}\n", id="secrets"),
    ],
)
def test_what_the_runner_does_not_model_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(BuildspecError):
        _run(tmp_path, text)
