"""``e2e-serve``: parsing, checks and answers in-process (fast), then the server as users run it (slow).

The slow tests start one server per module (``python -m e2e_inference.serve_cli``) on a free port of
127.0.0.1, in the session's private ZenML store, for a model that has no version yet: it starts
answering 503, serves the first version promoted to production, follows the stage as it moves and
keeps answering while it does. Stopping with SIGTERM has its own short-lived server.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from fixture_versions import CATEGORICAL_TARGET, categorical_frame
from sklearn.linear_model import LogisticRegression

from e2e_common.contract import IDENTIFIER_REASON, Stage
from e2e_common.data import default_inference_data
from e2e_common.errors import NoModelAtStageError
from e2e_common.preprocessing import build_preprocess_pipeline
from e2e_common.schemas import DataContract
from e2e_inference.inputs import rows_to_score
from e2e_inference.names import MODEL_NAME_COLUMN, MODEL_VERSION_COLUMN, PREDICTED_CLASS_COLUMN
from e2e_inference.predict import score_chunk
from e2e_inference.serve import (
    HEALTH_KEYS,
    ModelHolder,
    RequestError,
    ServedModel,
    StageVersion,
    create_app,
    json_value,
    parse_rows,
    prediction_records,
    store_unreachable,
    without_credentials,
)
from e2e_testing.http import wait_for

SECRET = "SECRET-VALUE-42"  # a value that must never come back in an error answer
JSON = {"content-type": "application/json"}
CSV = {"content-type": "text/csv"}


# --- fast: plain functions on tiny frames ---------------------------------------------------------------


def tiny_served_model(version_name: str = "1", excluded: dict[str, str] | None = None, c: float = 1.0) -> ServedModel:
    """A real fitted version (numeric, categorical and boolean features, three classes), in memory."""
    frame = categorical_frame()
    contract = DataContract.from_frame(frame, CATEGORICAL_TARGET, excluded_columns=excluded)
    preprocess = build_preprocess_pipeline(contract).fit(frame)
    model = LogisticRegression(C=c, max_iter=500).fit(preprocess.transform(frame), frame[CATEGORICAL_TARGET])
    return ServedModel(
        model_name="tiny",
        stage="production",
        version_name=version_name,
        version_id=f"id-{version_name}",
        contract=contract,
        preprocess_pipeline=preprocess,
        model=model,
    )


@pytest.fixture(scope="module")
def tiny() -> ServedModel:
    return tiny_served_model()


def tiny_rows(n: int = 4) -> pd.DataFrame:
    return categorical_frame(rows=n, seed=1).drop(columns=[CATEGORICAL_TARGET])


def split_of(rows: pd.DataFrame) -> dict:
    """``dataframe_split`` of the rows, every float as it is (pandas' to_json rounds to 10 digits)."""
    return {"columns": list(rows.columns), "data": rows.astype(object).to_numpy().tolist()}


def bodies(rows: pd.DataFrame) -> dict[str, tuple[bytes, str]]:
    """The same rows in each format of MLflow's scoring protocol."""
    records = rows.to_dict(orient="records")
    split = split_of(rows)
    return {
        "dataframe_records": (json.dumps({"dataframe_records": records}, default=str).encode(), "application/json"),
        "dataframe_split": (json.dumps({"dataframe_split": split}, default=str).encode(), "application/json"),
        "instances": (json.dumps({"instances": records}, default=str).encode(), "application/json"),
        "inputs": (json.dumps({"inputs": rows.to_dict(orient="list")}, default=str).encode(), "application/json"),
        "csv": (rows.to_csv(index=False).encode(), "text/csv; charset=utf-8"),
    }


@pytest.mark.parametrize("form", ["dataframe_records", "dataframe_split", "instances", "inputs", "csv"])
def test_every_format_gives_score_chunks_predictions(tiny, form):
    rows = tiny_rows()
    body, content_type = bodies(rows)[form]
    answer = tiny.answer(body, content_type)
    expected = score_chunk(
        rows_to_score(rows, tiny.contract, None), tiny.preprocess_pipeline, tiny.model, model_name="tiny", model_version="1"
    )
    got = pd.DataFrame(answer["predictions"])
    assert list(got.columns) == list(expected.columns)  # id, predicted_class, proba_<class>..., model_name, model_version
    assert got[PREDICTED_CLASS_COLUMN].tolist() == expected[PREDICTED_CLASS_COLUMN].tolist()
    for column in [c for c in expected.columns if c.startswith("proba_")]:
        assert got[column].to_numpy() == pytest.approx(expected[column].to_numpy(), rel=1e-12)
    assert set(got[MODEL_NAME_COLUMN]) == {"tiny"} and set(got[MODEL_VERSION_COLUMN]) == {"1"}


def test_missing_values_and_extra_columns_are_scored_as_e2e_infer_scores_them(tiny):
    rows = tiny_rows().astype(object)
    rows.loc[0, "size"] = None
    rows.loc[1, "color"] = "purple"  # unseen: scored as unknown
    rows["note"] = "ignored"
    answer = tiny.answer(json.dumps({"dataframe_records": rows.to_dict(orient="records")}).encode(), "application/json")
    assert len(answer["predictions"]) == 4
    json.dumps(answer, allow_nan=False)  # JSON-safe


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (lambda rows: rows.drop(columns=["weight"]), ["missing feature column: weight"]),
        (lambda rows: rows.drop(columns=["weight", "color"]), ["missing feature columns: weight, color"]),
        (lambda rows: rows.assign(size=[1.0, SECRET, 3.0, 4.0]), ["size (1 value(s) not a number)"]),
        (lambda rows: rows.assign(fragile=[True, SECRET, False, True]), ["fragile (1 value(s) not true or false)"]),
    ],
    ids=["one-missing", "two-missing", "text-in-numeric", "text-in-boolean"],
)
def test_rows_the_contract_refuses_are_400_naming_the_columns_never_the_values(tiny, change, fragments):
    rows = change(tiny_rows().astype(object))
    for form, (body, content_type) in bodies(rows).items():
        if form == "inputs":
            continue  # a column of mixed types is not an 'inputs' tensor
        with pytest.raises(RequestError) as refused:
            tiny.answer(body, content_type)
        assert (refused.value.status, refused.value.error_code) == (400, "BAD_REQUEST"), form
        for fragment in fragments:
            assert fragment in refused.value.message, (form, refused.value.message)
        assert SECRET not in refused.value.message and "\n" not in refused.value.message


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (b"a,b\n1,2", "text/plain", 415, "content type 'text/plain' is not supported; send application/json or text/csv"),
        (b"a,b\n1,2", None, 415, "no content type"),
        (b"a,b\n1,2", "text/csv; charset=latin-1", 415, "only the UTF-8 charset"),
        (b"\xff\xfe" + SECRET.encode(), "text/csv", 400, "not UTF-8"),
        (b"", "text/csv", 400, "not a CSV table with a header row"),
        (b"{" + SECRET.encode(), "application/json", 400, "not a JSON object with one of the fields"),
        (json.dumps([SECRET]).encode(), "application/json", 400, "not a JSON object"),
        (json.dumps({SECRET: 1}).encode(), "application/json", 400, "it has none of them"),
        (json.dumps({"dataframe_records": [], "inputs": {}}).encode(), "application/json", 400, "it has 2 of them"),
        (json.dumps({"dataframe_records": SECRET}).encode(), "application/json", 400, "'dataframe_records' could not"),
        (json.dumps({"dataframe_split": {"columns": ["a"], "data": [[SECRET, 2]]}}).encode(), "application/json", 400,
         "'dataframe_split' could not be read as a table"),
        (json.dumps({"inputs": [[1, 2]]}).encode(), "application/json", 400, "'inputs' has no column names"),
        (json.dumps({"dataframe_records": []}).encode(), "application/json", 400, "no rows to score"),
        (json.dumps({"dataframe_split": {"columns": ["a", "a"], "data": [[1, 2]]}}).encode(), "application/json", 400,
         "duplicate columns: a"),
    ],
)
def test_unreadable_requests_are_refused_in_one_line_without_their_values(body, content_type, status, fragment):
    with pytest.raises(RequestError) as refused:
        parse_rows(body, content_type)
    assert refused.value.status == status
    assert fragment in refused.value.message
    assert SECRET not in refused.value.message and "\n" not in refused.value.message
    assert refused.value.body() == {
        "error_code": "BAD_REQUEST" if status == 400 else "UNSUPPORTED_MEDIA_TYPE",
        "message": refused.value.message,
    }


