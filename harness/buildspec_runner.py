"""Runs a CodeBuild buildspec (version 0.2, `env: shell: bash`) on this machine, the way CodeBuild does.

For tests: the commands really run in bash, with whatever stand-ins the caller puts on PATH.

What is modelled, and where AWS documents it:
- Build specification reference for CodeBuild,
  https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html
  - version 0.1 ran each command in a separate instance of the shell, so a directory change or a
    variable set by one command was lost for the next; version 0.2 "solves this issue" ("phases" note,
    and https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-cmd.html). The runner keeps
    one bash session for all commands of all phases.
  - each scalar of `commands` is a single command, run one at a time in the order listed; when one
    fails the rest of the block is skipped and the `finally` block still runs; the phase succeeds only
    when every command of `commands` and `finally` succeeded (phases/*/finally).
  - `on-failure`: ABORT aborts the build, CONTINUE goes on to the next phase; when it is absent the
    "Build phase transitions" apply (phases/*/on-failure).
  - `env: variables` have the lowest precedence: a project variable of the same name wins (env/variables).
- Build phase transitions,
  https://docs.aws.amazon.com/codebuild/latest/userguide/view-build-details.html#view-build-details-phases
  and the "Important" note of the reference: a failed install or pre_build runs none of the later
  phases; a failed build still goes on to post_build.
- CODEBUILD_BUILD_SUCCEEDING is 1 while the build succeeds and 0 once it fails
  (https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-env-vars.html).

A command's status is what bash gives it: a multi-line scalar has the status of the last command it
ran (no errexit), which is how `read ... < <(aws ...)` hid a failed assume-role.

Not modelled, and refused rather than ignored so a buildspec cannot silently rely on them: run-as,
parameter-store and secrets-manager variables, and shells other than bash. `runtime-versions` (what
the image installs), artifacts, cache and reports have no effect on the commands and are skipped.
A command that exits the shell ends the session: the runner reports it failed, and refuses (raises)
if the documented transitions would still run commands after it.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

PhaseName = Literal["install", "pre_build", "build", "post_build"]
PHASES: tuple[PhaseName, ...] = ("install", "pre_build", "build", "post_build")
Block = Literal["commands", "finally"]
OnFailure = Literal["ABORT", "CONTINUE"]

_TOP_LEVEL_KEYS = frozenset({"version", "env", "phases", "artifacts", "cache", "reports", "proxy", "batch"})
_ENV_KEYS = frozenset({"shell", "variables", "exported-variables", "git-credential-helper"})
_PHASE_KEYS = frozenset({"commands", "finally", "on-failure", "runtime-versions"})
# Without on-failure, a failure in these phases skips every later phase (Build phase transitions).
_ENDS_THE_BUILD = frozenset({"install", "pre_build"})
COMMAND_TIMEOUT_SECONDS = 30.0


class BuildspecError(ValueError):
    """The buildspec uses something CodeBuild would reject or this runner does not model."""


class ShellExitedError(RuntimeError):
    """A command exited the shell while CodeBuild would still run commands after it."""


@dataclass(frozen=True)
class Phase:
    name: PhaseName
    commands: tuple[str, ...]
    finally_commands: tuple[str, ...]
    on_failure: OnFailure | None


@dataclass(frozen=True)
class Buildspec:
    variables: Mapping[str, str]
    phases: tuple[Phase, ...]


@dataclass(frozen=True)
class CommandRun:
    phase: PhaseName
    block: Block
    command: str
    status: int


@dataclass(frozen=True)
class BuildRun:
    """What CodeBuild would report: each phase that ran, each command that ran, and the build log."""

    phases: Mapping[PhaseName, bool]  # phase -> succeeded, for the phases that ran
    commands: tuple[CommandRun, ...]
    log: str
    shell_exited: bool = False

    @property
    def succeeded(self) -> bool:
        return all(self.phases.values()) and not self.shell_exited

    @property
    def status(self) -> Literal["SUCCEEDED", "FAILED"]:
        return "SUCCEEDED" if self.succeeded else "FAILED"

    @property
    def failed_commands(self) -> tuple[CommandRun, ...]:
        return tuple(run for run in self.commands if run.status != 0)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        # YAML reads `- true` as a boolean: CodeBuild wants strings, so quote such commands.
        raise BuildspecError(f"{where} must be a list of strings, got {value!r}")
    return tuple(value)


def _unknown(keys: Any, known: frozenset[str], where: str) -> None:
    extra = sorted(set(keys) - known)
    if extra:
        raise BuildspecError(f"{where}: {', '.join(extra)} not modelled (known: {', '.join(sorted(known))})")


def _phase(name: PhaseName, body: Any) -> Phase:
    if not isinstance(body, dict):
        raise BuildspecError(f"phases/{name} must be a mapping")
    _unknown(body, _PHASE_KEYS, f"phases/{name}")
    on_failure = body.get("on-failure")
    if on_failure not in (None, "ABORT", "CONTINUE"):
        raise BuildspecError(f"phases/{name}/on-failure: {on_failure!r} is not ABORT or CONTINUE")
    return Phase(
        name,
        _strings(body.get("commands"), f"phases/{name}/commands"),
        _strings(body.get("finally"), f"phases/{name}/finally"),
        on_failure,
    )


def parse_buildspec(text: str) -> Buildspec:
    spec = yaml.safe_load(text)
    if not isinstance(spec, dict):
        raise BuildspecError("a buildspec is a YAML mapping")
    _unknown(spec, _TOP_LEVEL_KEYS, "buildspec")
    if str(spec.get("version")) != "0.2":
        raise BuildspecError(f"version {spec.get('version')!r}: only 0.2 (one shell for all commands) is modelled")
    env = spec.get("env") or {}
    _unknown(env, _ENV_KEYS, "env")
    if env.get("shell") != "bash":
        raise BuildspecError(f"env/shell {env.get('shell')!r}: only bash is modelled")
    variables = env.get("variables") or {}
    if not all(isinstance(value, str) for value in variables.values()):
        raise BuildspecError("env/variables values must be strings (quote numbers such as versions)")
    phases = spec.get("phases") or {}
    _unknown(phases, frozenset(PHASES), "phases")
    return Buildspec(dict(variables), tuple(_phase(name, phases[name]) for name in PHASES if name in phases))


@dataclass
class _Session:
    """One bash process fed one command at a time; each command's status comes back on a pipe."""

    work_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    status_reader: int
    status_writer_number: int
    count: int = field(default=0)
    ended: bool = field(default=False)

    @classmethod
    def start(cls, work_dir: Path, source_dir: Path, environment: Mapping[str, str]) -> _Session:
        log_path = work_dir / "build.log"
        reader, writer = os.pipe()
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                ["bash", "--noprofile", "--norc"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=source_dir,
                env=dict(environment),
                pass_fds=(writer,),
            )
        os.close(writer)  # only bash holds it now: its exit closes the pipe
        return cls(work_dir, log_path, process, reader, writer)

    def note(self, line: str) -> None:
        """A line of CodeBuild's own in the build log, between commands."""
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"[Container] {line}\n")

    def send(self, script: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(script.encode())
        self.process.stdin.flush()

    def run(self, command: str) -> int:
        """Source `command` in the session, so what it sets stays; its stdin is not the command feed."""
        self.count += 1
        path = self.work_dir / f"command-{self.count}.sh"
        path.write_text(command if command.endswith("\n") else command + "\n", encoding="utf-8")
        try:
            self.send(f"source {_quote(path)} </dev/null\nprintf '%s\\n' \"$?\" >&{self.status_writer_number}\n")
        except BrokenPipeError:
            self.ended = True
            return self.process.wait()
        status = self._read_status()
        if status is None:  # the command exited the shell
            self.ended = True
            return self.process.wait(timeout=COMMAND_TIMEOUT_SECONDS)
        return status

    def _read_status(self) -> int | None:
        received = b""
        while not received.endswith(b"\n"):
            ready, _, _ = select.select([self.status_reader], [], [], COMMAND_TIMEOUT_SECONDS)
            if not ready:
                self.process.kill()
                raise TimeoutError(f"a command ran longer than {COMMAND_TIMEOUT_SECONDS} s; see {self.log_path}")
            chunk = os.read(self.status_reader, 64)
            if not chunk:
                return None
            received += chunk
        return int(received)

    def close(self) -> str:
        if not self.ended:
            with contextlib.suppress(BrokenPipeError):  # the shell is already gone
                self.send("exit 0\n")
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=COMMAND_TIMEOUT_SECONDS)
        os.close(self.status_reader)
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "'\\''") + "'"


