"""Runs whose steps may run on another machine (any orchestrator but the local one).

A step never gets a path of the client's disk there: a local ``--data`` file is uploaded into the
stack's artifact store before the run (``upload_input``) and the steps read it from there, or the
run is refused when the file is larger than the ``max_upload_bytes`` setting. With the local
orchestrator, local paths are read where they are, without a copy.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from e2e_common.errors import UsageError
from e2e_common.uris import is_uri, object_writer, open_binary, size_of

INPUTS_FOLDER = "e2e-inputs"
LOCAL_ORCHESTRATOR = "local"
COPY_BLOCK_BYTES = 8 << 20


def steps_run_here() -> bool:
    """Whether the active stack's orchestrator runs the steps in this process (the local one)."""
    from zenml.client import Client
    from zenml.enums import StackComponentType

    orchestrators = Client().active_stack_model.components.get(StackComponentType.ORCHESTRATOR, [])
    return [component.flavor_name for component in orchestrators] == [LOCAL_ORCHESTRATOR]


def artifact_store_root() -> str:
    from zenml.client import Client

    return str(Client().active_stack.artifact_store.path).rstrip("/")


def upload_input(path: Path, root: str, limit_bytes: int, fingerprint: str) -> str:
    """Copy the local file ``path`` to ``<root>/e2e-inputs/<fingerprint>/<name>`` (streamed; skipped when
    that object exists, same content); its URI. UsageError (exit 2) naming the setting when it is larger
    than ``limit_bytes``."""
    size = size_of(path)
    if size > limit_bytes:
        raise UsageError(
            f"{path}: {size} bytes, more than max_upload_bytes {limit_bytes} (--max-upload-bytes / "
            "E2E_MAX_UPLOAD_BYTES): the stack's orchestrator runs the steps on other machines, which cannot "
            "read a local file; put it on object storage and pass its URI (s3://...), or raise the setting"
        )
    digest = fingerprint.split(":", 1)[-1][:16]
    destination = f"{root}/{INPUTS_FOLDER}/{digest}/{path.name}"
    if is_uri(destination):
        from e2e_common.uris import filesystem

        fs, key = filesystem(destination)
        if fs.exists(key) and fs.size(key) == size:
            return destination
        with open(path, "rb") as source, object_writer(destination) as sink:
            shutil.copyfileobj(source, sink, COPY_BLOCK_BYTES)
        return destination
    target = Path(destination)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not (target.exists() and target.stat().st_size == size):
        with open_binary(path) as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink, COPY_BLOCK_BYTES)
    return destination


def input_for_steps(data, limit_bytes: int, say: Callable[[str], None]):
    """``data`` as the steps can read it: itself when the steps run here or it is a URI; else the URI of
    its copy in the artifact store, which is said."""
    if data is None or is_uri(data) or steps_run_here():
        return data
    from e2e_common.data import file_fingerprint

    uploaded = upload_input(Path(data), artifact_store_root(), limit_bytes, file_fingerprint(data))
    say(f"Uploaded {data} to {uploaded}: the stack's orchestrator runs the steps elsewhere, and they read it there")
    return uploaded
