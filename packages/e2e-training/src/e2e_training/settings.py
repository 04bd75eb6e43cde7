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
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import CliSuppress, NoDecode

from e2e_common.contract import MAX_INFERRED_CLASSES, Stage, StageName, TaskName
from e2e_common.settings import (
    DATA_GROUP,
    GATES_GROUP,
    MODEL_GROUP,
    E2ESettings,
    Section,
    UploadOptions,
    comma_list_validator,
    option,
)
from e2e_common.uris import location
from e2e_training.__about__ import __version__
from e2e_training.metrics import DEFAULT_METRIC, MetricName

FAMILY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
EXAMPLES = """\
  e2e-train                                                  # the demo data, promoted to staging
  e2e-train --data customers.csv --target churned --drop-columns customer_id --model-name churn
  e2e-train --data customers.parquet --target churned --model-name churn --target-env production
  e2e-train --data houses.csv --target price --model-name prices --max-rmse 25000   # a regression
  e2e-train --config train.yaml                              # settings and search space from YAML
"""
CONFIGURED_MODEL = "configured_model"
CLASSIFICATION = "classification"  # e2e_common.contract.Task's values
REGRESSION = "regression"
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
    """A scikit-learn classifier (or, in ``regression_search_space``, regressor), its fixed parameters
    and the ranges to search."""

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

    help_group = DATA_GROUP

    data: Path | str | None = option(
        None,
        "CSV or Parquet file to train on: a local path or a URI (s3://, gs://, az://, file://).",
        metavar="FILE",
        default_text="scikit-learn's breast cancer data minus the slice held out for e2e-infer",
    )
    target: str = option(DEFAULT_TARGET, "Column to predict.", metavar="COLUMN", min_length=1)
    task: TaskName | None = option(
        None,
        "Predict a class or a number. Read from the target when not given: numbers with fractions, or "
        f"whole numbers with more than {MAX_INFERRED_CLASSES} distinct values, are a regression; anything "
        "else a classification.",
        default_text="read from the target",
    )
    drop_columns: Annotated[list[str], NoDecode] = option(
        default_factory=list, help="Comma-separated columns that are not features, left out of the model."
    )


    _split_drop_columns = comma_list_validator("drop_columns")

    @field_validator("data")
    @classmethod
    def _absolute(cls, data: Path | str | None) -> Path | str | None:
        """A local path made absolute; a URI kept as written (``e2e_common.uris.location``)."""
        return None if data is None else location(data)


class SplitOptions(Section):
    """How the rows are split into train and holdout."""

    help_group = DATA_GROUP

    test_size: float = option(0.2, "Share of the rows held out to evaluate the model.", metavar="SHARE", gt=0, lt=1)
    no_drop_na: bool = option(False, "Keep rows with missing values and impute them, instead of dropping the rows.")


class PreprocessingOptions(Section):
    """How features are prepared, and how much of the train split the drift reference keeps."""

    help_group = DATA_GROUP

    no_normalize: bool = option(False, "Leave numeric features unscaled instead of scaling them to [0, 1].")
    max_categories: int = option(
        50,
        "Most one-hot columns per categorical feature: a column with more levels keeps its most frequent ones "
        "and groups the others as one infrequent level (2 to 1000).",
        ge=2,
        le=1000,
    )
    drift_reference_rows: CliSuppress[int] = Field(default_factory=_default("drift_reference_rows"), ge=1)


class MetricOption(Section):
    """The one metric that selects, gates and promotes: shared by the sections that need it."""

    help_group = MODEL_GROUP

    metric: MetricName = option(
        DEFAULT_METRIC,
        "Score that selects the model (cross-validation), gates it and decides promotion. A classification "
        "takes accuracy, balanced_accuracy, f1_macro, roc_auc (one-vs-rest for multiclass) or log_loss; a "
        "regression rmse, mae, r2 or mape (a fraction; not defined when a target is 0). For log_loss, rmse, "
        "mae and mape lower is better.",
        default_text="accuracy for a classification, rmse for a regression",
    )