def test_a_recorded_identifier_in_the_rows_is_the_id_column_as_in_e2e_infer():
    served = tiny_served_model(excluded={"item_id": IDENTIFIER_REASON})
    rows = tiny_rows().assign(item_id=["a", "b", "c", "d"])
    answer = served.answer(rows.to_csv(index=False).encode(), "text/csv")
    assert [record["item_id"] for record in answer["predictions"]] == ["a", "b", "c", "d"]
    assert "id" not in answer["predictions"][0]
    without = served.answer(tiny_rows().to_csv(index=False).encode(), "text/csv")
    assert [record["id"] for record in without["predictions"]] == [0, 1, 2, 3]


def test_records_are_json_safe():
    frame = pd.DataFrame(
        {
            "id": [np.int64(1), np.int64(2)],
            "predicted_class": [True, False],
            "proba_x": [np.float64(0.25), np.nan],
            "when": [pd.Timestamp("2024-01-31"), pd.NaT],
            "label": ["a", None],
        }
    )
    records = prediction_records(frame)
    assert records == [
        {"id": 1, "predicted_class": True, "proba_x": 0.25, "when": "2024-01-31T00:00:00", "label": "a"},
        {"id": 2, "predicted_class": False, "proba_x": None, "when": None, "label": None},
    ]
    json.dumps(records, allow_nan=False)
    assert json_value(math.inf) is None and json_value(np.float32(0.5)) == 0.5 and json_value([1]) == "[1]"


