"""The Docker image of each pipeline, as ZenML's image builder would install it (nothing is built).

Each image holds e2e-common and its own team's package at the client's versions, never the other
team's package, plus the extras of the URIs a run reads (``s3`` for ``s3://``).
"""

from __future__ import annotations

from importlib.metadata import version

import pytest


def requirements(settings) -> list[str]:
    """Every requirement line of the files ZenML's image builder writes for ``settings`` on the active stack."""
    from zenml.client import Client
    from zenml.utils.pipeline_docker_image_builder import PipelineDockerImageBuilder

    files = PipelineDockerImageBuilder.gather_requirements_files(settings, Client().active_stack, log=False)
    return [line.strip() for _, content, _ in files for line in content.splitlines() if line.strip() and not line.startswith("#")]


def pipeline_docker_settings(pipeline) -> object:
    from e2e_common.images import DOCKER_SETTINGS_KEY

    return pipeline.configuration.settings[DOCKER_SETTINGS_KEY]


@pytest.mark.parametrize(
    ("module", "own", "other"),
    [
        ("e2e_training.pipelines:training_pipeline", "e2e-tabular-training", "e2e-tabular-inference"),
        ("e2e_inference.pipelines:inference_pipeline", "e2e-tabular-inference", "e2e-tabular-training"),
    ],
)
def test_each_image_installs_common_and_its_own_package_at_the_client_versions(module, own, other):
    import importlib

    from zenml.config import DockerSettings

    name, attribute = module.split(":")
    pipeline = getattr(importlib.import_module(name), attribute)
    settings = DockerSettings.model_validate(pipeline_docker_settings(pipeline))
    lines = requirements(settings)
    assert f"e2e-tabular-common=={version('e2e-tabular-common')}" in lines
    assert f"{own}=={version(own)}" in lines
    assert not [line for line in lines if line.startswith(other)], lines
    assert settings.disable_automatic_requirements_detection and settings.install_stack_requirements


def test_an_s3_uri_adds_the_s3_extra_to_the_image():
    from e2e_common.images import INFERENCE_DISTRIBUTION, docker_settings, extras_of

    extras = extras_of(["s3://lake/batch.parquet", None, "/tmp/local.csv"])
    assert extras == ["s3"]
    lines = requirements(docker_settings(INFERENCE_DISTRIBUTION, extras))
    assert f"e2e-tabular-common[s3]=={version('e2e-tabular-common')}" in lines
    assert f"e2e-tabular-inference[s3]=={version('e2e-tabular-inference')}" in lines
