"""The emulated AWS accounts: moto in this process, or moto's server on 127.0.0.1 for a user to explore.

Every client comes from a boto3 session whose calls are validated against botocore's service model
first (emulator/validation.py), with moto's fake credentials, so nothing can reach a real account
whatever the shell's AWS settings are.

moto serves any number of accounts in one process. Requests signed with its default credentials
land in its default account (123456789012); credentials from an STS AssumeRole of a role in
another account land in that account, and the role need not exist
(https://docs.getmoto.org/en/latest/docs/multi_account.html). So another account is entered the
way an administrator of an AWS Organization enters a member account: by assuming its
OrganizationAccountAccessRole (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_access-cross-account-role.html).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import TracebackType
from typing import Any
from unittest import mock

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from moto import mock_aws
from moto.core.config import DefaultConfig, default_user_config
from moto.core.models import DEFAULT_ACCOUNT_ID, MockAWS
from moto.iam.models import AWSManagedPolicy, IAMBackend, ManagedPolicy
from moto.moto_api._internal.models import moto_api_backend
from moto.server import ThreadedMotoServer
from moto.settings import load_iam_aws_managed_policies

from emulator import validation
from emulator.errors import EmulatorError

# moto's documented stand-ins; they unlock nothing anywhere.
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
LOCALHOST = "127.0.0.1"
# The role an Organization's management account assumes to administer a member account.
MEMBER_ACCOUNT_ADMIN_ROLE = "OrganizationAccountAccessRole"
# moto's switch for AWS's own managed policies (AdministratorAccess, ReadOnlyAccess, ...):
# https://docs.getmoto.org/en/latest/docs/configuration/index.html
WITH_AWS_MANAGED_POLICIES: DefaultConfig = {"iam": {"load_aws_managed_policies": True}}


@dataclass(frozen=True)
class Partition:
    """What aws.get_partition and aws.get_region answer, from botocore's partition data."""

    name: str
    dns_suffix: str
    region_description: str


@cache
def partition_of(region: str) -> Partition:
    data = botocore.loaders.create_loader().load_data("partitions")
    for partition in data["partitions"]:
        known = partition["regions"].get(region)
        if known or re.match(partition["regionRegex"], region):
            outputs = partition["outputs"]
            return Partition(outputs["name"], outputs["dnsSuffix"], (known or {}).get("description", region))
    raise EmulatorError(f"{region} is in no AWS partition botocore knows")


@cache
def _shared_loader() -> botocore.loaders.Loader:
    """One botocore loader for every session of every emulator in this process.

    A loader caches the service models it has read; each boto3 session otherwise gets its own and
    reads each model's JSON again. The emulator makes a session per account, per run.
    """
    return botocore.loaders.create_loader()