def _runs_after(phases: tuple[Phase, ...], failed: Phase, block: Block) -> bool:
    """Whether CodeBuild would still run a command after one that failed in `failed`'s `block`."""
    if block == "commands" and failed.finally_commands:
        return True
    if failed.on_failure == "ABORT" or (failed.on_failure is None and failed.name in _ENDS_THE_BUILD):
        return False
    later = phases[phases.index(failed) + 1 :]
    return any(phase.commands or phase.finally_commands for phase in later)


def run_buildspec(
    text: str,
    *,
    source_dir: Path,
    work_dir: Path,
    environment: Mapping[str, str],
) -> BuildRun:
    """Run the buildspec `text` in `source_dir` with exactly `environment` (the project's variables,
    PATH, HOME...) plus the buildspec's own variables where the environment has none of that name.
    `work_dir` receives the command files and the build log.
    """
    spec = parse_buildspec(text)
    session_environment = {
        **spec.variables,
        **environment,
        "CODEBUILD_SRC_DIR": str(source_dir),
        "CODEBUILD_BUILD_SUCCEEDING": "1",
    }
    session = _Session.start(work_dir, source_dir, session_environment)
    results: dict[PhaseName, bool] = {}
    commands: list[CommandRun] = []
    try:
        for phase in spec.phases:
            succeeded = True
            blocks: tuple[tuple[Block, tuple[str, ...]], ...] = (
                ("commands", phase.commands),
                ("finally", phase.finally_commands),
            )
            for block, block_commands in blocks:
                for command in block_commands:
                    session.note(f"Running command {command.strip()}")
                    status = session.run(command)
                    commands.append(CommandRun(phase.name, block, command, status))
                    if session.ended:
                        session.note(f"The shell exited with status {status} in {phase.name}")
                        if _runs_after(spec.phases, phase, block):
                            raise ShellExitedError(
                                f"{command.strip()!r} exited the shell in {phase.name}, but CodeBuild would run "
                                "more commands after it: not modelled"
                            )
                        results[phase.name] = False
                        return BuildRun(results, tuple(commands), session.close(), shell_exited=True)
                    if status != 0:
                        session.note(f"Command did not exit successfully {command.strip()} exit status {status}")
                        succeeded = False
                        break
            results[phase.name] = succeeded
            session.note(f"Phase complete: {phase.name.upper()} State: {'SUCCEEDED' if succeeded else 'FAILED'}")
            if not succeeded:
                session.send("export CODEBUILD_BUILD_SUCCEEDING=0\n")
                if phase.on_failure == "ABORT" or (phase.on_failure is None and phase.name in _ENDS_THE_BUILD):
                    break
        return BuildRun(results, tuple(commands), session.close())
    except BaseException:
        session.process.kill()
        session.close()
        raise
