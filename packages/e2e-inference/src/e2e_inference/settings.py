"""Settings of ``e2e-infer``: one field per SPEC option, parsed by pydantic-settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from e2e_common.contract import Stage, StageName
from e2e_common.settings import E2ESettings

DEFAULT_DRIFT_SAMPLE_ROWS = 10_000
DEFAULT_CHUNK_SIZE = 100_000
DEFAULT_REFERENCE_ABOVE_BYTES = 64 * 1024 * 1024


class InferenceSettings(E2ESettings):
    """Batch inference with the model version at a stage.

    CLI flag > E2E_ environment variable > --config YAML file > default.
    """

    data: Path | None = Field(
        None, description="CSV or Parquet file of rows to score; none: the held-out slice of the default data"
    )
    output: Path | None = Field(None, description="also write the predictions to this CSV or Parquet file")
    id_column: str | None = Field(
        None, min_length=1, description="column of --data passed through as the id; none: the row number"
    )
    stage: StageName = Field(Stage.STAGING.value, description="stage of the model version to score with")
    no_drift_check: bool = Field(False, description="score without the drift check")
    drift_share: float = Field(
        0.5, ge=0, le=1, description="refuse when the share of drifted columns exceeds this"
    )
    na_drift_tolerance: float = Field(
        0.1, ge=0, le=1, description="refuse when a column's share of missing values moves by more than this"
    )
    drift_sample_rows: int = Field(
        DEFAULT_DRIFT_SAMPLE_ROWS,
        ge=100,
        description="rows of the reference and of the input (a deterministic sample) the drift check compares",
    )
    chunk_size: int = Field(
        DEFAULT_CHUNK_SIZE, ge=1, description="rows read, scored and written at a time (bounds memory)"
    )
    partitions: int = Field(
        0,
        ge=0,
        description="scoring steps a large input is split into, run in parallel (0: one per CPU core)",
    )
    reference_above_bytes: int = Field(
        DEFAULT_REFERENCE_ABOVE_BYTES,
        ge=0,
        description="a --data file larger than this is recorded by reference (URI, size, sha256) instead of "
        "copied into the artifact store, and scored in partitions",
    )

    def scoring_partitions(self) -> int:
        """The number of scoring steps: the setting, or one per CPU core."""
        import os

        return self.partitions or os.cpu_count() or 1
