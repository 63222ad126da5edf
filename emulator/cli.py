"""`python -m emulator --stack dev [--keep]`: the command behind `make local`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from emulator.backend import FAKE_CREDENTIALS, Emulator
from emulator.lifecycle import DeployFailedError, Deployment, Inventory
from emulator.local import Reporter, run_locally
from emulator.mocks import Step
from emulator.verify import Result


def display_type(token: str) -> str:
    """`aws:s3/bucketPolicy:BucketPolicy` -> `aws:s3:BucketPolicy`, as the Pulumi CLI shows types."""
    package, module, name = [*token.split(":"), "", ""][:3]
    return f"{package}:{module.partition('/')[0]}:{name}" if name else token


class PrintingReporter(Reporter):
    """One line per resource and per check, then totals; what `make local` shows."""

    def __init__(self, out: TextIO | None = None, wait: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.wait = wait or sys.stdin

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def started(self, emulator: Emulator, stack: str, region: str) -> None:
        self.say(f"Emulated AWS: {emulator.backend}, account {emulator.account_id(region)}, region {region}")
        self.say(f"Deploying stack {stack} (resources are created as soon as their inputs are known)")

    def step(self, step: Step) -> None:
        sign = "+" if step.action == "create" else "-"
        note = f"  ({step.note})" if step.note else ""
        self.say(f"  {sign} {display_type(step.type):<52} {step.name:<40} {step.milliseconds:7.1f} ms{note}")

    def deploy_failed(self, failure: DeployFailedError) -> None:
        self.say(f"Deploy FAILED: {failure.cause}")
        self.say("Destroying what was created before the failure")

    def deployed(self, deployment: Deployment, milliseconds: float) -> None:
        self.say(f"Deployed {len(deployment.mocks.steps)} resources in {milliseconds:.0f} ms")
        self.say("")
        self.say("Outputs")
        width = max(map(len, deployment.outputs))
        for name in sorted(deployment.outputs):
            value = deployment.outputs[name]
            self.say(f"  {name:<{width}}  {value if isinstance(value, str) else json.dumps(value)}")
        self.say("")
        self.say("Verifying the deployed state through boto3")

    def verified(self, results: list[Result], milliseconds: float) -> None:
        for result in results:
            self.say(f"  {result.status:<7} {result.check.description} ({result.milliseconds:.0f} ms)")
            self.say(f"          {result.detail}")
        counts = {status: sum(1 for result in results if result.status == status) for status in ("ok", "failed")}
        tally = ", ".join(f"{count} {status}" for status, count in counts.items())
        self.say(f"Verified in {milliseconds:.0f} ms: {tally}")
        self.say("")

    def keep(self, emulator: Emulator, deployment: Deployment) -> None:
        pipeline = deployment.outputs["pipelineName"]
        self.say(f"The emulator stays up at {emulator.endpoint_url}. In another shell:")
        self.say(
            f"  export AWS_ENDPOINT_URL={emulator.endpoint_url} AWS_DEFAULT_REGION={deployment.region} "
            f"AWS_ACCESS_KEY_ID={FAKE_CREDENTIALS['aws_access_key_id']} "
            f"AWS_SECRET_ACCESS_KEY={FAKE_CREDENTIALS['aws_secret_access_key']}"
        )
        self.say(f"  aws codepipeline get-pipeline --name {pipeline}")
        self.say("  python -c \"import boto3; print(boto3.client('codepipeline').list_pipelines()['pipelines'])\"")
        self.say("Press Enter (or Ctrl-C) to destroy the stack and stop the emulator.")
        try:
            self.wait.readline()
        except KeyboardInterrupt:
            self.say("")
        self.say("")

    def destroying(self) -> None:
        self.say("Destroying, dependents before what they depend on")

    def destroyed(self, steps: list[Step], milliseconds: float) -> None:
        self.say(f"Destroyed {len(steps)} resources in {milliseconds:.0f} ms")
        self.say("")
        self.say("What is left, by the services' own list calls")

    def stock_taken(self, before: Inventory, after: Inventory, left: dict[str, set[str]]) -> None:
        for kind in sorted(after.items):
            remaining = len(after.items[kind] - before.items.get(kind, set()))
            self.say(f"  {kind:<24} {remaining} left")
        pending = len(after.keys_pending_deletion - before.keys_pending_deletion)
        if pending:
            self.say(
                f"  kms keys pending deletion: {pending} (KMS keeps a deleted key for its 7-30 day window, as AWS does)"
            )
        self.say("Nothing is left." if not left else f"LEFT BEHIND: {left}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Deploy a stack of this program into an emulated AWS account (moto), verify it, destroy it.",
    )
    parser.add_argument("--stack", default="dev", help="the stack to deploy (Pulumi.<stack>.yaml); default dev")
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
    timings = outcome.timings
    reporter.say(
        f"Timings: deploy {timings.deploy:.0f} ms, verify {timings.verify:.0f} ms, destroy {timings.destroy:.0f} ms"
    )
    return 0 if outcome.ok else 1