class SearchOptions(MetricOption):
    """Which model families are searched, and how (cross-validated on ``metric``)."""

    help_group = MODEL_GROUP

    no_hp_tuning: bool = option(
        False, "Train the one model of the config's no_hp_tuning_model instead of searching model families."
    )
    search_space: CliSuppress[dict[str, ModelFamily]] = Field(default_factory=_default("search_space"))
    no_hp_tuning_model: CliSuppress[ModelFamily] = Field(default_factory=_default("no_hp_tuning_model"))
    regression_search_space: CliSuppress[dict[str, ModelFamily]] = Field(
        default_factory=_default("regression_search_space")
    )
    regression_no_hp_tuning_model: CliSuppress[ModelFamily] = Field(
        default_factory=_default("regression_no_hp_tuning_model")
    )
    time_budget: float | None = option(
        None,
        "Seconds the model search may take in all families together: when they are spent no further "
        "candidate is started and each family keeps the best candidate scored so far (at least one).",
        metavar="SECONDS",
        default_text="none (no limit)",
        gt=0,
    )
    n_iter: CliSuppress[int] = Field(default_factory=_default("n_iter"), ge=1)
    halving_factor: CliSuppress[int] = Field(default_factory=_default("halving_factor"), ge=2)
    cv_folds: CliSuppress[int] = Field(default_factory=_default("cv_folds"), ge=2)
    parallel_backend: CliSuppress[Literal["threading", "loky"]] = Field(default_factory=_default("parallel_backend"))
    random_state: CliSuppress[int] = Field(default_factory=_default("random_state"), ge=0)

    @field_validator("search_space", "regression_search_space")
    @classmethod
    def _named_families(cls, space: dict[str, ModelFamily]) -> dict[str, ModelFamily]:
        if not space:
            raise ValueError("needs at least one model family")
        bad = [name for name in space if not FAMILY_NAME.match(name)]
        if bad:
            raise ValueError(f"family names must be lower_snake_case: {', '.join(bad)}")
        return space

    def families(self, task: str = CLASSIFICATION) -> dict[str, ModelFamily]:
        """The families to search for ``task`` (``search_space``, or ``regression_search_space`` for a
        regression), or with ``no_hp_tuning`` the task's one configured model, unsearched."""
        regression = str(task) == REGRESSION
        if self.no_hp_tuning:
            model = self.regression_no_hp_tuning_model if regression else self.no_hp_tuning_model
            return {CONFIGURED_MODEL: model.model_copy(update={"search": {}})}
        return dict(self.regression_search_space if regression else self.search_space)

    @staticmethod
    def space_setting(task: str) -> str:
        """The setting that holds ``task``'s search space (named in errors)."""
        return "regression_search_space" if str(task) == REGRESSION else "search_space"


class GateOptions(MetricOption):
    """The quality gates: beat the baseline (the majority class, or the mean for a regression; always
    on), optional absolute floors, and for a regression optional error limits."""

    def error_limits(self) -> dict[str, tuple[str, float]]:
        """The regression limits set: metric name -> (flag, limit)."""
        limits = {"rmse": ("--max-rmse", self.max_rmse), "mae": ("--max-mae", self.max_mae),
                  "mape": ("--max-mape", self.max_mape), "r2": ("--min-r2", self.min_r2)}
        return {name: (flag, value) for name, (flag, value) in limits.items() if value is not None}

    help_group = GATES_GROUP

    baseline_margin: float = option(
        0.05,
        "Share of the way from the baseline's holdout score to a perfect score that the new model must go "
        "beyond to be promoted; the baseline predicts the majority class, or for a regression the train mean "
        "(0.05: an error at least 5 percent below the mean's).",
        metavar="SHARE",
        ge=0,
        lt=1,
    )
    min_train_score: float | None = option(
        None,
        "Do not promote when the metric on the train split is worse than this (for log_loss, rmse, mae and mape: "
        "above it).",
        metavar="SCORE",
        default_text="none (off)",
        validation_alias=AliasChoices("min_train_score", "min_train_accuracy"),
        ge=0,
    )
    min_test_score: float | None = option(
        None,
        "Do not promote when the metric on the holdout is worse than this (for log_loss, rmse, mae and mape: "
        "above it).",
        metavar="SCORE",
        default_text="none (off)",
        validation_alias=AliasChoices("min_test_score", "min_test_accuracy"),
        ge=0,
    )
    max_rmse: float | None = option(
        None,
        "Regression only: do not promote when the holdout root mean squared error is above this.",
        metavar="ERROR",
        default_text="none (off)",
        ge=0,
    )
    max_mae: float | None = option(
        None,
        "Regression only: do not promote when the holdout mean absolute error is above this.",
        metavar="ERROR",
        default_text="none (off)",
        ge=0,
    )
    max_mape: float | None = option(
        None,
        "Regression only: do not promote when the holdout mean absolute percentage error (a fraction: 0.1 is "
        "10 percent) is above this.",
        metavar="FRACTION",
        default_text="none (off)",
        ge=0,
    )
    min_r2: float | None = option(
        None,
        "Regression only: do not promote when the holdout R2 is below this.",
        metavar="R2",
        default_text="none (off)",
        le=1,
    )
    fail_on_quality_gates: bool = option(
        False,
        "Exit 3 when a quality gate refuses the new model, instead of keeping it unpromoted and exiting 0.",
        validation_alias=AliasChoices("fail_on_quality_gates", "fail_on_accuracy_quality_gates"),
    )


class PromotionOptions(MetricOption):
    """Where a new version is promoted, and on which condition."""

    help_group = MODEL_GROUP

    target_env: StageName = option(Stage.STAGING.value, "Stage to promote the new version to.")
    promotion: Literal["metric", "latest"] = option(
        "metric",
        "metric promotes when the new version beats the one at the stage on the same holdout rows by more "
        "than --min-improvement (a tie does not); latest always promotes.",
    )
    min_improvement: float = option(
        0.0,
        "How much better in the metric the new version must be than the one at the stage to be promoted.",
        metavar="SCORE",
        ge=0,
    )


class TrainingSettings(
    E2ESettings,
    UploadOptions,
    PromotionOptions,
    GateOptions,
    SearchOptions,
    PreprocessingOptions,
    SplitOptions,
    DataOptions,
):
    """Train a classifier or a regressor on ZenML, evaluate it and promote it to a stage of the Model Control Plane."""

    cli_examples = EXAMPLES
    cli_version = __version__
