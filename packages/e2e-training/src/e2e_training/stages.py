"""A stage move as one operation: the MLflow alias, the Model Control Plane stage, the history record.

The Model Control Plane stage is the truth (inference and serving read it); the MLflow alias follows
it. A move writes the alias first and the stage second, so a process that dies between the two
leaves the alias ahead of the stage: the next ``e2e-models`` command or ``e2e-train`` run puts the
alias back where the stage is (the move did not happen) and says so. Every move is recorded in the
metadata ``stage_moves`` of the version that came to the stage.

Moves of one stage are serialized by a lock file in the ZenML configuration directory, so two
trainings that finish at once on one machine compare with each other's result, never with a
stale one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from e2e_common.errors import UnavailableError
from e2e_common.registry import version_at_stage_or_none
from e2e_training import registry
from e2e_training.names import METADATA_MLFLOW_REGISTRY_VERSION, METADATA_PROMOTION, METADATA_STAGE_MOVES

LOCK_TIMEOUT_SECONDS = 300.0

# Why a version came to a stage.
TRAINING = "training"  # e2e-train's promotion decision
PROMOTE = "promote"  # e2e-models promote
ROLLBACK = "rollback"  # e2e-models rollback
FOUND = "found"  # at the stage without a recorded move: the zenml CLI, the dashboard, an interrupted move


@dataclass(frozen=True)
class StageMove:
    """One move of a stage: when, which version came and which left, and why."""

    at: str
    stage: str
    came: int | None  # None: the stage was left empty
    left: int | None
    kind: str
    why: str

    def as_metadata(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_metadata(cls, data: dict[str, Any]) -> StageMove:
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__})


def now() -> str:
    """The current time as recorded in moves: ISO 8601 in UTC, sortable as text."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def lock_path(model_name: str, stage: str) -> Path:
    from zenml.config.global_config import GlobalConfiguration

    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", model_name)
    return Path(GlobalConfiguration().config_directory) / "e2e-stage-locks" / f"{safe}.{stage}.lock"


