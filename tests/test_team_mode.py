"""Team mode: a ZenML server and an MLflow tracking server on 127.0.0.1, shared by the training
team's environment and the inference team's environment, as README's "Team mode" sets them up.

The servers are started here on free ports and stopped by process id at the end (also on failure).
``e2e-train`` runs from the ``team-training`` hatch environment and ``e2e-infer`` from
``team-inference``: each holds one side only. The model version at the stage is all they share.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # two servers and the CLIs as subprocesses

ROOT = Path(__file__).resolve().parents[1]
TINY_SEARCH = ROOT / "tests" / "tiny_search.yaml"
SERVER_START_TIMEOUT = 240
ADMIN, ADMIN_PASSWORD = "admin", "e2e-admin-password"
SERVICE_ACCOUNT = "e2e-teams"
STACK = "team_stack"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def side_bin(environment: str) -> Path:
    """The bin folder of a team's hatch environment (``.ci/run`` creates them)."""
    found = subprocess.run(["hatch", "env", "find", environment], cwd=ROOT, capture_output=True, text=True)
    path = Path(found.stdout.strip()) / "bin"
    assert found.returncode == 0 and path.is_dir(), f"run: hatch env create {environment} ({found.stderr.strip()})"
    return path


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=3) as answer:
            return answer.status == 200
    except (OSError, urllib.error.URLError):
        return False


