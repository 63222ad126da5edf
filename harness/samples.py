"""CodePipeline's sample EventBridge events, kept in ../shared/events beside the project.

They are reference material the team shares, not part of this repository: a clone elsewhere
(a GitHub runner, say) does not have them, and the tests that read them skip there.
"""

from __future__ import annotations

from harness.stack_config import PROJECT_DIR

SAMPLE_EVENTS = PROJECT_DIR.parent / "shared" / "events"
# The samples are written for this pipeline, region and account; tests substitute their own.
SAMPLE_PIPELINE, SAMPLE_REGION = "app-pipeline-dev", "us-east-1"