@contextmanager
def stage_lock(model_name: str, stage: str, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold the lock of one stage of one model; UnavailableError (exit 5) when another process keeps it."""
    from filelock import FileLock, Timeout

    path = lock_path(model_name, stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(path), timeout=timeout):
            yield
    except Timeout as exc:
        raise UnavailableError(
            f"stage '{stage}' of model '{model_name}' has been locked by another process for {timeout:.0f} s "
            f"(lock file {path}); retry when it has finished"
        ) from exc


def registry_version_of(version: Any) -> str | None:
    recorded = version.run_metadata.get(METADATA_MLFLOW_REGISTRY_VERSION)
    return None if recorded is None else str(recorded)


def all_versions(model_name: str) -> list[Any]:
    """Every version of the model, oldest first."""
    from zenml.client import Client

    client = Client()
    versions: list[Any] = []
    page = 1
    while True:
        listed = client.list_model_versions(model_name, page=page, size=100, sort_by="asc:number", hydrate=True)
        versions.extend(listed.items)
        if page >= listed.total_pages:
            return versions
        page += 1


def moves_of(version: Any) -> list[StageMove]:
    """The moves that brought ``version`` to a stage; for a version promoted before moves were
    recorded, the one its training's promotion decision made."""
    metadata = version.run_metadata
    recorded = metadata.get(METADATA_STAGE_MOVES)
    if recorded:
        return [StageMove.from_metadata(move) for move in recorded]
    decision = metadata.get(METADATA_PROMOTION)
    if isinstance(decision, dict) and decision.get("promoted"):
        at = version.created.replace(tzinfo=version.created.tzinfo or timezone.utc).isoformat(timespec="microseconds")
        return [
            StageMove(at, decision["stage"], version.number, decision.get("current_version"), TRAINING, decision["reason"])
        ]
    return []


def history(model_name: str, versions: list[Any] | None = None) -> list[StageMove]:
    """Every recorded stage move of the model, oldest first."""
    moves = [move for version in (versions or all_versions(model_name)) for move in moves_of(version)]
    return sorted(moves, key=lambda move: move.at)


def last_move_into(moves: list[StageMove], stage: str) -> StageMove | None:
    into = [move for move in moves if move.stage == stage]
    return into[-1] if into else None


def record(model_name: str, version: Any, move: StageMove) -> None:
    """Append ``move`` to the version's ``stage_moves`` metadata (under the stage lock)."""
    from zenml import log_metadata
    from zenml.client import Client

    current = Client().get_model_version(model_name, version.number)
    moves = list(current.run_metadata.get(METADATA_STAGE_MOVES) or [])
    log_metadata(
        metadata={METADATA_STAGE_MOVES: [*moves, move.as_metadata()]},
        model_name=model_name,
        model_version=str(version.number),
    )


def repair(model_name: str, stage: str, strict: bool = True) -> list[str]:
    """Make the stage's MLflow alias and history agree with the Model Control Plane (under the lock).

    Returns one line per repair. When the stage's version records an MLflow registry version that the
    registry does not hold (a reset registry, or a stack pointing at another tracking store, which only
    the user can put right): UnavailableError (exit 5), or with ``strict`` off a line saying so, for a
    move that is about to replace that version.
    """
    repairs: list[str] = []
    current = version_at_stage_or_none(model_name, stage)
    expected = registry_version_of(current) if current is not None else None
    # A version trained without a model registry in the stack has no alias to keep.
    unregistered = current is not None and expected is None
    state = None if unregistered else registry.alias_state(model_name, stage, expected, getattr(current, "number", None))
    if state is not None and not state.agrees:
        if expected is not None and not state.expected_exists:
            problem = (
                f"version {current.number} of model '{model_name}' at stage '{stage}' records MLflow registry "
                f"version {expected}, which the MLflow registry at {state.tracking_uri} does not hold (or holds "
                "another model under that number): the registry was reset, or the stack's experiment tracker points "
                "at another store"
            )
            if strict:
                raise UnavailableError(
                    f"{problem}. Point the tracker back at the store that holds it, or replace the version at the "
                    f"stage: e2e-train --promotion latest, or e2e-models promote VERSION --to {stage} with a version "
                    "registered in this registry"
                )
            return [f"{problem}; this move replaces it"]
        registry.point_alias(model_name, stage, expected)
        holder = f"version {current.number} (registry version {expected})" if current is not None else "no version"
        repairs.append(
            f"MLflow alias '{state.alias}' pointed at registry version {state.aliased_version or 'nothing'} while stage "
            f"'{stage}' holds {holder}; the alias now points at {expected or 'nothing'} (a stage move was "
            "interrupted, or the alias or stage was changed outside e2e-models)"
        )
    if current is not None:
        last = last_move_into(history(model_name), stage)
        if last is None or last.came != current.number:
            record(
                model_name,
                current,
                StageMove(
                    now(), stage, current.number, last.came if last else None, FOUND,
                    f"version {current.number} was found at stage '{stage}' without a recorded move (moved with the "
                    "zenml CLI or the dashboard, or by a move interrupted before it was recorded)",
                ),
            )
            repairs.append(f"recorded in the history that version {current.number} holds stage '{stage}'")
    return repairs


def move(model_name: str, version: Any, stage: str, kind: str, why: str) -> StageMove:
    """Move ``stage`` to ``version``: the alias, then the stage, then the record (under the lock).

    A version holds one stage at a time: one that leaves another stage for this one (the usual
    staging-to-production step) leaves that stage empty, and its alias is removed too.
    """
    from e2e_common.contract import Stage

    previous = version_at_stage_or_none(model_name, stage)
    registry_version = registry_version_of(version)
    if registry_version is not None and not registry.holds(model_name, registry_version, version.number):
        raise UnavailableError(
            f"version {version.number} of model '{model_name}' records MLflow registry version {registry_version}, "
            "which the stack's MLflow registry does not hold (or holds another model under that number); point the "
            "experiment tracker at the store it was registered in, or promote a version registered in this one"
        )
    left_stage = version.stage if version.stage in {s.value for s in Stage} and version.stage != stage else None
    registry.point_alias(model_name, stage, registry_version)
    version.set_stage(stage, force=True)
    moved = StageMove(now(), stage, version.number, previous.number if previous is not None else None, kind, why)
    record(model_name, version, moved)
    if left_stage is not None:
        registry.point_alias(model_name, left_stage, None)
        emptied = StageMove(
            now(), left_stage, None, version.number, kind, f"version {version.number} moved on to stage '{stage}'"
        )
        record(model_name, version, emptied)
    return moved