@dataclass
class Server:
    """A server process started by the test, stopped by its process id (and its group)."""

    name: str
    command: list[str]
    url: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if healthy(self.url):
                return
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.5)
        raise AssertionError(f"{self.name} did not answer at {self.url}:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


@dataclass
class Team:
    """Both servers, and the environment variables of each side (README's "Team mode")."""

    zenml: Server
    mlflow: Server
    root: Path
    training_env: dict[str, str] = field(default_factory=dict)
    inference_env: dict[str, str] = field(default_factory=dict)

    def run(self, side: str, program: str, *args: str, env: dict[str, str] | None = None, timeout: float = 600):
        bin_folder = side_bin("team-training" if side == "training" else "team-inference")
        base = self.training_env if side == "training" else self.inference_env
        return subprocess.run(
            [str(bin_folder / program), *args], cwd=self.root, env={**base, **(env or {})},
            capture_output=True, text=True, timeout=timeout,
        )


def clean_environment(root: Path, name: str) -> dict[str, str]:
    """A process environment without the test session's ZenML settings, with its own client config."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ZENML_", "MLFLOW_", "E2E_"))}
    env.update(
        ZENML_CONFIG_PATH=str(root / f"{name}-client"), ZENML_ANALYTICS_OPT_IN="false",
        ZENML_ENABLE_RICH_TRACEBACK="false", AUTO_OPEN_DASHBOARD="false",
    )
    return env


def zenml_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("zenml")), *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"zenml {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    root = tmp_path_factory.mktemp("team")
    artifacts = root / "artifacts"
    artifacts.mkdir()
    zenml_port, mlflow_port = free_port(), free_port()
    zenml_url, mlflow_url = f"http://127.0.0.1:{zenml_port}", f"http://127.0.0.1:{mlflow_port}"
    server_env = clean_environment(root, "server") | {
        "ZENML_STORE_URL": f"sqlite:///{root / 'zenml-server.db'}",
        "ZENML_SERVER_AUTO_ACTIVATE": "true",
        "ZENML_DEFAULT_USER_NAME": ADMIN,
        "ZENML_DEFAULT_USER_PASSWORD": ADMIN_PASSWORD,
        "ZENML_SERVER_JWT_SECRET_KEY": "e2e-team-mode-test-secret",
        "ZENML_SERVER_DEPLOYMENT_TYPE": "other",
        "ZENML_SERVER_ALLOW_LOCAL_FILE_ACCESS": "true",
    }
    bin_folder = Path(sys.executable).parent
    zenml = Server(
        "ZenML server",
        [str(bin_folder / "uvicorn"), "zenml.zen_server.zen_server_api:app", "--host", "127.0.0.1", "--port", str(zenml_port)],
        zenml_url, server_env, root / "zenml-server.log",
    )
    mlflow = Server(
        "MLflow tracking server",
        [str(bin_folder / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--artifacts-destination", str(root / "mlflow-artifacts"), "--serve-artifacts",
         "--host", "127.0.0.1", "--port", str(mlflow_port), "--workers", "1"],
        mlflow_url, clean_environment(root, "mlflow"), root / "mlflow-server.log",
    )
    team = Team(zenml, mlflow, root)
    try:
        for server in (zenml, mlflow):
            server.start()
        for server in (zenml, mlflow):
            server.wait_healthy()
        admin = clean_environment(root, "admin") | {
            "ZENML_STORE_URL": zenml_url, "ZENML_STORE_USERNAME": ADMIN, "ZENML_STORE_PASSWORD": ADMIN_PASSWORD,
        }
        key_file = root / "service-account.key"
        zenml_cli(admin, "service-account", "create", SERVICE_ACCOUNT, "--output-file", str(key_file))
        zenml_cli(admin, "artifact-store", "register", "team_artifacts", "--flavor", "local", f"--path={artifacts}")
        zenml_cli(
            admin, "experiment-tracker", "register", "team_mlflow", "--flavor", "mlflow",
            f"--tracking_uri={mlflow_url}", "--tracking_username=teams", "--tracking_password=unused",
        )
        zenml_cli(admin, "model-registry", "register", "team_registry", "--flavor", "mlflow")
        zenml_cli(admin, "stack", "register", STACK, "-o", "default", "-a", "team_artifacts", "-e", "team_mlflow",
                  "-r", "team_registry")
        key = key_file.read_text().strip()
        for name in ("training", "inference"):
            side = clean_environment(root, name) | {"ZENML_STORE_URL": zenml_url, "ZENML_STORE_API_KEY": key}
            subprocess.run([str(side_bin(f"team-{name}") / "zenml"), "stack", "set", STACK], env=side,
                           capture_output=True, text=True, timeout=300, check=True)
            setattr(team, f"{name}_env", side)
        yield team
    finally:
        zenml.stop()
        mlflow.stop()


def mlflow_get(team: Team, path: str) -> dict:
    with urllib.request.urlopen(f"{team.mlflow.url}/api/2.0/mlflow/{path}", timeout=10) as answer:
        return json.loads(answer.read())


def mlflow_post(team: Team, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{team.mlflow.url}/api/2.0/mlflow/{path}", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def printed(result: subprocess.CompletedProcess, label: str) -> str:
    line = next(line for line in result.stdout.splitlines() if line.startswith(f"{label}:"))
    return line.split(":", 1)[1].strip()


SHOW_PREDICTIONS = """
from zenml.client import Client
version = Client().get_model_version("e2e_use_case", "staging")
links = Client().list_model_version_artifact_links(model_version_id=version.id, size=100).items
predictions = [link.artifact_version for link in links if link.artifact_version.artifact.name == "predictions"]
print(version.number, len(predictions), len(predictions[-1].load()))
"""


@pytest.fixture(scope="module")
def trained_and_scored(team):
    trained = team.run("training", "e2e-train", "--config", str(TINY_SEARCH))
    assert trained.returncode == 0, trained.stdout + trained.stderr
    output = team.root / "predictions.csv"
    scored = team.run("inference", "e2e-infer", "--output", str(output))
    assert scored.returncode == 0, scored.stdout + scored.stderr
    return trained, scored, pd.read_csv(output)


def test_each_side_holds_only_its_own_package():
    training = side_bin("team-training")
    inference = side_bin("team-inference")
    assert (training / "e2e-train").exists() and not (training / "e2e-infer").exists()
    assert (inference / "e2e-infer").exists() and not (inference / "e2e-train").exists()


def test_inference_scores_with_the_version_training_promoted(team, trained_and_scored):
    trained, scored, predictions = trained_and_scored
    assert printed(trained, "Model version") == "e2e_use_case version 1 at stage 'staging'"
    assert "Run:" in trained.stdout and team.zenml.url in trained.stdout
    assert printed(trained, "MLflow UI") == f"open {team.mlflow.url}"
    assert "Scored 28 rows with model 'e2e_use_case' version 1 (stage 'staging')" in scored.stdout
    assert set(predictions["model_version"].astype(str)) == {"1"}

    aliased = mlflow_get(team, "registered-models/alias?name=e2e_use_case&alias=staging")["model_version"]
    assert aliased["version"] == "1" and aliased["description"] == "ZenML model 'e2e_use_case' version 1"
    experiments = mlflow_get(team, "experiments/get-by-name?experiment_name=e2e_training")["experiment"]
    runs = mlflow_post(team, "runs/search", {"experiment_ids": [experiments["experiment_id"]]})["runs"]
    assert aliased["run_id"] in {run["info"]["run_id"] for run in runs}

    script = team.root / "show_predictions.py"
    script.write_text(SHOW_PREDICTIONS)
    seen = team.run("training", "python", str(script), timeout=180)
    assert seen.returncode == 0, seen.stdout + seen.stderr
    assert seen.stdout.split()[-3:] == ["1", "1", "28"]  # version 1, one predictions artifact, 28 rows


def test_a_server_restart_loses_nothing(team, trained_and_scored):
    _, _, before = trained_and_scored
    for server in (team.zenml, team.mlflow):
        server.stop()
    for server in (team.zenml, team.mlflow):
        server.start()
    for server in (team.zenml, team.mlflow):
        server.wait_healthy()
    output = team.root / "after-restart.csv"
    scored = team.run("inference", "e2e-infer", "--output", str(output))
    assert scored.returncode == 0, scored.stdout + scored.stderr
    after = pd.read_csv(output)
    pd.testing.assert_frame_equal(before, after)
    aliased = mlflow_get(team, "registered-models/alias?name=e2e_use_case&alias=staging")["model_version"]
    assert aliased["version"] == "1"


def test_wrong_credentials_name_the_setting(team, trained_and_scored):
    started = time.monotonic()
    refused = team.run("inference", "e2e-infer", env={"ZENML_STORE_API_KEY": "not-a-key"}, timeout=120)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "ZENML_STORE_API_KEY" in lines[0] and "refused this client's credentials" in lines[0]
    assert time.monotonic() - started < 60


def test_two_trainings_at_once_end_at_the_better_version_with_both_decisions(team, trained_and_scored):
    import yaml

    stump = team.root / "stump.yaml"

    config = yaml.safe_load(TINY_SEARCH.read_text())
    config["no_hp_tuning_model"] = {"estimator": "sklearn.tree.DecisionTreeClassifier", "params": {"max_depth": 1}}
    stump.write_text(yaml.safe_dump(config))
    results: dict[str, subprocess.CompletedProcess] = {}
    runs = [
        threading.Thread(target=lambda: results.__setitem__(
            "good", team.run("training", "e2e-train", "--config", str(TINY_SEARCH))
        )),
        threading.Thread(target=lambda: results.__setitem__(
            "stump", team.run("training", "e2e-train", "--config", str(stump), "--no-hp-tuning")
        )),
    ]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    for result in results.values():
        assert result.returncode == 0, result.stdout + result.stderr
    history = team.run("training", "e2e-models", "history", "--json", timeout=180)
    moves = json.loads(history.stdout)["result"]
    status = json.loads(team.run("training", "e2e-models", "status", "--json", timeout=180).stdout)["result"]
    staging = next(stage for stage in status if stage["stage"] == "staging")
    stump_version = int(printed(results["stump"], "Model version").split()[2])
    assert staging["version"] != stump_version and staging["alias_agrees"] is True
    decisions = {int(printed(r, "Model version").split()[2]): printed(r, "Promotion") for r in results.values()}
    assert decisions[stump_version].startswith("not promoted to staging")
    assert [move["came"] for move in moves if move["stage"] == "staging"][-1] == staging["version"]


def test_servers_down_are_exit_5_within_seconds(team, trained_and_scored):
    team.mlflow.stop()
    try:
        started = time.monotonic()
        trained = team.run("training", "e2e-train", "--config", str(TINY_SEARCH), timeout=180)
        elapsed = time.monotonic() - started
        assert trained.returncode == 5, trained.stdout + trained.stderr
        line = trained.stderr.strip()
        assert len(line.splitlines()) == 1 and f"the MLflow tracking server at {team.mlflow.url}" in line
        assert elapsed < 60 and "step " not in trained.stdout  # refused before any step ran
    finally:
        team.mlflow.start()
        team.mlflow.wait_healthy()
    team.zenml.stop()
    try:
        started = time.monotonic()
        scored = team.run("inference", "e2e-infer", timeout=180)
        assert scored.returncode == 5, scored.stdout + scored.stderr
        assert len(scored.stderr.strip().splitlines()) == 1 and team.zenml.url in scored.stderr
        assert time.monotonic() - started < 60
    finally:
        team.zenml.start()
        team.zenml.wait_healthy()
