"""An S3-compatible server for the object-storage tests: moto's server mode on 127.0.0.1.

Started once per test session by the ``s3_server`` fixture (``e2e_testing.plugin``) and stopped by
its process id. It holds everything in memory: nothing is written outside the test's folders.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_SECONDS = 60
# Credentials of the test server only (moto accepts any); never real ones.
TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "e2e-test-key",
    "AWS_SECRET_ACCESS_KEY": "e2e-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class S3Server:
    """A running S3-compatible server: its endpoint and process."""

    endpoint: str
    process: subprocess.Popen

    @property
    def environment(self) -> dict[str, str]:
        """What a client process needs to use it (boto3 and s3fs read ``AWS_ENDPOINT_URL``)."""
        return {**TEST_CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    def create_bucket(self, name: str) -> None:
        import boto3

        boto3.client("s3", endpoint_url=self.endpoint, **_client_credentials()).create_bucket(Bucket=name)

    def stop(self) -> None:
        stop_process(self.process)


def _client_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "region_name": TEST_CREDENTIALS["AWS_DEFAULT_REGION"],
    }


def moto_server_command() -> list[str] | None:
    """The ``moto_server`` of this environment, or None when moto[server] is not installed."""
    beside = Path(sys.executable).with_name("moto_server")
    found = str(beside) if beside.exists() else shutil.which("moto_server")
    return [found] if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_s3_server(log: Path) -> S3Server:
    """Start ``moto_server`` on a free port of 127.0.0.1; wait until it answers."""
    command = moto_server_command()
    if command is None:
        raise RuntimeError("moto_server is not installed (pip install 'moto[server]')")
    port = free_port()
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [*command, "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **TEST_CREDENTIALS},
            start_new_session=True,
        )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
            return S3Server(endpoint=endpoint, process=process)
        except OSError:
            time.sleep(0.2)
    stop_process(process)
    raise RuntimeError(f"moto_server did not answer on {endpoint} within {START_TIMEOUT_SECONDS} s")


def stop_process(process: subprocess.Popen) -> None:
    """Stop the process by its id: SIGTERM, then SIGKILL after 10 s."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