# ModelHolder with plain stand-ins for the stage lookup and the loading (the slow tests use ZenML's).


@dataclass
class FakeStage:
    """What the stage holds, and which versions fail to load."""

    holds: str | None = None
    failing: set[str] = field(default_factory=set)
    loads: list[str] = field(default_factory=list)

    def find(self, model_name: str, stage: str) -> StageVersion:
        if self.holds is None:
            raise NoModelAtStageError(model_name, stage, f"model '{model_name}' has no version at stage '{stage}'")
        return StageVersion(version_id=f"id-{self.holds}", version_name=self.holds)

    def load(self, model_name: str, stage: str) -> ServedModel:
        assert self.holds is not None
        self.loads.append(self.holds)
        if self.holds in self.failing:
            raise OSError(f"artifact store unreadable for version {self.holds}")
        return tiny_served_model(self.holds)


def holder_on(stage: FakeStage, said: list[str] | None = None) -> ModelHolder:
    lines = said if said is not None else []
    return ModelHolder("tiny", "production", find=stage.find, load=stage.load, say=lines.append)


def test_holder_waits_for_a_version_then_follows_the_stage():
    stage, said = FakeStage(), []
    holder = holder_on(stage, said)
    holder.check()
    health = holder.health()
    assert tuple(health) == HEALTH_KEYS
    assert (health["version"], health["stage_version"], health["behind"]) == (None, None, False)
    assert "has no version at stage 'production'" in health["last_error"] and health["checked_at"]
    assert holder.served is None and "as soon as one is promoted" in holder.unavailable_message()

    holder.announce = True
    stage.holds = "1"
    holder.check()
    assert holder.health() | {"checked_at": None} == {
        "model_name": "tiny", "stage": "production", "version": "1", "version_id": "id-1", "task": "classification",
        "stage_version": "1", "behind": False, "checked_at": None, "last_error": None,
    }
    holder.check()
    assert stage.loads == ["1"]  # the same version is not loaded again

    before = holder.served
    stage.holds = "2"
    holder.check()
    assert holder.served is not before and holder.health()["version"] == "2"
    assert before.version_name == "1"  # a request that took the old model still has it, whole
    assert said == [
        "serving model 'tiny' version 1 (stage 'production')",
        "serving model 'tiny' version 2 (stage 'production'), was version 1",
    ]


def test_holder_keeps_serving_when_a_version_fails_to_load_or_the_stage_empties():
    stage, warned = FakeStage(holds="1", failing={"2"}), []
    holder = ModelHolder("tiny", "production", find=stage.find, load=stage.load, warn=warned.append)
    holder.check()
    stage.holds = "2"
    holder.check()
    health = holder.health()
    assert (health["version"], health["stage_version"], health["behind"]) == ("1", "2", True)
    assert health["last_error"].startswith("version 2 could not be loaded: artifact store unreadable")
    holder.check()  # tried again at every check, warned once
    assert stage.loads == ["1", "2", "2"] and len(warned) == 1

    stage.holds = None
    holder.check()
    health = holder.health()
    assert (health["version"], health["stage_version"], health["behind"]) == ("1", None, True)
    assert health["last_error"].endswith("still serving version 1")

    stage.holds = "1"
    holder.check()
    assert holder.health()["behind"] is False and holder.health()["last_error"] is None
    assert stage.loads == ["1", "2", "2"]


