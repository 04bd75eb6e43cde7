"""The drift worker: a check submitted early is taken only by a run with the same key; a worker that
fails or dies never changes the outcome, the check then runs in the command's own process."""

from __future__ import annotations

import functools
import os
import time

import pandas as pd
import pytest

from e2e_inference import drift_worker
from e2e_inference.drift import check_key
from e2e_inference.settings import DriftOptions

# The worker unpickles what it runs, so it runs library functions here (this module is not importable
# in it); ``os.getpid`` also stands for a warm-up that skips importing Evidently.
no_warm_up = os.getpid


@pytest.fixture(autouse=True)
def stopped_worker():
    yield
    drift_worker.stop()


def test_without_a_worker_the_check_runs_here():
    assert drift_worker.run("key", os.getpid) == os.getpid()


def test_a_running_worker_does_the_check_and_is_stopped_afterwards():
    drift_worker.start(no_warm_up)
    assert drift_worker.running()
    assert drift_worker.run("key", os.getpid) != os.getpid()
    assert not drift_worker.running()


def test_a_submitted_check_is_taken_by_the_same_key_only():
    drift_worker.start(no_warm_up)
    assert drift_worker.submit(divmod, 7, 2)  # answers the key 3
    assert not drift_worker.submit(divmod, 9, 2), "one job at a time"
    assert drift_worker.run(3, os.getpid) == 1, "the submitted job's result"

    drift_worker.start(no_warm_up)
    assert drift_worker.submit(divmod, 7, 2)
    assert drift_worker.run(4, os.getpid) == os.getpid(), "another key's result is never used"
    assert not drift_worker.running()

    drift_worker.start(no_warm_up)
    assert drift_worker.submit(int, "not a number")
    assert drift_worker.run(3, os.getpid) == os.getpid(), "a failed early job leaves the work to the caller"


def test_submitting_a_large_job_never_waits_for_the_worker_to_warm_up():
    drift_worker.start(functools.partial(time.sleep, 3))  # Evidently's import, seconds long
    started = time.monotonic()
    assert drift_worker.submit(len, b"x" * 2_000_000)  # far more than a pipe holds
    assert time.monotonic() - started < 1, "the command goes on while the job waits in the pipe"
    assert drift_worker.run("key", os.getpid) == os.getpid(), "an answer without the key is not used"


def test_an_error_in_the_worker_is_raised_here():
    drift_worker.start(no_warm_up)
    with pytest.raises(ValueError, match="invalid literal"):
        drift_worker.run("key", int, "not a number")


def test_a_worker_that_dies_before_it_answers_leaves_the_check_to_this_process():
    drift_worker.start(no_warm_up)
    assert drift_worker.submit(time.sleep, 30)  # a job that never answers in time
    os.kill(drift_worker._process.pid, 9)
    started = time.monotonic()
    assert drift_worker.run("key", os.getpid) == os.getpid()
    assert time.monotonic() - started < 10, "a dead worker is noticed at once, not after its job's time"


def test_a_job_that_answers_without_a_key_is_not_used():
    drift_worker.start(no_warm_up)
    assert drift_worker.submit(os.getpid)  # answers a number, not (key, value)
    assert drift_worker.run("key", os.getpid) == os.getpid()


def test_the_key_follows_the_rows_content_order_types_version_and_options():
    rows = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]})
    options = DriftOptions()
    key = check_key(rows, "v1", "drift_reference", options)
    assert key == check_key(rows.copy(), "v1", "drift_reference", options)
    assert key != check_key(rows.assign(a=[1.0, 2.0, 4.0]), "v1", "drift_reference", options)
    assert key != check_key(rows.iloc[::-1], "v1", "drift_reference", options)
    assert key != check_key(rows.astype({"a": "float32"}), "v1", "drift_reference", options)
    assert key != check_key(rows, "v2", "drift_reference", options)
    assert key != check_key(rows, "v1", "drift_reference", DriftOptions(drift_share=0.3))
