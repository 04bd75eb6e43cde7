"""Talking to a server the test started: JSON over HTTP, waiting for a condition, a server process
started on 127.0.0.1 and stopped by its process id."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def get_json(url: str) -> tuple[int, dict]:
    """The status and JSON body of a GET (an HTTP error's too)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def post_rows(url: str, rows: Any) -> tuple[int, dict]:
    """POST a DataFrame as MLflow's ``dataframe_split`` JSON; the status and JSON body."""
    body = json.dumps({"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """The first truthy value of ``condition()`` within ``timeout`` seconds; AssertionError naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"not within {timeout} s: {what}")


@contextmanager
def serving(command: Sequence[str], cwd: Path, ready_timeout: float = 120) -> Iterator[str]:
    """Start a server that prints its ``http://`` address when ready; yield that address; stop the
    process by its id (SIGTERM, then SIGKILL)."""
    process = subprocess.Popen(list(command), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True).start()
    try:
        ready = wait_for(lambda: [line for line in lines if "http://" in line], ready_timeout, "the server's ready line")
        yield "http://" + ready[0].split("http://", 1)[1].split()[0]
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