def test_holder_reports_an_unreadable_store_and_keeps_serving():
    stage = FakeStage(holds="1")
    holder = holder_on(stage)
    holder.check()

    def down(model_name: str, stage_name: str) -> StageVersion:
        raise RuntimeError("Error connecting to URL") from ConnectionRefusedError(111, "Connection refused")

    holder._find = down
    holder.check()
    assert holder.served is not None and holder.health()["version"] == "1"
    assert holder.health()["last_error"] == "the ZenML store cannot be reached (RuntimeError); still serving version 1"


def test_unreachable_stores_are_recognised_and_urls_lose_their_credentials():
    import requests
    import sqlalchemy.exc

    try:
        try:
            raise requests.exceptions.ConnectionError("refused")
        except requests.exceptions.ConnectionError as exc:
            raise RuntimeError("Error connecting to URL 'http://zenml:8080'") from exc
    except RuntimeError as wrapped:
        assert store_unreachable(wrapped)
    assert store_unreachable(sqlalchemy.exc.OperationalError("connect", {}, OSError("refused")))
    assert not store_unreachable(KeyError("no such model"))
    assert without_credentials("mysql://user:pw@db:3306/zenml") == "mysql://db:3306/zenml"
    assert without_credentials("https://zenml.example.com") == "https://zenml.example.com"


def test_routes_answer_503_with_the_hint_until_a_model_is_served(tiny):
    from fastapi.testclient import TestClient

    stage = FakeStage()
    holder = holder_on(stage)
    holder.check()
    client = TestClient(create_app(holder))
    for answer in (client.get("/ping"), client.post("/invocations", content=b"a\n1", headers=CSV)):
        assert answer.status_code == 503
        assert answer.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
        assert "has no version at stage 'production'" in answer.json()["message"]
    assert client.get("/health").status_code == 200 and client.get("/health").json()["version"] is None
    from e2e_inference import __version__

    assert client.get("/version").json() == {"version": __version__}

    stage.holds = "1"
    holder.check()
    assert client.get("/ping").status_code == 200
    answer = client.post("/invocations", content=tiny_rows().to_csv(index=False).encode(), headers=CSV)
    assert answer.status_code == 200 and len(answer.json()["predictions"]) == 4
    refused = client.post("/invocations", content=b"x", headers={"content-type": "application/xml"})
    assert refused.status_code == 415 and refused.json()["error_code"] == "UNSUPPORTED_MEDIA_TYPE"
    missing = client.post(
        "/invocations", json={"dataframe_records": tiny_rows().drop(columns=["size"]).to_dict(orient="records")}
    )
    assert missing.status_code == 400 and missing.json() == {
        "error_code": "BAD_REQUEST", "message": "missing feature column: size"
    }


def test_a_scoring_failure_is_500_without_details(tiny):
    from fastapi.testclient import TestClient

    holder = holder_on(FakeStage(holds="1"))
    holder.check()
    holder.served = ServedModel(**{**tiny.__dict__, "model": object()})  # no predict: a bug, not the request
    reported: list[BaseException] = []
    client = TestClient(create_app(holder, report=reported.append), raise_server_exceptions=False)
    answer = client.post("/invocations", content=tiny_rows().to_csv(index=False).encode(), headers=CSV)
    assert answer.status_code == 500 and answer.json()["error_code"] == "INTERNAL_ERROR"
    assert len(reported) == 1


# --- slow: the server as users run it ---------------------------------------------------------------------

SERVE_MODEL = "inf_serve"
READY_TIMEOUT = 120
FOLLOW_TIMEOUT = 30  # a stage move is served within --poll-interval (1 s here) + loading time


