"""The emulated AWS account: moto in this process, or moto's server on 127.0.0.1 for a user to explore.

Every client comes from one boto3 session whose calls are validated against botocore's service
model first (emulator/validation.py), with moto's fake credentials, so nothing can reach a real
account whatever the shell's AWS settings are.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import cache
from types import TracebackType
from typing import Any

import boto3
import botocore.loaders
from botocore.config import Config
from moto import mock_aws
from moto.core.models import MockAWS
from moto.moto_api._internal.models import moto_api_backend
from moto.server import ThreadedMotoServer

from emulator import validation
from emulator.errors import EmulatorError

# moto's documented stand-ins; they unlock nothing anywhere.
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
LOCALHOST = "127.0.0.1"


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


def forget_everything() -> None:
    """Empty moto's account state; mock_aws does this itself, the server (sharing this process's state) does not."""
    moto_api_backend.reset()


class Emulator:
    """One emulated AWS account, fresh on entry and gone on exit.

    In-process (the default) is fastest; `server=True` runs moto's HTTP server on 127.0.0.1 so the
    AWS CLI or boto3 in another shell can look at what was deployed (`endpoint_url`).
    """

    def __init__(self, *, server: bool = False, port: int = 0) -> None:
        self._server_wanted = server
        self._port = port
        self._server: ThreadedMotoServer | None = None
        self._in_process: Any = None
        self._session: boto3.Session | None = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self.endpoint_url: str | None = None

    def __enter__(self) -> Emulator:
        if self._server_wanted:
            # One access-log line per boto3 call would drown the progress lines.
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            forget_everything()
            self._server = ThreadedMotoServer(ip_address=LOCALHOST, port=self._port, verbose=False)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
        else:
            if MockAWS._nested_count:  # moto's own count of active mock_aws contexts
                # Two in-process emulators would share one account and the inner one's exit would wipe it.
                raise RuntimeError("an in-process emulator (or mock_aws) is already running in this process")
            self._in_process = mock_aws()
            self._in_process.start()
        session = boto3.Session(**FAKE_CREDENTIALS)
        # A user's AWS_ENDPOINT_URL or profile endpoints must not redirect the emulator's calls.
        session._session.set_config_variable("ignore_configured_endpoint_urls", True)
        validation.install(session)
        self._session = session
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._clients.clear()
        self._session = None
        if self._server is not None:
            self._server.stop()
            self._server = None
            forget_everything()
        if self._in_process is not None:
            self._in_process.stop()
            self._in_process = None

    @property
    def backend(self) -> str:
        return f"moto server at {self.endpoint_url}" if self.endpoint_url else "moto in this process"

    def client(self, service: str, region: str) -> Any:
        """A validated boto3 client for `service` in `region` (clients are thread-safe; the cache is shared)."""
        if self._session is None:
            raise RuntimeError("the emulator is not running; use it as a context manager")
        with self._lock:
            key = (service, region)
            if key not in self._clients:
                self._clients[key] = self._session.client(
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

    def account_id(self, region: str) -> str:
        return str(self.client("sts", region).get_caller_identity()["Account"])
