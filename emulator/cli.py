"""`python -m emulator --stack dev [--keep]`: the command behind `make local`.

It deploys the bootstrap stack and then the pipeline stack of that name (emulator/local.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from emulator.backend import FAKE_CREDENTIALS, MEMBER_ACCOUNT_ADMIN_ROLE, Emulator
from emulator.lifecycle import DeployFailedError, Deployment, Inventory, ProtectedResourcesError
from emulator.local import BOOTSTRAP, PIPELINE, Placement, Plan, Reporter, Timings, run_locally
from emulator.mocks import Step
from emulator.verify import Result, service_pipelines
from harness.capture import PROVIDER_PREFIX


def kinds_of(steps: list[Step]) -> str:
    """What the + or - lines count: AWS resources, and the providers that create nothing in AWS."""
    providers = sum(1 for step in steps if step.type.startswith(PROVIDER_PREFIX))
    return f"{len(steps) - providers} AWS resources and {providers} provider" + ("" if providers == 1 else "s")


def display_type(token: str) -> str:
    """`aws:s3/bucketPolicy:BucketPolicy` -> `aws:s3:BucketPolicy`, as the Pulumi CLI shows types."""
    package, module, name = [*token.split(":"), "", ""][:3]
    return f"{package}:{module.partition('/')[0]}:{name}" if name else token


class PrintingReporter(Reporter):
    """One line per resource and per check, then totals; what `make local` shows."""

    def __init__(self, out: TextIO | None = None, wait: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.wait = wait or sys.stdin
        self.accounts: list[str] = []

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def started(self, emulator: Emulator, plan: Plan) -> None:
        self.accounts = sorted({account for account, _ in plan.places})
        self.say(f"Emulated AWS: {emulator.backend}")
        for program in plan.placements:
            signed_in = "" if program.account == emulator.default_account else f", as {MEMBER_ACCOUNT_ADMIN_ROLE}"
            self.say(
                f"  {program.label:<9} stack {plan.stack} into account {program.account}, "
                f"region {program.region}{signed_in}"
            )
        self.say("")

    def deploying(self, program: Placement, stack: str) -> None:
        self.say(
            f"Deploying the {program.label} stack {stack} into account {program.account} "
            "(resources are created as soon as their inputs are known)"
        )

    def step(self, step: Step) -> None:
        sign = "+" if step.action == "create" else "-"
        note = f"  ({step.note})" if step.note else ""
        self.say(f"  {sign} {display_type(step.type):<48} {step.name:<58} {step.milliseconds:7.1f} ms{note}")

    def deploy_failed(self, failure: DeployFailedError) -> None:
        self.say(f"Deploy FAILED: {failure.cause}")
        self.say("Destroying what was created before the failure")

    def deployed(self, deployment: Deployment, milliseconds: float) -> None:
        # Three counts a reader meets: these lines, the components (`pulumi stack` shows them, AWS does not),
        # and every registration, which the second-run check compares (README, Quick start).
        steps = deployment.mocks.steps
        components = sum(1 for _ in deployment.graph.components())
        self.say(
            f"Deployed {len(steps)} resources in {milliseconds:.0f} ms (the + lines): {kinds_of(steps)}; "
            f"with the {components} components grouping them, {len(deployment.graph.resources)} registrations"
        )
        self.say("")
        self.say("Outputs")
        width = max(map(len, deployment.outputs))
        for name in sorted(deployment.outputs):
            value = deployment.outputs[name]
            self.say(f"  {name:<{width}}  {value if isinstance(value, str) else json.dumps(value)}")
        self.say("")

    def verifying(self, program: Placement) -> None:
        against = ", and against the bootstrap" if program.label == PIPELINE else ""
        self.say(f"Verifying the {program.label} through boto3{against}")

    def verified(self, results: list[Result], milliseconds: float) -> None:
        for result in results:
            self.say(f"  {result.status:<7} {result.check.description} ({result.milliseconds:.0f} ms)")
            self.say(f"          {result.detail}")
        counts = {status: sum(1 for result in results if result.status == status) for status in ("ok", "failed")}
        tally = ", ".join(f"{count} {status}" for status, count in counts.items())
        self.say(f"Verified in {milliseconds:.0f} ms: {tally}")
        self.say("")

    def keep(self, emulator: Emulator, deployments: dict[str, Deployment]) -> None:
        pipeline, bootstrap = deployments[PIPELINE], deployments[BOOTSTRAP]
        self.say(f"The emulator stays up at {emulator.endpoint_url}. In another shell:")
        self.say(
            f"  export AWS_ENDPOINT_URL={emulator.endpoint_url} AWS_DEFAULT_REGION={pipeline.region} "
            f"AWS_ACCESS_KEY_ID={FAKE_CREDENTIALS['aws_access_key_id']} "
            f"AWS_SECRET_ACCESS_KEY={FAKE_CREDENTIALS['aws_secret_access_key']}"
        )
        for service in service_pipelines(pipeline):
            self.say(f"  aws codepipeline get-pipeline --name {service.outputs['pipelineName']}")
        self.say("  python -c \"import boto3; print(boto3.client('codepipeline').list_pipelines()['pipelines'])\"")
        if bootstrap.account_id != emulator.default_account:
            # moto answers in the account of the role the credentials come from (emulator/backend.py).
            self.say(
                f"  The bootstrap is in account {bootstrap.account_id}: use the credentials of "
                f"aws sts assume-role --role-arn arn:aws:iam::{bootstrap.account_id}:role/{MEMBER_ACCOUNT_ADMIN_ROLE} "
                "--role-session-name look"
            )
        self.say(f"  aws s3api get-bucket-versioning --bucket {bootstrap.outputs['stateBucket']}")
        self.say("Press Enter (or Ctrl-C) to destroy the stacks and stop the emulator.")
        try:
            self.wait.readline()
        except KeyboardInterrupt:
            self.say("")
        self.say("")

    def destroying(self, program: Placement, stack: str) -> None:
        self.say(f"Destroying the {program.label} stack {stack}, dependents before what they depend on")

    def refused(self, refusal: ProtectedResourcesError) -> None:
        names = ", ".join(resource.name for resource in refusal.protected)
        self.say(f"  pulumi destroy refuses, deleting nothing: {names} protected (`protect`)")
        self.say("  pulumi state unprotect --all, as an administrator tearing the stack down does on purpose")

    def destroyed(self, steps: list[Step], milliseconds: float) -> None:
        self.say(f"Destroyed {len(steps)} resources in {milliseconds:.0f} ms (the - lines): {kinds_of(steps)}")
        self.say("")

    def stock_taken(
        self, before: Inventory, after: Inventory, left: dict[str, set[str]], kept: dict[str, set[str]]
    ) -> None:
        accounts = ("accounts " if len(self.accounts) > 1 else "account ") + " and ".join(self.accounts)
        self.say(f"What is left in {accounts}, by the services' own list calls")
        for kind in sorted(after.items):
            remaining = len(after.items[kind] - before.items.get(kind, set()))
            retained = len(kept.get(kind, set()))
            note = f" ({retained} retained on purpose, retainOnDelete)" if retained else ""
            self.say(f"  {kind:<24} {remaining} left{note}")
        pending = len(after.keys_pending_deletion - before.keys_pending_deletion)
        if pending:
            self.say(
                f"  kms keys pending deletion: {pending} (KMS keeps a deleted key for its 7-30 day window, as AWS does)"
            )
        if any(kept.values()):
            self.say(f"Retained by the programs, still in AWS: {kept}")
        self.say(
            ("Nothing else is left." if any(kept.values()) else "Nothing is left.")
            if not left
            else f"LEFT BEHIND: {left}"
        )

    def timed(self, by_program: dict[str, Timings]) -> None:
        self.say("")
        self.say(f"{'Timings (ms)':<14} {'deploy':>7} {'verify':>7} {'destroy':>8}")
        for label, timing in by_program.items():
            self.say(f"  {label:<12} {timing.deploy:>7.0f} {timing.verify:>7.0f} {timing.destroy:>8.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description=(
            "Deploy the bootstrap stack and then the pipeline stack of one name into emulated AWS accounts (moto), "
            "verify both, destroy the pipeline and then the bootstrap, and show that nothing is left."
        ),
    )
    parser.add_argument(
        "--stack",
        default="dev",
        help="the stack of both programs (bootstrap/Pulumi.<stack>.yaml, Pulumi.<stack>.yaml); default dev",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="serve the emulator on 127.0.0.1 and wait for Enter before destroying, to explore it with the AWS CLI",
    )
    parser.add_argument("--port", type=int, default=0, help="port for --keep (default: any free port)")
    args = parser.parse_args(argv)
    reporter = PrintingReporter()
    try:
        outcome = run_locally(args.stack, reporter=reporter, keep=args.keep, port=args.port)
    except DeployFailedError:
        return 1
    return 0 if outcome.ok else 1