def cli_env() -> dict[str, str]:
    """The test's environment (its ZENML_CONFIG_PATH), with bytecode caching as users have it."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class ServerProcess:
    """A running ``e2e-serve`` and what it printed."""

    process: subprocess.Popen
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    url: str = ""
    ready_line: str = ""

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def output(self) -> str:
        return "stdout:\n" + "".join(self.stdout) + "\nstderr:\n" + "".join(self.stderr)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Stop it by its process id: the signal, then kill when it does not exit in time."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
                raise
        return self.process.returncode


def start_server(*args: str) -> ServerProcess:
    """Start ``e2e-serve`` on a free port of 127.0.0.1; returns once it printed its ready line."""
    command = [sys.executable, "-m", "e2e_inference.serve_cli", "--host", "127.0.0.1", "--port", "0", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
    server = ServerProcess(process)
    for stream, lines in ((process.stdout, server.stdout), (process.stderr, server.stderr)):
        threading.Thread(target=lambda s=stream, out=lines: out.extend(iter(s.readline, "")), daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready = [line for line in server.stdout if line.startswith(("serving model ", "waiting on http://"))]
            if ready:
                server.ready_line = ready[0].rstrip("\n")
                server.url = "http://" + server.ready_line.split("http://", 1)[1].split()[0]
                return server
            if process.poll() is not None:
                raise AssertionError(f"e2e-serve exited with {process.returncode}\n{server.output()}")
            time.sleep(0.1)
        raise AssertionError(f"e2e-serve printed no ready line in {READY_TIMEOUT} s\n{server.output()}")
    except BaseException:
        server.stop(signal.SIGKILL)
        raise


def set_stage(version: str, stage: str) -> None:
    """Move ``version`` of the served model to ``stage`` (the version there before is archived)."""
    from zenml.client import Client

    Client().update_model_version(model_name_or_id=SERVE_MODEL, version_name_or_id=version, stage=stage, force=True)


@dataclass
class Started:
    """The module's server and what it answered before any version was promoted."""

    server: ServerProcess
    ready_line: str
    ping: tuple[int, dict]
    invocations: tuple[int, dict]
    health: dict


@pytest.fixture(scope="module")
def started():
    """The module's server, started for a model with no version at production (stopped at the end)."""
    import httpx
    from zenml.client import Client

    Client().zen_store  # noqa: B018 - the session's store exists before the server opens it
    server = start_server("--model-name", SERVE_MODEL, "--poll-interval", "1")
    try:
        ping = httpx.get(f"{server.url}/ping")
        invocations = httpx.post(f"{server.url}/invocations", content=b"a\n1", headers=CSV)
        yield Started(
            server=server,
            ready_line=server.ready_line,
            ping=(ping.status_code, ping.json()),
            invocations=(invocations.status_code, invocations.json()),
            health=httpx.get(f"{server.url}/health").json(),
        )
    finally:
        server.stop()


@dataclass
class Versions:
    server: ServerProcess
    first: str
    second: str
    served_after: float  # seconds from the first promotion to serving it


def health_of(server: ServerProcess) -> dict:
    import httpx

    return httpx.get(f"{server.url}/health", timeout=10).json()


@pytest.fixture(scope="module")
def versions(started) -> Versions:
    """Version 1 promoted to production (then served), version 2 at staging."""
    from fixture_versions import promote_fixture_version

    first = promote_fixture_version(SERVE_MODEL, stage=Stage.PRODUCTION)
    promoted_at = time.monotonic()
    wait_for(lambda: health_of(started.server)["version"] == first, FOLLOW_TIMEOUT, f"serving version {first}")
    served_after = time.monotonic() - promoted_at
    second = promote_fixture_version(SERVE_MODEL, stage=Stage.STAGING, c=0.001)
    return Versions(started.server, first, second, served_after)


def serve_first(versions: Versions) -> None:
    health = health_of(versions.server)
    if (health["version"], health["stage_version"]) != (versions.first, versions.first):
        set_stage(versions.first, Stage.PRODUCTION.value)
        wait_for(
            lambda: (h := health_of(versions.server))["version"] == h["stage_version"] == versions.first,
            FOLLOW_TIMEOUT,
            "back on version 1",
        )


@pytest.fixture
def production_is_first(versions):
    """Each test starts and ends with version 1 at production and served."""
    serve_first(versions)
    yield versions
    serve_first(versions)


