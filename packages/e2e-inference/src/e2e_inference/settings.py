"""Settings of ``e2e-infer``: one declaration per option, grouped in the sections the pipeline receives.

CLI flag > ``E2E_`` environment variable > ``--config`` YAML file > default.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import field_validator

from e2e_common.contract import Stage, StageName
from e2e_common.settings import (
    DATA_GROUP,
    GATES_GROUP,
    MODEL_GROUP,
    E2ESettings,
    Section,
    UploadOptions,
    option,
)
from e2e_common.uris import location
from e2e_inference.__about__ import __version__

EXAMPLES = """\
  e2e-infer                                                  # score the demo rows with the staging version
  e2e-infer --data batch.csv --id-column customer_id --output scored.parquet
  e2e-infer --data batch.parquet --stage production --output scored.csv
  e2e-infer --config inference.yaml                          # settings from YAML (keys: data, stage, ...)
"""


class InputOptions(Section):
    """The rows to score and how they are read."""

    help_group = DATA_GROUP

    data: Path | str | None = option(
        None,
        "CSV or Parquet file of rows to score: a local path or a URI (s3://, gs://, az://, file://).",
        metavar="FILE",
        default_text="the slice of the demo data held out from training",
    )
    id_column: str | None = option(
        None,
        "Column of --data copied to the predictions under its own name, to join them back.",
        metavar="COLUMN",
        default_text="a column the model's data contract records as an identifier, if the rows have it, "
        "else the row number in a column 'id'",
        min_length=1,
    )
    chunk_size: int = option(100_000, "Rows read, scored and written at a time; bounds memory.", ge=1)
    partitions: int = option(
        0, "Scoring steps a large input is split into, run in parallel.", default_text="one per CPU core", ge=0
    )
    reference_above_bytes: int = option(
        64 * 1024 * 1024,
        "A --data file larger than this many bytes is recorded by reference (path, size, sha256) instead of "
        "copied into the artifact store, and scored in partitions.",
        default_text="67108864 (64 MiB)",
        ge=0,
    )


    @field_validator("data")
    @classmethod
    def _absolute(cls, data: Path | str | None) -> Path | str | None:
        """A local path made absolute; a URI kept as written (``e2e_common.uris.location``)."""
        return None if data is None else location(data)

    def scoring_partitions(self) -> int:
        """The number of scoring steps: the setting, or one per CPU core."""
        return self.partitions or os.cpu_count() or 1


class DriftOptions(Section):
    """The drift check and its gate."""

    help_group = GATES_GROUP

    no_drift_check: bool = option(False, "Score without the drift check.")
    drift_share: float = option(
        0.5, "Refuse the rows when the share of drifted columns is above this.", metavar="SHARE", ge=0, le=1
    )
    weighted_drift_share: float = option(
        0.25,
        "Refuse the rows when the drifted columns together carry more than this share of the model's "
        "feature importance.",
        metavar="SHARE",
        ge=0,
        le=1,
    )
    out_of_range_share: float = option(
        0.05,
        "Refuse the rows when, in any column, more than this share of the rows holds a number outside the "
        "training range or a category never seen in training.",
        metavar="SHARE",
        ge=0,
        le=1,
    )
    na_drift_tolerance: float = option(
        0.1,
        "Refuse the rows when a column's share of missing values moves by more than this.",
        metavar="SHARE",
        ge=0,
        le=1,
    )
    drift_sample_rows: int = option(
        10_000, "Rows of the training data and of the input that the drift check compares.", ge=100
    )


class InferenceSettings(E2ESettings, UploadOptions, DriftOptions, InputOptions):
    """Score rows with the model version at a stage, behind a drift gate.

    CLI flag > E2E_ environment variable > --config YAML file > default.
    """

    cli_examples = EXAMPLES
    cli_version = __version__

    output: Path | str | None = option(
        None,
        "Also write the predictions to this CSV or Parquet file: a local path or a URI (s3://, gs://, az://).",
        metavar="FILE",
        default_text="none, predictions are kept as a ZenML artifact only",
        group=DATA_GROUP,
    )
    report: Path | None = option(
        None,
        "Also write the drift check's full Evidently report to this HTML file, also when the gate refuses.",
        metavar="FILE",
        default_text="none, the report is kept as a ZenML artifact only",
        group=GATES_GROUP,
    )
    stage: StageName = option(Stage.STAGING.value, "Stage of the model version to score with.", group=MODEL_GROUP)

    @field_validator("output")
    @classmethod
    def _output_location(cls, output: Path | str | None) -> Path | str | None:
        """A URI kept as written (``file://`` becomes a path); a local path as given."""
        from e2e_common.uris import uri_scheme

        if output is None:
            return None
        return location(output) if isinstance(output, str) and uri_scheme(output) else Path(output)


# ``e2e-serve``: the HTTP model server (e2e_inference.serve_cli).

from e2e_common.settings import CommandSettings  # noqa: E402 - this section was appended to the module

SERVE_EXAMPLES = """\
  e2e-serve                                                  # serve production's version on 127.0.0.1:8080
  e2e-serve --stage staging --port 9000 --model-name churn
  e2e-serve --host 0.0.0.0 --poll-interval 30                # listen on every interface, check the stage twice a minute
  E2E_PORT=9000 e2e-serve --config serve.yaml                # settings from YAML (keys: stage, host, port, ...)
"""


class ServeOptions(Section):
    """What ``e2e-serve`` serves, where it listens and how often it checks the stage (runtime group)."""

    stage: StageName = option(
        Stage.PRODUCTION.value,
        "Stage whose model version is served; the server follows it and serves each version promoted there.",
        default_text="production, the stage whose version answers live requests",
        group=MODEL_GROUP,
    )
    host: str = option("127.0.0.1", "Address to listen on (0.0.0.0: every interface).", metavar="ADDRESS", min_length=1)
    port: int = option(8080, "TCP port to listen on (0: any free port, printed when ready).", ge=0, le=65535)
    poll_interval: float = option(
        5.0,
        "Seconds between two checks of the stage; a version promoted to it is served within this plus its "
        "loading time.",
        metavar="SECONDS",
        default_text="5",
        gt=0,
        le=3600,
    )


class ServeSettings(CommandSettings, ServeOptions):
    """Serve the model version at a stage over HTTP (MLflow's scoring protocol), following the stage.

    CLI flag > E2E_ environment variable > --config YAML file > default.
    """

    cli_examples = SERVE_EXAMPLES
    cli_version = __version__

    debug: bool = option(False, "Show tracebacks, library logs and one access-log line per request.")
