"""CodePipeline's sample EventBridge events, in the documented format, kept in tests/fixtures/events.

They were copied from the team's shared material so that every clone, a GitHub runner's included,
reads the same events and no test skips for want of them.
"""

from __future__ import annotations

from harness.stack_config import PROJECT_DIR

SAMPLE_EVENTS = PROJECT_DIR / "tests" / "fixtures" / "events"
# The samples are written for this pipeline, region and account; tests substitute their own.
SAMPLE_PIPELINE, SAMPLE_REGION = "app-pipeline-dev", "us-east-1"