@pytest.mark.slow
def test_starts_without_a_version_answering_503_with_the_hint_then_serves_the_first_promoted(started, versions):
    assert started.ready_line.startswith(f"waiting on {started.server.url} (503 until a version can be served): ")
    hint = f"no model named '{SERVE_MODEL}' in this ZenML store"
    assert hint in started.ready_line
    for status, body in (started.ping, started.invocations):
        assert status == 503 and body["error_code"] == "TEMPORARILY_UNAVAILABLE" and hint in body["message"]
    assert tuple(started.health) == HEALTH_KEYS
    assert (started.health["version"], started.health["behind"]) == (None, False)

    assert versions.served_after < FOLLOW_TIMEOUT
    health = health_of(versions.server)
    assert (health["version"], health["stage_version"], health["behind"], health["last_error"]) == (
        versions.first, versions.first, False, None
    )
    assert f"serving model '{SERVE_MODEL}' version {versions.first} (stage 'production')\n" in versions.server.stdout


@pytest.fixture(scope="module")
def e2e_infer_predictions(versions, tmp_path_factory):
    """What ``e2e-infer`` writes for the held-out rows with the production version (no drift check)."""
    folder = tmp_path_factory.mktemp("serve")
    rows = default_inference_data()
    rows.to_csv(folder / "rows.csv", index=False)
    output = folder / "predictions.csv"
    e2e_infer = os.path.join(os.path.dirname(sys.executable), "e2e-infer")
    done = subprocess.run(
        [e2e_infer, "--model-name", SERVE_MODEL, "--stage", "production", "--data", str(folder / "rows.csv"),
         "--no-drift-check", "--output", str(output)],
        capture_output=True, text=True, timeout=300, env=cli_env(),
    )
    assert done.returncode == 0, done.stderr
    return rows, pd.read_csv(output)


@pytest.mark.slow
def test_records_split_and_csv_answer_what_score_chunk_and_e2e_infer_give(production_is_first, e2e_infer_predictions):
    import httpx
    from zenml.client import Client

    from e2e_common.contract import MODEL, PREPROCESS_PIPELINE

    rows, from_e2e_infer = e2e_infer_predictions
    version = Client().get_model_version(SERVE_MODEL, production_is_first.first)
    expected = score_chunk(
        rows,
        version.get_artifact(PREPROCESS_PIPELINE).load(),
        version.get_artifact(MODEL).load(),
        model_name=SERVE_MODEL,
        model_version=production_is_first.first,
    )
    assert list(from_e2e_infer.columns) == list(expected.columns)
    url = f"{production_is_first.server.url}/invocations"
    answers = {
        "dataframe_records": httpx.post(url, json={"dataframe_records": rows.to_dict(orient="records")}),
        "dataframe_split": httpx.post(url, json={"dataframe_split": split_of(rows)}),
        "csv": httpx.post(url, content=rows.to_csv(index=False).encode(), headers=CSV),
    }
    for form, answer in answers.items():
        assert answer.status_code == 200, (form, answer.text)
        got = pd.DataFrame(answer.json()["predictions"])
        assert list(got.columns) == list(expected.columns), form
        assert got[PREDICTED_CLASS_COLUMN].tolist() == expected[PREDICTED_CLASS_COLUMN].tolist(), form
        assert got[PREDICTED_CLASS_COLUMN].tolist() == from_e2e_infer[PREDICTED_CLASS_COLUMN].tolist(), form
        for column in [c for c in expected.columns if c.startswith("proba_")]:
            assert got[column].to_numpy() == pytest.approx(expected[column].to_numpy(), rel=1e-9), form
            assert got[column].to_numpy() == pytest.approx(from_e2e_infer[column].to_numpy(), rel=1e-9), form
        assert set(got[MODEL_VERSION_COLUMN]) == {production_is_first.first}


