"""Hostile faults, end to end: the real CLIs against paths that cannot be written, a full disk,
signals, two runs at once, a locked or unreachable ZenML store, a read-only MLflow store and an
artifact store whose files vanished.

Each case asserts the exit code, one ``error:`` line on stderr with the expected fragment and no
traceback, and what must not change: the input file's bytes, no ``--output`` file and no temporary
file, no new ``predictions`` artifact version linked to the model version, the stage.

One model (``hostile_faults``, version 1 at staging) is trained once for the module. Cases that
mount a tmpfs or set the immutable attribute need root (they are skipped otherwise).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from e2e_common.data import default_inference_data

pytestmark = pytest.mark.slow  # the CLIs run as subprocesses

BIN = Path(sys.executable).parent
TINY_SEARCH = Path(__file__).with_name("tiny_search.yaml")
MODEL = "hostile_faults"
PREDICTIONS = "predictions"
ROWS = len(default_inference_data())


# ---------------------------------------------------------------------------------------------- helpers


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONUNBUFFERED"] = "1"  # the step lines arrive as they are printed (signal cases)
    env.update(extra)
    return env


def run(program: str, *args: str, cwd: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    extra = ["--config", str(TINY_SEARCH)] if program == "e2e-train" else []
    return subprocess.run(
        [str(BIN / program), *args, *extra], cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env=environment(**env),
    )


def infer(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return run("e2e-infer", "--model-name", MODEL, *args, cwd=cwd, **env)


def error_line(result: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    """The one ``error:`` line of a run that exited with ``code``, holding every fragment; no traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def linked_predictions() -> int:
    """``predictions`` artifact versions linked to version 1 of the model."""
    from zenml.client import Client

    version = Client().get_model_version(MODEL, "1")
    links = Client().list_model_version_artifact_links(model_version_id=version.id, size=1000)
    return sum(1 for link in links.items if link.artifact_version.name == PREDICTIONS)


def staging_number() -> int:
    from e2e_common.registry import version_at_stage

    return version_at_stage(MODEL, "staging").number


