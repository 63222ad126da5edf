"""An embedded AWS emulator for the real, unchanged program: moto behind Pulumi's mock runtime.

`python -m emulator --stack dev` (what `make local` runs) deploys a stack, verifies it through
boto3, destroys it and shows that nothing is left. Benchmarks call `run(stack).timings`.
Not part of the deployed program.
"""

from emulator.local import Outcome, Timings, run

__all__ = ["Outcome", "Timings", "run"]