@pytest.mark.slow
def test_bad_requests_are_400_or_415_naming_the_column(production_is_first):
    import httpx

    url = f"{production_is_first.server.url}/invocations"
    rows = default_inference_data().head(3)
    missing = httpx.post(url, json={"dataframe_records": rows.drop(columns=["mean radius"]).to_dict(orient="records")})
    assert (missing.status_code, missing.json()) == (
        400, {"error_code": "BAD_REQUEST", "message": "missing feature column: mean radius"}
    )
    wrong = rows.astype(object)
    wrong.loc[1, "mean texture"] = SECRET
    typed = httpx.post(url, content=wrong.to_csv(index=False).encode(), headers=CSV)
    assert typed.status_code == 400 and typed.json()["error_code"] == "BAD_REQUEST"
    assert "mean texture (1 value(s) not a number)" in typed.json()["message"] and SECRET not in typed.text
    unknown = httpx.post(url, content=b"<rows/>", headers={"content-type": "application/xml"})
    assert unknown.status_code == 415 and unknown.json()["error_code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert httpx.get(f"{production_is_first.server.url}/ping").status_code == 200


@pytest.mark.slow
def test_follows_the_stage_there_and_back(production_is_first):
    server, first, second = production_is_first.server, production_is_first.first, production_is_first.second
    set_stage(second, Stage.PRODUCTION.value)
    health = wait_for(lambda: (h := health_of(server))["version"] == second and h, FOLLOW_TIMEOUT, "serving version 2")
    assert (health["stage_version"], health["behind"], health["last_error"]) == (second, False, None)
    set_stage(first, Stage.PRODUCTION.value)
    wait_for(lambda: health_of(server)["version"] == first, FOLLOW_TIMEOUT, "serving version 1 again")
    lines = "".join(server.stdout)
    assert f"version {second} (stage 'production'), was version {first}" in lines
    assert f"version {first} (stage 'production'), was version {second}" in lines


@pytest.mark.slow
def test_an_emptied_stage_keeps_the_last_version_served_and_says_it_is_behind(production_is_first):
    import httpx

    server, first = production_is_first.server, production_is_first.first
    set_stage(first, "archived")
    health = wait_for(lambda: (h := health_of(server))["stage_version"] is None and h, FOLLOW_TIMEOUT, "stage empty")
    assert (health["version"], health["behind"]) == (first, True)
    assert "has no version at stage 'production'" in health["last_error"]
    assert health["last_error"].endswith(f"still serving version {first}")
    rows = default_inference_data().head(2)
    answer = httpx.post(f"{server.url}/invocations", content=rows.to_csv(index=False).encode(), headers=CSV)
    assert answer.status_code == 200 and answer.json()["predictions"][0][MODEL_VERSION_COLUMN] == first


@pytest.mark.slow
def test_requests_sent_during_stage_moves_all_succeed(production_is_first):
    import httpx

    server, first, second = production_is_first.server, production_is_first.first, production_is_first.second
    body = default_inference_data().head(5).to_csv(index=False).encode()
    results: list[tuple[int, str] | BaseException] = []
    stop = threading.Event()

    def send() -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                try:
                    answer = client.post(f"{server.url}/invocations", content=body, headers=CSV)
                    results.append((answer.status_code, answer.json()["predictions"][0][MODEL_VERSION_COLUMN]))
                except Exception as exc:  # noqa: BLE001 - every failure is counted
                    results.append(exc)

    senders = [threading.Thread(target=send) for _ in range(2)]
    for sender in senders:
        sender.start()
    try:
        set_stage(second, Stage.PRODUCTION.value)
        wait_for(lambda: health_of(server)["version"] == second, FOLLOW_TIMEOUT, "serving version 2")
        wait_for(lambda: any(r == (200, second) for r in results), FOLLOW_TIMEOUT, "an answer from version 2")
        set_stage(first, Stage.PRODUCTION.value)
        wait_for(lambda: health_of(server)["version"] == first, FOLLOW_TIMEOUT, "serving version 1 again")
        time.sleep(0.5)
    finally:
        stop.set()
        for sender in senders:
            sender.join(60)
    failures = [r for r in results if not isinstance(r, tuple) or r[0] != 200]
    assert not failures, failures[:5]
    served = [version for _, version in results]
    assert served.count(first) and served.count(second) and len(served) > 20


@pytest.mark.slow
def test_sigterm_stops_the_server_with_exit_0_and_frees_the_port(versions):
    import httpx

    server = start_server("--model-name", SERVE_MODEL, "--poll-interval", "1")
    try:
        assert server.ready_line.startswith(f"serving model '{SERVE_MODEL}' version ")
        assert httpx.get(f"{server.url}/ping").status_code == 200
        stopping = time.monotonic()
        code = server.stop(signal.SIGTERM)
        assert code == 0, server.output()
        assert time.monotonic() - stopping < 10
    finally:
        server.stop(signal.SIGKILL)
    wait_for(lambda: server.stdout and server.stdout[-1] == "stopped (SIGTERM)\n", 5, "the stopped line")
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", server.port)) != 0  # nothing listens
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", server.port))  # free to bind


@pytest.mark.slow
def test_bad_settings_and_a_taken_port_exit_2_before_loading_anything(started):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "e2e_inference.serve_cli", *args],
            capture_output=True, text=True, timeout=60, env=cli_env(),
        )

    for args, fragment in (
        (["--port", "70000"], "invalid value '70000' for setting 'port' (--port / E2E_PORT)"),
        (["--poll-interval", "0"], "setting 'poll_interval' (--poll-interval / E2E_POLL_INTERVAL)"),
        (["--stage", "archived"], "setting 'stage'"),
        (["--no-cache"], "unrecognized arguments: --no-cache"),  # pipeline settings are not the server's
        (["--port", str(started.server.port)], f"cannot listen on 127.0.0.1:{started.server.port}: "),
    ):
        began = time.monotonic()
        done = run(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith("error: ") and fragment in done.stderr, done.stderr
        assert time.monotonic() - began < 5  # before ZenML is imported
    help_run = run("--help")
    assert help_run.returncode == 0 and help_run.stdout.startswith("usage: e2e-serve")
    for flag in ("--stage", "--host", "--port", "--poll-interval", "--model-name", "--config", "--debug"):
        assert flag in help_run.stdout
    assert "--no-cache" not in help_run.stdout


@pytest.mark.slow
def test_an_unreachable_store_exits_5_without_its_credentials(tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens there once closed
    env = cli_env() | {
        "ZENML_CONFIG_PATH": str(tmp_path / "zenml"),  # not the session's store
        "ZENML_STORE_URL": f"mysql://user:{SECRET}@127.0.0.1:{port}/zenml",
    }
    done = subprocess.run(
        [sys.executable, "-m", "e2e_inference.serve_cli", "--port", "0"],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert done.returncode == 5, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith(f"error: the ZenML store at mysql://127.0.0.1:{port}/zenml cannot be reached")
    assert SECRET not in done.stderr + done.stdout


REGRESSION_SERVE_MODEL = "inf_serve_regression"


@pytest.mark.slow
def test_a_regression_version_is_served_as_numbers_with_the_contract_checks():
    """``e2e-serve`` on a promoted regression version: a number per row, no probabilities, its task in
    /health, 400 naming a missing column."""
    import httpx
    from fixture_versions import REGRESSION_TARGET, promote_regression_version, regression_frame

    from e2e_inference.names import PREDICTION_COLUMN, PREDICTION_ID_COLUMN

    version = promote_regression_version(REGRESSION_SERVE_MODEL, stage=Stage.PRODUCTION)
    server = start_server("--model-name", REGRESSION_SERVE_MODEL, "--poll-interval", "60")
    try:
        assert server.ready_line.startswith(f"serving model '{REGRESSION_SERVE_MODEL}' version {version} ")
        health = health_of(server)
        assert tuple(health) == HEALTH_KEYS and (health["task"], health["version"]) == ("regression", version)
        rows = regression_frame(5, seed=3).drop(columns=REGRESSION_TARGET)
        answer = httpx.post(f"{server.url}/invocations", json={"dataframe_split": split_of(rows)}, timeout=30)
        assert answer.status_code == 200, answer.text
        records = answer.json()["predictions"]
        assert [list(record) for record in records] == [
            [PREDICTION_ID_COLUMN, PREDICTION_COLUMN, MODEL_NAME_COLUMN, MODEL_VERSION_COLUMN]
        ] * 5
        from zenml.client import Client

        from e2e_common.contract import MODEL, PREPROCESS_PIPELINE

        stored = Client().get_model_version(REGRESSION_SERVE_MODEL, version)
        expected = stored.get_artifact(MODEL).load().predict(stored.get_artifact(PREPROCESS_PIPELINE).load().transform(rows))
        assert [record[PREDICTION_COLUMN] for record in records] == pytest.approx(expected.tolist(), rel=1e-9)
        missing = httpx.post(
            f"{server.url}/invocations", content=rows.drop(columns=["color"]).to_csv(index=False).encode(), headers=CSV
        )
        assert (missing.status_code, missing.json()) == (
            400, {"error_code": "BAD_REQUEST", "message": "missing feature column: color"}
        )
    finally:
        assert server.stop() == 0, server.output()
