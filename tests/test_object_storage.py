"""Inputs, outputs and every artifact on an S3-compatible store (moto's server on 127.0.0.1).

A ZenML stack of its own (a private ``ZENML_CONFIG_PATH``): the local orchestrator, an ``s3://``
artifact store whose endpoint is the test server, and an MLflow experiment tracker and model
registry with an explicit tracking URI (ZenML refuses one without it next to a remote artifact
store). ``e2e-train`` reads ``s3://``, ``e2e-infer`` reads ``s3://`` and writes ``--output s3://``,
and a Parquet object of a few hundred thousand rows is scored in partitions read from the store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from e2e_common.data import default_inference_data, default_training_data

pytestmark = pytest.mark.slow  # an S3 server, ZenML stacks and the CLIs as subprocesses

BIN = Path(sys.executable).parent
LAKE = "lake"
ARTIFACTS = "artifacts"
MODEL = "s3_model"
BIG_ROWS = 300_000
LISTED = """
import json, sys
from zenml.client import Client
client = Client()
version = client.get_model_version(sys.argv[1], int(sys.argv[2]))
links = client.list_model_version_artifact_links(model_version_id=version.id, size=1000).items
print(json.dumps({
    "store": client.active_stack_model.components["artifact_store"][0].configuration["path"],
    "uris": {link.artifact_version.artifact.name + ":" + str(link.artifact_version.version): link.artifact_version.uri
             for link in links},
}))
"""


def s3():
    import s3fs

    return s3fs.S3FileSystem(skip_instance_cache=True)


@pytest.fixture(scope="module")
def s3_stack(s3_server, tmp_path_factory):
    """Buckets, the input objects and a ZenML store whose active stack keeps every artifact on S3."""
    root = tmp_path_factory.mktemp("s3-stack")
    for bucket in (LAKE, ARTIFACTS):
        s3_server.create_bucket(bucket)
    fs = s3()
    train, score = default_training_data(), default_inference_data()
    fs.pipe_file(f"{LAKE}/data/train.csv", train.to_csv(index=False).encode())
    fs.pipe_file(f"{LAKE}/data/score.csv", score.to_csv(index=False).encode())
    rows = train.drop(columns=["target"]).sample(n=BIG_ROWS, replace=True, random_state=0).reset_index(drop=True)
    with fs.open(f"{LAKE}/data/big.parquet", "wb") as handle:
        rows.to_parquet(handle, index=False, row_group_size=50_000)
    env = {"ZENML_CONFIG_PATH": str(root / "zenml")}

    def zenml(*args: str) -> None:
        done = subprocess.run(
            [str(BIN / "zenml"), *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr

    endpoint = json.dumps({"endpoint_url": s3_server.endpoint})
    zenml("artifact-store", "register", "e2e_s3", "--flavor=s3", f"--path=s3://{ARTIFACTS}/zenml", f"--client_kwargs={endpoint}")
    zenml("experiment-tracker", "register", "e2e_s3_mlflow", "--flavor=mlflow", f"--tracking_uri=sqlite:///{root}/mlflow.db")
    zenml("model-registry", "register", "e2e_s3_registry", "--flavor=mlflow")
    zenml("stack", "register", "e2e_s3_stack", "-o", "default", "-a", "e2e_s3", "-e", "e2e_s3_mlflow", "-r", "e2e_s3_registry", "--set")
    return {"env": env, "root": root, "score_rows": len(score)}


@pytest.fixture(scope="module")
def trained(cli, s3_stack):
    done = cli("e2e-train", "--data", f"s3://{LAKE}/data/train.csv", "--model-name", MODEL, env=s3_stack["env"])
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def model_version_uris(s3_stack, number: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", LISTED, MODEL, str(number)],
        capture_output=True, text=True, env={**os.environ, **s3_stack["env"]}, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_train_from_s3_then_score_s3_to_s3(cli, s3_stack, trained):
    assert f"Model version:   {MODEL} version 1 at stage 'staging'" in trained.stdout
    output = f"s3://{LAKE}/out/p.parquet"
    done = cli("e2e-infer", "--data", f"s3://{LAKE}/data/score.csv", "--model-name", MODEL, "--output", output, env=s3_stack["env"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Predictions written to {output}" in done.stdout
    with s3().open(output, "rb") as handle:
        predictions = pd.read_parquet(handle)
    assert len(predictions) == s3_stack["score_rows"]
    assert set(predictions["model_version"].astype(str)) == {"1"}

    listed = model_version_uris(s3_stack, 1)
    assert listed["store"] == f"s3://{ARTIFACTS}/zenml"
    names = {key.split(":")[0] for key in listed["uris"]}
    assert {"data_contract", "preprocess_pipeline", "model", "drift_reference", "predictions", "drift_report"} <= names
    local = {key: uri for key, uri in listed["uris"].items() if not uri.startswith(f"s3://{ARTIFACTS}/zenml/")}
    assert not local, f"artifacts outside the S3 artifact store: {local}"


def test_a_large_parquet_object_is_scored_in_partitions_read_from_s3(cli, s3_stack, trained):
    output = f"s3://{LAKE}/out/big.csv"
    done = cli(
        "e2e-infer", "--data", f"s3://{LAKE}/data/big.parquet", "--model-name", MODEL, "--output", output,
        "--partitions", "3", "--reference-above-bytes", "1000000", "--id-column", "mean radius", "--no-cache",
        env=s3_stack["env"],
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "recorded by reference" in done.stdout and f"s3://{LAKE}/data/big.parquet" in done.stdout
    assert done.stdout.count("step map:score_partition:") == 3, done.stdout
    with s3().open(output, "rb") as handle:
        predictions = pd.read_csv(handle)
    assert len(predictions) == BIG_ROWS
    listed = model_version_uris(s3_stack, 1)
    assert all(uri.startswith(f"s3://{ARTIFACTS}/zenml/") for uri in listed["uris"].values())


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (f"s3://{LAKE}/data/missing.csv", "not found (no such bucket or key)"),
        ("s3://no-such-bucket/train.csv", "not found (no such bucket)"),
    ],
)
def test_a_missing_object_or_bucket_is_exit_2_naming_the_uri(cli, s3_stack, uri, expected):
    for program in ("e2e-train", "e2e-infer"):
        started = time.monotonic()
        done = cli(program, "--data", uri, "--model-name", MODEL, env=s3_stack["env"])
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.strip() == f"error: {uri}: {expected}; pass an existing object"
        assert time.monotonic() - started < 30


def test_an_output_bucket_that_does_not_exist_is_exit_2_before_the_run(cli, s3_stack):
    done = cli(
        "e2e-infer", "--data", f"s3://{LAKE}/data/score.csv", "--model-name", MODEL,
        "--output", "s3://no-such-bucket/p.parquet", env=s3_stack["env"],
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "s3://no-such-bucket/p.parquet" in done.stderr and "(setting 'output')" in done.stderr
    assert "Scoring with" not in done.stdout


def test_an_endpoint_that_does_not_answer_is_exit_5_within_seconds(cli, s3_stack):
    from e2e_testing.objectstore import free_port

    down = {**s3_stack["env"], "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    for program in ("e2e-train", "e2e-infer"):
        started = time.monotonic()
        done = cli(program, "--data", f"s3://{LAKE}/data/train.csv", env=down)
        assert done.returncode == 5, done.stdout + done.stderr
        assert done.stderr.startswith(f"error: s3://{LAKE}/data/train.csv: the object store at http://127.0.0.1:")
        assert "does not answer" in done.stderr and "e2e-test-secret" not in done.stderr + done.stdout
        assert time.monotonic() - started < 20


def test_a_failed_upload_leaves_the_previous_object_and_no_partial_one(s3_server):
    from e2e_common.uris import object_writer

    s3_server.create_bucket("writes")
    fs = s3()
    fs.pipe_file("writes/p.csv", b"old\n")
    block = np.random.default_rng(0).bytes(6 << 20)  # beyond s3fs's first part: a multipart upload
    with pytest.raises(RuntimeError), object_writer("s3://writes/p.csv") as handle:
        handle.write(block)
        handle.write(block)
        raise RuntimeError("killed mid-write")
    assert s3().cat_file("writes/p.csv") == b"old\n"
    with pytest.raises(RuntimeError), object_writer("s3://writes/new.csv") as handle:
        handle.write(b"partial")
        raise RuntimeError("killed mid-write")
    assert not s3().exists("writes/new.csv")


def test_a_local_input_is_uploaded_into_an_s3_artifact_store_or_refused_above_the_setting(s3_server, tmp_path):
    from e2e_common.data import file_fingerprint
    from e2e_common.errors import UsageError
    from e2e_common.remote import upload_input

    s3_server.create_bucket("store")
    path = tmp_path / "batch.csv"
    default_inference_data().to_csv(path, index=False)
    uri = upload_input(path, "s3://store/zenml", 1 << 30, file_fingerprint(path))
    assert uri.startswith("s3://store/zenml/e2e-inputs/") and uri.endswith("/batch.csv")
    assert s3().cat_file(uri) == path.read_bytes()
    with pytest.raises(UsageError, match=r"more than max_upload_bytes 10 \(--max-upload-bytes / E2E_MAX_UPLOAD_BYTES\)"):
        upload_input(path, "s3://store/zenml", 10, file_fingerprint(path))
