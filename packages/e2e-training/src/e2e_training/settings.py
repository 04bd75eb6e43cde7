"""Settings of ``e2e-train``: one declaration per option (docs/contract.md), grouped in the sections
that the pipeline's steps receive, plus the search space of the config file.

CLI flag > ``E2E_`` environment variable > ``--config`` YAML > the package's ``config/default.yaml``
(for the search settings) or the field default.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import CliSuppress, NoDecode

from e2e_common.contract import Stage, StageName
from e2e_common.settings import E2ESettings, Section, comma_list_validator

FAMILY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
CONFIGURED_MODEL = "configured_model"
DEFAULT_TARGET = "target"  # e2e_common.data.DEFAULT_TARGET, not imported: it would load pandas for --help


@cache
def package_defaults() -> dict[str, Any]:
    """The settings in ``config/default.yaml`` shipped with the package."""
    text = resources.files("e2e_training").joinpath("config", "default.yaml").read_text()
    return yaml.safe_load(text)


def _default(name: str) -> Any:
    return lambda: package_defaults()[name]


class Range(BaseModel):
    """A range to draw a hyperparameter from; both ends included."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    int_: tuple[int, int] | None = Field(None, alias="int")
    float_: tuple[float, float] | None = Field(None, alias="float")
    log: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _one_ordered_range(self) -> Range:
        given = [r for r in (self.int_, self.float_, self.log) if r is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of int, float or log: [low, high]")
        low, high = given[0]
        if not low < high:
            raise ValueError(f"low {low} must be below high {high}")
        if self.log is not None and low <= 0:
            raise ValueError("a log range needs low > 0")
        return self


class ModelFamily(BaseModel):
    """A scikit-learn classifier, its fixed parameters and the ranges to search."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    estimator: str = Field(pattern=r"^sklearn(\.\w+)+$")
    params: dict[str, Any] = {}
    search: dict[str, list[Any] | Range] = {}

    @field_validator("search")
    @classmethod
    def _no_empty_choices(cls, search: dict[str, list[Any] | Range]) -> dict[str, list[Any] | Range]:
        empty = [name for name, values in search.items() if isinstance(values, list) and not values]
        if empty:
            raise ValueError(f"empty list of choices for {', '.join(empty)}")
        return search


class DataOptions(Section):
    """What to train on."""

    data: Path | None = Field(
        None,
        description="CSV or Parquet file to train on (default: scikit-learn's breast cancer data "
        "minus the slice held out for inference)",
    )
    target: str = Field(DEFAULT_TARGET, min_length=1, description="target column")
    drop_columns: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated feature columns to leave out"
    )

    _split_drop_columns = comma_list_validator("drop_columns")

    @field_validator("data")
    @classmethod
    def _absolute(cls, data: Path | None) -> Path | None:
        return None if data is None else Path(data).expanduser().resolve()


class SplitOptions(Section):
    """How the rows are split into train and holdout."""

    test_size: float = Field(0.2, gt=0, lt=1, description="fraction of rows held out for evaluation")
    no_drop_na: bool = Field(False, description="keep rows with missing values (they are imputed)")


class PreprocessingOptions(Section):
    """How features are prepared, and how much of the train split the drift reference keeps."""

    no_normalize: bool = Field(False, description="do not scale numeric features to [0, 1]")
    drift_reference_rows: CliSuppress[int] = Field(default_factory=_default("drift_reference_rows"), ge=1)


class SearchOptions(Section):
    """Which model families are searched, and how."""

    no_hp_tuning: bool = Field(False, description="train the one configured model instead of searching")
    search_space: CliSuppress[dict[str, ModelFamily]] = Field(default_factory=_default("search_space"))
    no_hp_tuning_model: CliSuppress[ModelFamily] = Field(default_factory=_default("no_hp_tuning_model"))
    n_iter: CliSuppress[int] = Field(default_factory=_default("n_iter"), ge=1)
    cv_folds: CliSuppress[int] = Field(default_factory=_default("cv_folds"), ge=2)
    cv_scoring: CliSuppress[str] = Field(default_factory=_default("cv_scoring"), min_length=1)
    parallel_backend: CliSuppress[Literal["threading", "loky"]] = Field(default_factory=_default("parallel_backend"))
    random_state: CliSuppress[int] = Field(default_factory=_default("random_state"), ge=0)

    @field_validator("search_space")
    @classmethod
    def _named_families(cls, space: dict[str, ModelFamily]) -> dict[str, ModelFamily]:
        if not space:
            raise ValueError("needs at least one model family")
        bad = [name for name in space if not FAMILY_NAME.match(name)]
        if bad:
            raise ValueError(f"family names must be lower_snake_case: {', '.join(bad)}")
        return space

    def families(self) -> dict[str, ModelFamily]:
        """The families to search, or with ``no_hp_tuning`` the one configured model, unsearched."""
        if self.no_hp_tuning:
            return {CONFIGURED_MODEL: self.no_hp_tuning_model.model_copy(update={"search": {}})}
        return dict(self.search_space)


class GateOptions(Section):
    """The accuracy quality gates."""

    min_train_accuracy: float = Field(0.9, ge=0, le=1, description="accuracy gate on the train split")
    min_test_accuracy: float = Field(0.9, ge=0, le=1, description="accuracy gate on the holdout")
    fail_on_accuracy_quality_gates: bool = Field(
        False, description="exit 3 without promotion when a gate fails, instead of a warning"
    )


class PromotionOptions(Section):
    """Where a new version is promoted, and on which condition."""

    target_env: StageName = Field(Stage.STAGING.value, description="stage to promote to")
    promotion: Literal["metric", "latest"] = Field(
        "metric",
        description="metric: promote when at least as accurate as the version at the stage on the "
        "same holdout; latest: always promote",
    )


class TrainingSettings(
    E2ESettings, PromotionOptions, GateOptions, SearchOptions, PreprocessingOptions, SplitOptions, DataOptions
):
    """Train a classifier on ZenML, evaluate it and promote it to a stage of the Model Control Plane."""
