"""Pytest plugin of the e2e packages' tests: an isolated ZenML store and checkout guards.

Registered through the ``pytest11`` entry point of ``e2e-tabular-testing``, so installing the
distribution in a test environment is all it takes. It points ZenML at a fresh local store in a
temporary ``ZENML_CONFIG_PATH`` before ZenML is imported.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

RUNTIME_DISTRIBUTIONS = {
    "e2e_common": "e2e-tabular-common",
    "e2e_training": "e2e-tabular-training",
    "e2e_inference": "e2e-tabular-inference",
}
E2E_DISTRIBUTIONS = {**RUNTIME_DISTRIBUTIONS, "e2e_testing": "e2e-tabular-testing"}
ISOLATED_PACKAGE_VARIABLE = "E2E_ISOLATED_PACKAGE"
ISOLATED_PACKAGES = ("common", "training", "inference")


def isolated_zenml_environment(root: Path) -> dict[str, str]:
    """Environment variables that give ZenML (and MLflow under it) a private local store."""
    return {
        "ZENML_CONFIG_PATH": str(root / "zenml"),
        "ZENML_ANALYTICS_OPT_IN": "false",
        "ZENML_LOGGING_VERBOSITY": "WARN",
        "ZENML_ENABLE_RICH_TRACEBACK": "false",
        "ZENML_SKIP_PIPELINE_REGISTRATION": "false",
        "AUTO_OPEN_DASHBOARD": "false",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        "GIT_PYTHON_REFRESH": "quiet",
    }


def pytest_configure(config: pytest.Config) -> None:
    if "ZENML_CONFIG_PATH" in os.environ and os.environ.get("E2E_KEEP_ZENML_CONFIG") == "1":
        return
    root = Path(tempfile.mkdtemp(prefix="e2e-tests-"))
    config._e2e_store_root = root  # type: ignore[attr-defined]
    os.environ.update(isolated_zenml_environment(root))


def pytest_unconfigure(config: pytest.Config) -> None:
    root = getattr(config, "_e2e_store_root", None)
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)


def checkout_root() -> Path:
    """The monorepo root this plugin was installed from (editable install)."""
    return Path(__file__).resolve().parents[4]


def module_origin(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    return Path(spec.origin).resolve() if spec and spec.origin else None


def installed_from_checkout(module: str, root: Path) -> str | None:
    """None if ``module`` and its distribution come from ``root``, else what is wrong."""
    origin = module_origin(module)
    if origin is None:
        return f"{module} is not importable"
    if root not in origin.parents:
        return f"{module} is imported from {origin}, outside the checkout {root}"
    name = E2E_DISTRIBUTIONS[module]
    distribution = importlib.metadata.distribution(name)
    direct_url = distribution.read_text("direct_url.json")
    if not direct_url:
        return f"{name} was not installed from a local path"
    info = json.loads(direct_url)
    if not info.get("url", "").startswith("file://") or not info.get("dir_info", {}).get("editable"):
        return f"{name} is not an editable install of the checkout: {info}"
    about = importlib.import_module(f"{module}.__about__").__version__
    if distribution.version != about:
        return f"{name} is installed as version {distribution.version}, its __about__ says {about}: reinstall it"
    return None


def expected_modules(isolated: str) -> set[str]:
    """The e2e packages an isolated package env holds: its own, e2e_common and this plugin."""
    if isolated not in ISOLATED_PACKAGES:
        raise ValueError(f"{ISOLATED_PACKAGE_VARIABLE}={isolated!r}, expected one of {ISOLATED_PACKAGES}")
    return {"e2e_common", f"e2e_{isolated}", "e2e_testing"}


@pytest.fixture
def e2e_modules_from_checkout() -> list[str]:
    """The e2e packages importable here; fails the test when one comes from elsewhere.

    In an isolated package env (``E2E_ISOLATED_PACKAGE``), it also fails when the env holds any
    other runtime package than that one and ``e2e_common``.
    """
    root = checkout_root()
    present = [module for module in E2E_DISTRIBUTIONS if importlib.util.find_spec(module)]
    problems = [p for p in (installed_from_checkout(module, root) for module in present) if p]
    assert not problems, "; ".join(problems)
    isolated = os.environ.get(ISOLATED_PACKAGE_VARIABLE)
    if isolated:
        expected = expected_modules(isolated)
        assert set(present) == expected, f"env for {isolated} has {present}, expected {sorted(expected)}"
    return present


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory):
    """An S3-compatible server (moto) on 127.0.0.1 for the session, its endpoint and test credentials
    in this process's environment (``AWS_ENDPOINT_URL``, as boto3 and s3fs read it); stopped by its
    process id at the end. Skipped where moto[server] is not installed (the default env has it)."""
    from e2e_testing.objectstore import moto_server_command, start_s3_server

    if moto_server_command() is None:
        pytest.skip("moto[server] is not installed in this environment")
    server = start_s3_server(tmp_path_factory.mktemp("s3") / "moto.log")
    saved = {name: os.environ.get(name) for name in server.environment}
    os.environ.update(server.environment)
    try:
        yield server
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
