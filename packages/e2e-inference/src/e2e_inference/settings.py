"""Settings of ``e2e-infer``: one declaration per option, grouped in the sections the pipeline receives.

CLI flag > ``E2E_`` environment variable > ``--config`` YAML file > default.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator

from e2e_common.contract import Stage, StageName
from e2e_common.settings import E2ESettings, Section


class InputOptions(Section):
    """The rows to score and how they are read."""

    data: Path | None = Field(
        None, description="CSV or Parquet file of rows to score; none: the held-out slice of the default data"
    )
    id_column: str | None = Field(
        None, min_length=1, description="column of --data passed through as the id; none: the row number"
    )
    chunk_size: int = Field(100_000, ge=1, description="rows read, scored and written at a time (bounds memory)")
    partitions: int = Field(
        0, ge=0, description="scoring steps a large input is split into, run in parallel (0: one per CPU core)"
    )
    reference_above_bytes: int = Field(
        64 * 1024 * 1024,
        ge=0,
        description="a --data file larger than this is recorded by reference (URI, size, sha256) instead of "
        "copied into the artifact store, and scored in partitions",
    )

    @field_validator("data")
    @classmethod
    def _absolute(cls, data: Path | None) -> Path | None:
        return None if data is None else Path(data).expanduser().resolve()

    def scoring_partitions(self) -> int:
        """The number of scoring steps: the setting, or one per CPU core."""
        return self.partitions or os.cpu_count() or 1


class DriftOptions(Section):
    """The drift check and its gate."""

    no_drift_check: bool = Field(False, description="score without the drift check")
    drift_share: float = Field(0.5, ge=0, le=1, description="refuse when the share of drifted columns exceeds this")
    na_drift_tolerance: float = Field(
        0.1, ge=0, le=1, description="refuse when a column's share of missing values moves by more than this"
    )
    drift_sample_rows: int = Field(
        10_000,
        ge=100,
        description="rows of the reference and of the input (a deterministic sample) the drift check compares",
    )


class InferenceSettings(E2ESettings, DriftOptions, InputOptions):
    """Batch inference with the model version at a stage.

    CLI flag > E2E_ environment variable > --config YAML file > default.
    """

    output: Path | None = Field(None, description="also write the predictions to this CSV or Parquet file")
    stage: StageName = Field(Stage.STAGING.value, description="stage of the model version to score with")
