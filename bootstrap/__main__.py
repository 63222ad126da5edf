"""cicd-bootstrap: what a pipeline's deploy needs in one target account and region, run once by an administrator.

This file only reads the settings and composes the components; AWS detail lives in pipeline/
(state_backend.py, deploy_identity.py). README.md beside it says how to run it.
"""

import sys
from pathlib import Path

# Pulumi puts only bootstrap/ on sys.path; the components are the repository root's pipeline package.
if (repository_root := str(Path(__file__).resolve().parent.parent)) not in sys.path:
    sys.path.insert(0, repository_root)

import pulumi

from bootstrap.settings import load_settings
from pipeline.deploy_identity import DeployIdentity, DeployIdentityArgs
from pipeline.provider import AwsAccount, AwsAccountArgs
from pipeline.state_backend import StateBackend, StateBackendArgs

settings = load_settings()
account = AwsAccount(settings.project, AwsAccountArgs(region=settings.region, default_tags=settings.default_tags()))
on_account = account.component_options()
# Empty pipelineAccountId: the pipeline runs in the account being bootstrapped.
pipeline_account_id = settings.pipeline_account_id or account.account_id

state = StateBackend(
    "cicd-state",
    StateBackendArgs(account_id=account.account_id, partition=account.partition, region=settings.region),
    opts=on_account,
)
identity = DeployIdentity(
    "cicd-bootstrap",
    DeployIdentityArgs(
        region=settings.region,
        partition=account.partition,
        account_id=account.account_id,
        pipeline_account_id=pipeline_account_id,
        state_bucket_arn=state.bucket_arn,
        secrets_key_arn=state.key_arn,
        secrets_key_alias_arn=state.key_alias_arn,
        preview_policy_arns=settings.preview_policy_arns,
        deploy_policy_arns=settings.deploy_policy_arns,
        deploy_statements=settings.deploy_statement_documents(),
    ),
    opts=on_account,
)

# What a pipeline stack in the pipeline account takes (README.md: `pulumi config set` for each).
pulumi.export("previewRoleArn", identity.preview_role.arn)
pulumi.export("deployRoleArn", identity.deploy_role.arn)
pulumi.export("backendUrl", state.backend_url)
pulumi.export("secretsProvider", state.secrets_provider)
pulumi.export("stateBucket", state.bucket_name)
pulumi.export("secretsKeyArn", state.key_arn)
pulumi.export("deployBoundaryArn", identity.boundary.arn)
