"""The drift report of a refused run, as the ZenML dashboard shows it in a real browser.

The dashboard shows HTML in a sandboxed iframe where Evidently's scripts never run, so the report's
first visualization is a Markdown summary. This test starts ZenML's own server (``zenml[server]``,
the app ``zenml login --local`` runs, started here with uvicorn directly) on the test session's
SQLite store, opens the refused run's page in headless Chromium, opens the ``drift_report``
artifact version from the run's graph, and reads the rendered table.

It needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) and Selenium (in
the inference test env). Without them it is skipped, unless ``E2E_REQUIRE_BROWSER=1`` (CI), where it
fails. ``E2E_DASHBOARD_SCREENSHOT=FILE.png`` keeps a screenshot of the rendered summary.
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
from pathlib import Path

import pytest
from fixture_versions import categorical_frame

from e2e_common.errors import QualityGateError
from e2e_inference.cli import run_inference
from e2e_inference.names import DRIFT_REPORT, METADATA_DRIFT
from e2e_inference.settings import InferenceSettings

pytestmark = pytest.mark.slow  # a pipeline, a server and a browser

SERVER_START_TIMEOUT = 120  # seconds; about 6 s on an idle machine
PAGE_TIMEOUT = 60
DRIFTED = {"size", "weight", "color"}  # what refused_run plants; "fragile" is left alone


def missing_browser(reason: str) -> None:
    """Skip, or fail where the browser is required (CI sets E2E_REQUIRE_BROWSER=1)."""
    if os.environ.get("E2E_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (E2E_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM the process by its id, SIGKILL it if it is still there after ``timeout``."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout)


@pytest.fixture(scope="module")
def refused_run(categorical_version, tmp_path_factory) -> dict:
    """An inference run refused by the drift gate: three of four columns moved, ``fragile`` not."""
    from zenml.client import Client

    rows = categorical_frame(rows=200, seed=5).drop(columns="label")
    rows["size"] += 20
    rows["weight"] *= 3
    rows["color"] = "red"
    path = tmp_path_factory.mktemp("dashboard") / "drifted.csv"
    rows.to_csv(path, index=False)
    with pytest.raises(QualityGateError, match="drift check refused"):
        run_inference(
            InferenceSettings.from_cli(["--model-name", categorical_version, "--data", str(path)]),
            say=lambda _: None,
        )
    run = Client().list_pipeline_runs(sort_by="desc:created", size=1).items[0]
    assert run.status == "failed"
    (report,) = run.steps[DRIFT_REPORT].outputs[DRIFT_REPORT]
    columns = report.run_metadata[METADATA_DRIFT]["columns"]
    drifted = {name for name, column in columns.items() if column["drifted"]}
    assert drifted == DRIFTED
    return {"run_id": str(run.id), "artifact_version_id": str(report.id), "drifted": drifted}


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory):
    """ZenML's server on 127.0.0.1 (a free port) over the session's SQLite store; stopped by pid.

    Configured as ``zenml login --local`` configures its daemon: no authentication (the dashboard
    acts as the store's default user), local artifact files readable, no database migration. The
    server keeps its own config directory so that it never rewrites the tests' client config.
    """
    from zenml.client import Client
    from zenml.config.global_config import GlobalConfiguration

    client = Client()
    store_url = client.zen_store.config.url
    assert store_url.startswith("sqlite:///"), store_url
    # The dashboard sends a user who has not answered its onboarding survey to the survey first.
    client.update_user(
        client.active_user.id,
        updated_email_opt_in=False,
        updated_metadata={"finished_onboarding_survey": True},
    )

    root = tmp_path_factory.mktemp("zenml-server")
    port = free_port()
    env = os.environ | {
        "ZENML_CONFIG_PATH": str(root / "config"),
        "ZENML_STORE_URL": store_url,
        # A local artifact store without an explicit path lives under the local stores path: the
        # client's, or the server finds no files ("... does not exist in artifact store").
        "ZENML_LOCAL_STORES_PATH": GlobalConfiguration().local_stores_path,
        "ZENML_SERVER": "true",
        "ZENML_SERVER_AUTH_SCHEME": "NO_AUTH",
        "ZENML_SERVER_DEPLOYMENT_TYPE": "local",
        "ZENML_SERVER_AUTO_ACTIVATE": "true",
        "ZENML_SERVER_ALLOW_LOCAL_FILE_ACCESS": "true",
        "ZENML_DISABLE_DATABASE_MIGRATION": "true",
        "ZENML_ANALYTICS_OPT_IN": "false",
    }
    log_path = root / "server.log"
    command = [sys.executable, "-m", "uvicorn", "zenml.zen_server.zen_server_api:app", "--host", "127.0.0.1"]
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"ZenML server exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"ZenML server not healthy after {SERVER_START_TIMEOUT} s:\n{log_path.read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield url
    finally:
        stop_process(server)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium of the system (Debian's chromium, chromium-driver) under Selenium; quit by pid.

    The test asks for it first, so that a missing browser skips before any pipeline runs.
    """
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        missing_browser(
            "needs Chromium and chromedriver on PATH: apt-get install -y chromium chromium-driver"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing_browser("needs selenium (the inference test env has it: hatch run inference.py3.11:test)")

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,1000"):
        options.add_argument(argument)
    # An explicit driver path: Selenium Manager never tries to download a browser or a driver.
    service = Service(executable_path=chromedriver)
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        try:
            driver.quit()  # closes Chromium, then stops chromedriver
        finally:
            if getattr(service, "process", None) is not None:
                stop_process(service.process)


def drift_summary_in_dashboard(browser, dashboard_url: str, run_id: str, artifact_version_id: str, screenshot: Path):
    """Open the run's page, its ``drift_report`` from the run's graph, and the first visualization (the
    Markdown summary); the sheet's text and the first table's header and rows, as rendered."""
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        TimeoutException,
    )
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # The dashboard re-renders as its queries answer: an element found a moment ago may be gone.
    ignored = (NoSuchElementException, StaleElementReferenceException)
    wait = WebDriverWait(browser, PAGE_TIMEOUT, ignored_exceptions=ignored)

    def drift_report_node():
        for node in browser.find_elements(By.CSS_SELECTOR, ".react-flow__node-artifact"):
            if node.text.splitlines()[:1] == [DRIFT_REPORT]:
                return node.find_element(By.TAG_NAME, "button")
        return None

    def summary_or_confirmation():
        # The dashboard asks before it renders a visualization ("Load Preview"), unless already confirmed.
        tables = sheet.find_elements(By.TAG_NAME, "table")
        buttons = sheet.find_elements(By.XPATH, './/button[normalize-space()="Load Preview"]')
        return tables or buttons

    try:
        # The OSS dashboard has no page of its own for an artifact version: it opens in a sheet of
        # the producing run's page, from the run's graph.
        browser.get(f"{dashboard_url}/projects/default/runs/{run_id}")
        wait.until(lambda _: drift_report_node()).click()
        sheet = wait.until(lambda _: browser.find_element(By.CSS_SELECTOR, '[role="dialog"]'))
        wait.until(lambda _: artifact_version_id in sheet.text)
        sheet.find_element(By.XPATH, './/button[normalize-space()="Visualization"]').click()
        found = wait.until(lambda _: summary_or_confirmation())
        if found[0].tag_name == "button":
            found[0].click()
        table = wait.until(lambda _: sheet.find_element(By.TAG_NAME, "table"))
        text = sheet.text
        headers = [cell.text for cell in table.find_elements(By.CSS_SELECTOR, "thead th")]
        rows = [
            [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")
        ]
        browser.save_screenshot(str(screenshot))
    except TimeoutException as error:
        browser.save_screenshot(str(screenshot))
        raise AssertionError(f"dashboard did not show the drift summary; screenshot: {screenshot}") from error
    if os.environ.get("E2E_DASHBOARD_SCREENSHOT"):
        kept = Path(os.environ["E2E_DASHBOARD_SCREENSHOT"])
        shutil.copyfile(screenshot, kept.with_name(f"{kept.stem}_{screenshot.stem}{kept.suffix}"))
    return text, headers, rows


def test_dashboard_shows_drift_summary_of_refused_run(browser, refused_run, dashboard_url, tmp_path):
    text, headers, rows = drift_summary_in_dashboard(
        browser, dashboard_url, refused_run["run_id"], refused_run["artifact_version_id"], tmp_path / "drift_report.png"
    )
    # The first visualization is the Markdown summary, rendered (a real table, not pipes in text).
    assert "summary.md" in text
    assert "Drift check: Refused" in text, text
    for column in refused_run["drifted"]:
        assert column in text
    assert headers[:5] == ["column", "test", "statistic", "threshold", "drifted"], headers
    assert {row[0]: row[4] for row in rows} == {
        "size": "yes",
        "weight": "yes",
        "color": "yes",
        "fragile": "no",
    }


def test_dashboard_shows_the_prediction_part_of_a_regression_s_drift_report(
    browser, regression_version, dashboard_url, tmp_path
):
    """A regression's drift summary ends with its predictions against those on the holdout, also when
    the gate refused the rows (the run's graph then fits the first view, as the refused run's above)."""
    from fixture_versions import REGRESSION_TARGET, regression_frame
    from zenml.client import Client

    path = tmp_path / "shifted.csv"
    rows = regression_frame(120, seed=9).drop(columns=REGRESSION_TARGET)
    rows["size"] += 8  # outside the training range: the feature gate refuses
    rows.to_csv(path, index=False)
    with pytest.raises(QualityGateError, match="drift check refused"):
        run_inference(InferenceSettings.from_cli(["--model-name", regression_version, "--data", str(path)]), say=lambda _: None)
    run = Client().list_pipeline_runs(sort_by="desc:created", size=1).items[0]
    (report,) = run.steps[DRIFT_REPORT].outputs[DRIFT_REPORT]
    assert report.run_metadata[METADATA_DRIFT]["prediction_drift"]["method"]
    text, _, _ = drift_summary_in_dashboard(
        browser, dashboard_url, str(run.id), str(report.id), tmp_path / "regression_drift_report.png"
    )
    assert "Drift check: Refused" in text, text
    assert "Predictions against the holdout (not part of the gate)" in text, text


def test_connected_to_a_server_the_summary_links_the_run_in_the_dashboard(default_version, dashboard_url, tmp_path):
    """e2e-infer as a client of the ZenML server: its ``Run:`` line ends with the run's dashboard page."""
    from inference_helpers import E2E_INFER
    from zenml.config.global_config import GlobalConfiguration

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {
        "ZENML_CONFIG_PATH": str(tmp_path / "client"),
        "ZENML_STORE_URL": dashboard_url,
        # The server's local artifact store is a folder on this machine: the client writes there too.
        "ZENML_LOCAL_STORES_PATH": GlobalConfiguration().local_stores_path,
    }
    done = subprocess.run(
        [str(E2E_INFER), "--model-name", default_version], capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    run_line = next(line for line in done.stdout.splitlines() if line.startswith("Run: "))
    run_name, url = run_line.removeprefix("Run: ").split(" ")
    from zenml.client import Client

    run = Client().get_pipeline_run(run_name)
    assert url == f"{dashboard_url}/projects/default/runs/{run.id}"
    with urllib.request.urlopen(url, timeout=10) as page:
        assert page.status == 200