def leftovers(folder: Path) -> list[str]:
    """Temporary files of ours in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


def latest_inference_run():
    from zenml.client import Client

    runs = Client().list_pipeline_runs(sort_by="desc:created", size=20).items
    return next(run for run in runs if run.name.startswith("inference_pipeline-"))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def store_database() -> Path:
    return Path(os.environ["ZENML_CONFIG_PATH"]) / "local_stores" / "default_zen_store" / "zenml.db"


class Unchanged:
    """What a refused or failed e2e-infer run must leave as it was: the input's bytes, the linked
    predictions, the stage; and that it wrote no --output file and no temporary file."""

    def __init__(self, data: Path | None, output: Path | None) -> None:
        self.data, self.output = data, output
        self.data_bytes = data.read_bytes() if data is not None and data.is_file() else None
        self.output_bytes = output.read_bytes() if output is not None and output.is_file() else None
        self.predictions = linked_predictions()

    def check(self) -> None:
        if self.data_bytes is not None:
            assert self.data.read_bytes() == self.data_bytes, "the input file changed"
        if self.output is not None:
            if self.output_bytes is None:
                assert not self.output.exists() or self.output.is_dir(), "an --output file was written"
            else:
                assert self.output.read_bytes() == self.output_bytes, "the existing --output file changed"
            if self.output.parent.is_dir():
                assert leftovers(self.output.parent) == []
        assert linked_predictions() == self.predictions, "a predictions artifact version was published"
        assert staging_number() == 1


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """Version 1 of ``hostile_faults`` at staging; the folder the CLIs run in."""
    cwd = tmp_path_factory.mktemp("hostile_cwd")
    result = run("e2e-train", "--model-name", MODEL, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    assert staging_number() == 1
    return cwd


@pytest.fixture
def rows(tmp_path) -> Path:
    path = tmp_path / "rows.csv"
    default_inference_data().to_csv(path, index=False)
    return path


def mount_tmpfs(where: Path, options: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")


@pytest.fixture
def tmpfs(tmp_path):
    """Mount tmpfs file systems under tmp_path (root only); unmounted after the test."""
    mounted: list[Path] = []

    def mount(name: str, options: str) -> Path:
        where = tmp_path / name
        mount_tmpfs(where, options)
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", str(where)], capture_output=True)


def fill(path: Path) -> None:
    """Write ``path`` until its file system is full."""
    try:
        with open(path, "wb") as sink:
            while True:
                sink.write(b"\0" * 4096)
                sink.flush()
    except OSError:
        pass
    assert shutil.disk_usage(path.parent).free == 0


def immutable(path: Path, on: bool) -> None:
    done = subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True, text=True)
    if on and done.returncode != 0:
        pytest.skip(f"cannot set the immutable attribute here ({done.stderr.strip()})")


# ------------------------------------------------------------------------ output paths: exit 2 up front


@pytest.mark.parametrize("how", ["same path", "symlink", "hard link", "relative path"])
def test_output_that_is_the_input_file_is_refused_before_anything_runs(trained, rows, how):
    if how == "same path":
        output = rows
    elif how == "symlink":
        output = rows.with_name("scored.csv")
        output.symlink_to(rows)
    elif how == "hard link":
        output = rows.with_name("scored.csv")
        os.link(rows, output)
    else:
        output = Path(os.path.relpath(rows, trained))
    kept = Unchanged(rows, None)
    started = time.monotonic()
    result = infer("--data", str(rows), "--output", str(output), cwd=trained)
    error_line(result, 2, f"--output {output} is the same file as --data {rows}", "pass another --output")
    assert time.monotonic() - started < 30  # refused before ZenML loads (about 2 s on an idle machine)
    kept.check()
    assert leftovers(rows.parent) == []


@pytest.mark.parametrize(
    ("report", "fragment"),
    [("data", "--report {report} is the same file as --data"), ("output", "--output {output} is the same file as --report")],
)
def test_report_that_is_the_input_or_the_output_is_refused(trained, rows, tmp_path, report, fragment):
    output = tmp_path / "scored.csv"
    report_path = rows if report == "data" else output
    kept = Unchanged(rows, output)
    result = infer("--data", str(rows), "--output", str(output), "--report", str(report_path), cwd=trained)
    error_line(result, 2, fragment.format(report=report_path, output=output))
    kept.check()


def test_output_that_is_the_config_file_is_refused(trained, tmp_path):
    config = tmp_path / "infer.csv"  # an odd name for a config file, but a valid one
    config.write_text(f"model_name: {MODEL}\n")
    kept = Unchanged(config, None)
    result = run("e2e-infer", "--config", str(config), "--output", str(config), cwd=trained)
    error_line(result, 2, f"--output {config} is the same file as --config")
    kept.check()


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("existing folder", "is a folder (setting 'output')"),
        ("missing folder", "does not exist (setting 'output')"),
        ("parent is a file", "is not a folder (setting 'output')"),
    ],
)
def test_output_path_that_cannot_be_a_file_is_refused_up_front(trained, tmp_path, case, fragment):
    if case == "existing folder":
        output = tmp_path / "scored.csv"
        output.mkdir()
    elif case == "missing folder":
        output = tmp_path / "missing" / "scored.csv"
    else:
        (tmp_path / "afile").write_text("x")
        output = tmp_path / "afile" / "scored.csv"
    kept = Unchanged(None, output)
    result = infer("--output", str(output), cwd=trained)
    error_line(result, 2, fragment)
    assert "unsupported file extension" not in result.stderr
    kept.check()


def test_output_on_a_read_only_file_system_is_refused_up_front(trained, tmpfs):
    folder = tmpfs("readonly", "ro,size=1m")
    output = folder / "scored.csv"
    report = folder / "drift.html"
    kept = Unchanged(None, output)
    result = infer("--output", str(output), cwd=trained)
    error_line(result, 2, f"folder {folder} cannot be written (Read-only file system)", "(setting 'output')")
    result = infer("--report", str(report), cwd=trained)
    error_line(result, 2, "Read-only file system", "(setting 'report')")
    kept.check()


def test_an_immutable_output_file_is_refused_and_kept(trained, tmp_path):
    output = tmp_path / "scored.csv"
    output.write_text("old,result\n1,2\n")
    immutable(output, True)
    try:
        kept = Unchanged(None, output)
        result = infer("--output", str(output), cwd=trained)
        error_line(result, 2, "the file exists and cannot be replaced")
        kept.check()
    finally:
        immutable(output, False)


def test_a_bad_store_wait_setting_is_a_usage_error(trained):
    result = infer("--no-drift-check", cwd=trained, E2E_STORE_WAIT_SECONDS="soon")
    error_line(result, 2, "E2E_STORE_WAIT_SECONDS='soon'")


# ------------------------------------------------------------------- writes that fail once the run runs


def test_a_full_disk_fails_the_run_and_publishes_nothing(trained, tmp_path, tmpfs):
    big = tmp_path / "big.csv"
    # At least 5,600 rows scored: more than 64 KB of predictions even when the probabilities are short numbers.
    pd.concat([default_inference_data()] * 200, ignore_index=True).to_csv(big, index=False)
    folder = tmpfs("full", "size=64k")
    output = folder / "scored.csv"
    kept = Unchanged(big, output)
    result = infer("--data", str(big), "--no-drift-check", "--output", str(output), cwd=trained)
    error_line(result, 2, f"{output}: cannot be written (No space left on device)")
    kept.check()
    assert os.listdir(folder) == []
    assert latest_inference_run().status.value == "failed"

    # A file system with no space at all is refused before the run.
    fill(folder / "filler")
    result = infer("--no-drift-check", "--output", str(output), cwd=trained)
    error_line(result, 2, "no space left on the file system")


def test_a_temporary_file_left_by_a_killed_run_is_removed_by_the_next(trained, tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    output = tmp_path / "scored.csv"
    stale = tmp_path / f".scored.csv.e2e-{gone.pid}-{socket.gethostname()}.tmp"
    stale.write_text("half a file")
    elsewhere = tmp_path / f".scored.csv.e2e-{gone.pid}-another-host.tmp"  # maybe still written, on another host
    elsewhere.write_text("half a file")
    before = linked_predictions()
    result = infer("--no-drift-check", "--output", str(output), cwd=trained)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Removed {stale}, a temporary file of --output left by a run that was killed" in result.stdout
    assert not stale.exists() and elsewhere.exists()
    assert len(pd.read_csv(output)) == ROWS and linked_predictions() == before + 1


# ----------------------------------------------------------------------------------------- signals


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_run_exits_130_and_writes_nothing(trained, rows, tmp_path, sent):
    output = tmp_path / "scored.csv"
    kept = Unchanged(rows, output)
    # Recorded by reference (--reference-above-bytes 0), the rows go through eleven steps: seconds of
    # run left after the first one, whatever the machine.
    process = subprocess.Popen(
        [
            str(BIN / "e2e-infer"), "--model-name", MODEL, "--data", str(rows), "--output", str(output), "--no-cache",
            "--reference-above-bytes", "0",
        ],
        cwd=trained, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment(),
    )
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("step record_input"):
            break
    time.sleep(0.5)
    process.send_signal(sent)
    out, err = process.communicate(timeout=120)
    result = subprocess.CompletedProcess(process.args, process.returncode, "".join(seen) + out, err)
    error_line(result, 130, "interrupted; the run stopped before it finished")
    kept.check()
    assert latest_inference_run().status.value in ("failed", "stopped")


# ------------------------------------------------------------------------------------- two at once


def test_two_runs_at_once_on_one_output_both_finish_with_one_whole_file(trained, rows, tmp_path):
    output = tmp_path / "scored.csv"
    before = linked_predictions()
    command = [str(BIN / "e2e-infer"), "--model-name", MODEL, "--data", str(rows), "--output", str(output)]
    processes = [
        subprocess.Popen(command + extra, cwd=trained, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=environment())
        for extra in (["--no-drift-check"], ["--no-drift-check", "--no-cache"])
    ]
    results = [process.communicate(timeout=300) for process in processes]
    for process, (out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, out + err
        assert "Traceback" not in err and f"Predictions written to {output}" in out
    written = pd.read_csv(output)
    assert len(written) == ROWS and set(written["model_name"]) == {MODEL}
    assert leftovers(tmp_path) == []
    assert linked_predictions() == before + 2


# ------------------------------------------------------------------------------- stores and servers


def hold_store_lock(seconds: float) -> subprocess.Popen:
    """Another process holding SQLite's exclusive lock on the session's ZenML store for ``seconds``."""
    code = (
        "import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(store_database()), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_locked_store_is_said_within_seconds_and_given_up_with_exit_5(trained, rows, tmp_path):
    output = tmp_path / "scored.csv"
    kept = Unchanged(rows, output)
    holder = hold_store_lock(120)
    try:
        started = time.monotonic()
        result = infer("--data", str(rows), "--output", str(output), cwd=trained, E2E_STORE_WAIT_SECONDS="4")
        took = time.monotonic() - started
    finally:
        holder.terminate()
        holder.wait()
    error_line(result, 5, f"the ZenML store {store_database()} is locked by process {holder.pid}",
               "stayed locked for 4 s", "E2E_STORE_WAIT_SECONDS")
    assert f"is busy: locked by process {holder.pid}" in result.stdout and "waiting up to 4 s" in result.stdout
    assert took < 60, took  # was 134 s of silence, then exit 1
    kept.check()


def test_a_store_freed_during_the_wait_lets_the_run_finish(trained, tmp_path):
    output = tmp_path / "scored.csv"
    before = linked_predictions()
    holder = hold_store_lock(10)
    try:
        result = infer("--no-drift-check", "--output", str(output), cwd=trained)
    finally:
        holder.wait()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is busy: locked by process" in result.stdout
    assert len(pd.read_csv(output)) == ROWS and linked_predictions() == before + 1


@pytest.mark.parametrize("program", ["e2e-infer", "e2e-train"])
def test_a_read_only_zenml_store_is_exit_5_before_anything_runs(trained, tmp_path, program):
    output = tmp_path / "scored.csv"
    args = ("--model-name", MODEL, "--output", str(output)) if program == "e2e-infer" else ("--model-name", MODEL)
    kept = Unchanged(None, output)
    immutable(store_database(), True)
    try:
        result = run(program, *args, cwd=trained)
    finally:
        immutable(store_database(), False)
    error_line(result, 5, f"the ZenML store {store_database()} is read-only")
    kept.check()


@pytest.mark.parametrize("program", ["e2e-infer", "e2e-train"])
def test_a_zenml_server_that_is_down_is_exit_5_within_seconds(trained, tmp_path, program):
    url = f"http://127.0.0.1:{closed_port()}"
    output = tmp_path / "scored.csv"
    args = ("--model-name", MODEL, "--output", str(output)) if program == "e2e-infer" else ("--model-name", MODEL)
    started = time.monotonic()
    result = run(program, *args, cwd=trained, ZENML_STORE_URL=url)
    took = time.monotonic() - started
    error_line(result, 5, f"the ZenML server at {url} does not answer", "Connection refused")
    assert took < 45, took  # ZenML's own retries took 68-88 s; the check is one 5 s request after the imports
    assert not output.exists() and staging_number() == 1


def test_a_read_only_mlflow_store_fails_training_with_exit_5_and_no_traceback(trained):
    from zenml.client import Client

    tracking_uri = Client().active_stack.experiment_tracker.get_tracking_uri()
    database = Path(tracking_uri.removeprefix("sqlite:///"))
    assert database.is_file(), tracking_uri
    versions = len(Client().list_model_versions(model_name_or_id=MODEL, size=100).items)
    immutable(database, True)
    try:
        result = run("e2e-train", "--model-name", MODEL, "--promotion", "latest", cwd=trained)
    finally:
        immutable(database, False)
    error_line(result, 5, f"MLflow's tracking store {tracking_uri}", "is read-only")
    assert staging_number() == 1
    assert len(Client().list_model_versions(model_name_or_id=MODEL, size=100).items) == versions  # the failed run's version removed


def test_vanished_artifact_files_are_exit_5_and_debug_shows_the_traceback(trained, tmp_path):
    from zenml.client import Client

    from e2e_common.contract import DATA_CONTRACT

    uri = Path(Client().get_model_version(MODEL, "1").get_artifact(DATA_CONTRACT).uri)
    output = tmp_path / "scored.csv"
    kept = Unchanged(None, output)
    moved = uri.with_name(uri.name + ".moved")
    shutil.move(uri, moved)
    try:
        result = infer("--output", str(output), cwd=trained)
        debug = infer("--output", str(output), "--debug", cwd=trained)
    finally:
        shutil.move(moved, uri)
    error_line(result, 5, "the artifact store", "lacks a file the run needs", "deleted or moved")
    assert debug.returncode == 5 and "Traceback (most recent call last)" in debug.stderr
    kept.check()