@cache
def _aws_managed_policy_documents() -> dict[str, Any]:
    """moto's copy of AWS's managed policies (4.7 MB of JSON), parsed once per process."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data  # noqa: PLC0415 - 30 ms, only if used

    documents: dict[str, Any] = json.loads(aws_managed_policies_data)
    return documents


def _managed_policy_loader(partitions: set[str]) -> Callable[[IAMBackend], list[ManagedPolicy]]:
    """What moto's IAMBackend._init_aws_policies does, for the partitions the emulator serves only.

    moto keeps an IAM backend per account for each of its five partitions and, when its switch is on
    (WITH_AWS_MANAGED_POLICIES), parses and loads all ~1,300 policies into each: 0.6 s per account.
    An AWS account is in one partition, the one its regions are in, so the other four copies are
    never read here; the switch and the documents stay moto's.
    """

    def load(backend: IAMBackend) -> list[ManagedPolicy]:
        # An IAM backend's region is its partition.
        if not load_iam_aws_managed_policies() or backend.region_name not in partitions:
            return []
        return [
            AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, document)
            for name, document in _aws_managed_policy_documents().items()
        ]

    return load


def forget_everything() -> None:
    """Empty moto's account state; mock_aws does this itself, the server (sharing this process's state) does not."""
    moto_api_backend.reset()


class Emulator:
    """Emulated AWS accounts, fresh on entry and gone on exit.

    In-process (the default) is fastest; `server=True` runs moto's HTTP server on 127.0.0.1 so the
    AWS CLI or boto3 in another shell can look at what was deployed (`endpoint_url`).

    `aws_managed_policies` loads AWS's managed policies into every account, as AWS has them, for a
    program that attaches one (the bootstrap), in the partition of the regions it serves (see
    _managed_policy_loader); a program that attaches none (the pipeline) is faster without.
    """

    def __init__(self, *, server: bool = False, port: int = 0, aws_managed_policies: bool = False) -> None:
        self._server_wanted = server
        self._port = port
        self._config: DefaultConfig = WITH_AWS_MANAGED_POLICIES if aws_managed_policies else {}
        # The partitions of the regions clients were made for: where AWS's managed policies are loaded.
        self._partitions: set[str] = set()
        self._managed_policies = mock.patch.object(
            IAMBackend, "_init_aws_policies", _managed_policy_loader(self._partitions)
        )
        self._server: ThreadedMotoServer | None = None
        self._server_config: Any = None
        self._in_process: Any = None
        self._sessions: dict[str, boto3.Session] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()
        self.endpoint_url: str | None = None

    def __enter__(self) -> Emulator:
        self._managed_policies.start()
        if self._server_wanted:
            # One access-log line per boto3 call would drown the progress lines.
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            forget_everything()
            # The server reads moto's configuration in this process; mock_aws(config=...) patches it
            # the same way for the in-process emulator.
            self._server_config = mock.patch.dict(default_user_config, self._config)
            self._server_config.start()
            self._server = ThreadedMotoServer(ip_address=LOCALHOST, port=self._port, verbose=False)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
        else:
            if MockAWS._nested_count:  # moto's own count of active mock_aws contexts
                # Two in-process emulators would share one account and the inner one's exit would wipe it.
                raise RuntimeError("an in-process emulator (or mock_aws) is already running in this process")
            self._in_process = mock_aws(config=self._config)
            self._in_process.start()
        self._sessions[DEFAULT_ACCOUNT_ID] = _validated_session(FAKE_CREDENTIALS)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._clients.clear()
        self._sessions.clear()
        if self._server is not None:
            self._server.stop()
            self._server = None
            forget_everything()
            self._server_config.stop()
        if self._in_process is not None:
            self._in_process.stop()
            self._in_process = None
        self._managed_policies.stop()

    @property
    def backend(self) -> str:
        return f"moto server at {self.endpoint_url}" if self.endpoint_url else "moto in this process"

    @property
    def default_account(self) -> str:
        """The account moto's default credentials sign in to."""
        return DEFAULT_ACCOUNT_ID

    def _session_for(self, account: str, region: str) -> boto3.Session:
        """A session signed in to `account`: the default one, or one from an AssumeRole into it."""
        if not self._sessions:
            raise RuntimeError("the emulator is not running; use it as a context manager")
        if account not in self._sessions:
            sts = self._client("sts", region, DEFAULT_ACCOUNT_ID)
            role = f"arn:{partition_of(region).name}:iam::{account}:role/{MEMBER_ACCOUNT_ADMIN_ROLE}"
            credentials = sts.assume_role(RoleArn=role, RoleSessionName="emulator")["Credentials"]
            self._sessions[account] = _validated_session(
                {
                    "aws_access_key_id": credentials["AccessKeyId"],
                    "aws_secret_access_key": credentials["SecretAccessKey"],
                    "aws_session_token": credentials["SessionToken"],
                }
            )
        return self._sessions[account]

    def client(self, service: str, region: str, account: str | None = None) -> Any:
        """A validated boto3 client for `service` in `region` of `account` (default: moto's default one).

        Clients are thread-safe; the cache is shared.
        """
        with self._lock:
            return self._client(service, region, account or DEFAULT_ACCOUNT_ID)

    def _client(self, service: str, region: str, account: str) -> Any:
        key = (service, region, account)
        if key not in self._clients:
            self._partitions.add(partition_of(region).name)
            session = self._sessions.get(account) or self._session_for(account, region)
            self._clients[key] = session.client(
                service,
                region_name=region,
                endpoint_url=self.endpoint_url,
                config=Config(
                    # moto never throttles; a retried failure would only hide the first error.
                    retries={"total_max_attempts": 1},
                    s3={"addressing_style": "path"},
                ),
            )
        return self._clients[key]

    def account_id(self, region: str, account: str | None = None) -> str:
        """The account the clients for `account` are signed in to, as STS answers it."""
        return str(self.client("sts", region, account).get_caller_identity()["Account"])


def _validated_session(credentials: dict[str, str]) -> boto3.Session:
    core = botocore.session.get_session()
    core.register_component("data_loader", _shared_loader())
    session = boto3.Session(botocore_session=core, **credentials)
    # A user's AWS_ENDPOINT_URL or profile endpoints must not redirect the emulator's calls.
    session._session.set_config_variable("ignore_configured_endpoint_urls", True)
    validation.install(session)
    return session
