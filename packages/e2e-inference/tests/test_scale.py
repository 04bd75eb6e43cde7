"""Large inputs end to end: chunked, fanned-out scoring equals one pass; references, not copies."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pandas as pd
import pytest
from inference_helpers import E2E_INFER, predictions_of

from e2e_common.data import DEFAULT_TARGET, default_inference_data, default_training_data
from e2e_inference.cli import run_inference
from e2e_inference.names import INFERENCE_INPUT, PREDICTIONS
from e2e_inference.output import PredictionsReference
from e2e_inference.settings import InferenceSettings
from e2e_inference.sources import InputReference

pytestmark = pytest.mark.slow  # inference pipelines and e2e-infer subprocesses

BIG = ("--reference-above-bytes", "0")
MANY_ROWS = 2 * len(default_training_data())


def infer(*args: str):
    return run_inference(InferenceSettings.from_cli(list(args)), say=lambda line: None)


@pytest.fixture(scope="module")
def many_rows(tmp_path_factory):
    """The default training features twice: the training distribution, several row groups."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    features = default_training_data().drop(columns=DEFAULT_TARGET)
    rows = pd.concat([features, features], ignore_index=True)
    path = tmp_path_factory.mktemp("many") / "rows.parquet"
    pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), path, row_group_size=150)
    return path


def test_chunked_fanned_out_scoring_equals_one_pass(default_version, many_rows, tmp_path):
    one_pass = infer("--model-name", default_version, "--data", str(many_rows), "--output", str(tmp_path / "a.parquet"))
    assert not one_pass.by_reference
    chunked = infer(
        "--model-name", default_version, "--data", str(many_rows), "--output", str(tmp_path / "b.parquet"),
        *BIG, "--chunk-size", "97", "--partitions", "3",
    )
    assert chunked.by_reference and chunked.rows_scored == one_pass.rows_scored == MANY_ROWS
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "b.parquet"), pd.read_parquet(tmp_path / "a.parquet"))

    from zenml.client import Client

    run = Client().get_pipeline_run(chunked.run_name)
    assert sorted(name for name in run.steps if "score_partition" in name) == [
        f"map:score_partition:{i}" for i in range(3)
    ]
    unnamed = [a.name for a in Client().list_artifacts(size=1000).items if a.name.startswith("external_")]
    assert unnamed == [], "a value passed to a step was saved as an artifact without a name"


def test_a_large_input_is_recorded_by_reference_and_predictions_reference_their_parts(
    default_version, many_rows, tmp_path
):
    from zenml.client import Client

    result = infer("--model-name", default_version, "--data", str(many_rows), *BIG, "--chunk-size", "500")
    run = Client().get_pipeline_run(result.run_name)
    recorded = next(step for step in run.steps.values() if INFERENCE_INPUT in step.outputs).outputs[INFERENCE_INPUT][0]
    reference = recorded.load()
    assert isinstance(reference, InputReference)
    assert reference.uri == str(many_rows.resolve()) and reference.rows == MANY_ROWS
    assert reference.size_bytes == many_rows.stat().st_size and reference.fingerprint.startswith("sha256:")
    stored = Client().get_artifact_version(PREDICTIONS, result.predictions_version)
    predictions = stored.load()
    assert isinstance(predictions, PredictionsReference) and predictions.rows == MANY_ROWS
    assert len(predictions.read()) == MANY_ROWS
    assert stored.id in {v.id for v in predictions_of(default_version, 1)}

    again = infer("--model-name", default_version, "--data", str(many_rows), *BIG, "--chunk-size", "500")
    assert again.cached and again.predictions_version != result.predictions_version


def test_a_small_input_is_stored(default_version, tmp_path):
    from zenml.client import Client

    path = tmp_path / "rows.csv"
    default_inference_data().to_csv(path, index=False)
    result = infer("--model-name", default_version, "--data", str(path))
    run = Client().get_pipeline_run(result.run_name)
    stored = next(step for step in run.steps.values() if INFERENCE_INPUT in step.outputs).outputs[INFERENCE_INPUT][0]
    assert isinstance(stored.load(), pd.DataFrame)


def test_a_run_failing_mid_scoring_leaves_no_output(default_version, tmp_path, run_e2e_infer):
    rows = pd.concat([default_inference_data()] * 20, ignore_index=True).astype({"mean radius": object})
    rows.loc[len(rows) - 3, "mean radius"] = "not a number"
    path = tmp_path / "late_error.csv"
    rows.to_csv(path, index=False)
    output = tmp_path / "out.csv"
    before = len(predictions_of(default_version, 1))
    run = run_e2e_infer(
        "--model-name", default_version, "--data", str(path), "--output", str(output), *BIG,
        "--chunk-size", "50", "--no-drift-check",
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr_lines == [run.stderr_lines[-1]] and "mean radius" in run.stderr_lines[-1]
    assert list(tmp_path.iterdir()) == [path]
    assert len(predictions_of(default_version, 1)) == before


def test_an_interrupted_run_leaves_no_output(default_version, many_rows, tmp_path):
    output = tmp_path / "out.parquet"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    process = subprocess.Popen(
        [str(E2E_INFER), "--model-name", default_version, "--data", str(many_rows), "--output", str(output),
         *BIG, "--chunk-size", "10", "--no-cache"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    for line in process.stdout:
        if line.startswith("Input:"):
            break
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "error: interrupted; the run stopped before it finished"
    assert list(tmp_path.iterdir()) == []
