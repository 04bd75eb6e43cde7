"""What the Docker image of each pipeline installs, for orchestrators that run steps in containers.

The training image holds ``e2e-tabular-common`` and ``e2e-tabular-training``, the inference image
``e2e-tabular-common`` and ``e2e-tabular-inference``: never the other team's package. Both are pinned
to the versions the client runs (from its installed distributions), with the extras of the URIs the
run reads and writes (``s3``, ``gcs``, ``azure``); ZenML adds what the stack's integrations need
(``install_stack_requirements``, e.g. s3fs and boto3 for an S3 artifact store, MLflow). Automatic
detection of other requirements (a ``pyproject.toml`` or ``requirements.txt`` where the CLI runs) is
off: the image is the same whatever folder a run starts from. The packages come from the team's
package index (``pip`` in the parent image, or ``PIP_INDEX_URL`` / ``PIP_EXTRA_INDEX_URL`` at build).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version

from e2e_common.uris import EXTRAS, uri_scheme

COMMON_DISTRIBUTION = "e2e-tabular-common"
TRAINING_DISTRIBUTION = "e2e-tabular-training"
INFERENCE_DISTRIBUTION = "e2e-tabular-inference"
DOCKER_SETTINGS_KEY = "docker"


def installed_version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        from e2e_common.__about__ import __version__

        return __version__ if distribution == COMMON_DISTRIBUTION else "0"


def extras_of(locations: Iterable[object]) -> list[str]:
    """The extras whose filesystems the URIs among ``locations`` need (``s3://`` -> ``s3``), sorted."""
    return sorted({EXTRAS[scheme] for scheme in map(uri_scheme, locations) if scheme in EXTRAS})


def image_requirements(distribution: str, extras: Iterable[str] = ()) -> list[str]:
    """``e2e-tabular-common`` and ``distribution`` pinned to the client's versions, with ``extras``."""
    chosen = sorted(set(extras))
    suffix = f"[{','.join(chosen)}]" if chosen else ""
    return [
        f"{COMMON_DISTRIBUTION}{suffix}=={installed_version(COMMON_DISTRIBUTION)}",
        f"{distribution}{suffix}=={installed_version(distribution)}",
    ]


def docker_settings(distribution: str, extras: Iterable[str] = ()):
    """ZenML ``DockerSettings`` of the image that runs ``distribution``'s pipeline steps."""
    from zenml.config import DockerSettings

    return DockerSettings(
        requirements=image_requirements(distribution, extras),
        install_stack_requirements=True,
        disable_automatic_requirements_detection=True,
    )
