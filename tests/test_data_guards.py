"""Guards on the data, end to end: identifier, constant and all-missing columns are not features,
a many-level categorical is encoded with a bound, dates are refused, and e2e-infer takes the
recorded identifier as the id column of the predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # the CLIs run as subprocesses

MODEL_NAME = "data_guards"
ROWS = 300


def customers() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    signal = rng.normal(size=ROWS)
    return pd.DataFrame(
        {
            "customer_id": np.arange(5000, 5000 + ROWS),
            "plan": "basic",
            "notes": np.nan,
            "city": [f"city{i % 80:02d}" for i in range(ROWS)],
            "usage": signal,
            "churned": (signal > 0).astype(int),
        }
    )


def test_e2e_train_leaves_out_guarded_columns_and_e2e_infer_uses_the_identifier_as_id(cli, tmp_path):
    from e2e_common.contract import DATA_CONTRACT
    from e2e_common.registry import version_at_stage

    data = tmp_path / "customers.csv"
    customers().to_csv(data, index=False)
    trained = cli("e2e-train", "--data", str(data), "--target", "churned", "--model-name", MODEL_NAME)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    warnings = [line for line in trained.stdout.splitlines() if line.startswith("warning: column")]
    assert warnings == [
        "warning: column 'customer_id' is not a feature: identifier (its name says it is an id); e2e-infer uses "
        "it as the id column of the predictions when the rows to score carry it",
        "warning: column 'plan' is not a feature: constant (every value is 'basic')",
        f"warning: column 'notes' is not a feature: all missing (no value in {ROWS} rows)",
        "warning: column 'city' has 80 levels, more than --max-categories 50: its 49 most frequent levels are "
        "one-hot encoded and the other 31 grouped as one infrequent level",
    ]
    assert trained.stdout.index("warning: column 'customer_id'") < trained.stdout.index("Training model")

    version = version_at_stage(MODEL_NAME, "staging")
    contract = version.get_artifact(DATA_CONTRACT).load()
    contract = contract if isinstance(contract, dict) else contract.model_dump()
    assert contract["excluded_columns"] == {"customer_id": "identifier", "plan": "constant", "notes": "all missing"}
    assert [feature["name"] for feature in contract["features"]] == ["city", "usage"]

    rows = tmp_path / "batch.csv"
    customers().drop(columns="churned").iloc[:60].to_csv(rows, index=False)
    output = tmp_path / "scored.csv"
    inferred = cli("e2e-infer", "--data", str(rows), "--model-name", MODEL_NAME, "--output", str(output))
    assert inferred.returncode == 0, inferred.stdout + inferred.stderr
    assert "Id column: 'customer_id', recorded as an identifier at training" in inferred.stdout
    predictions = pd.read_csv(output)
    assert predictions.columns[0] == "customer_id" and "id" not in predictions.columns
    assert predictions["customer_id"].tolist() == list(range(5000, 5060))

    numbered = cli(
        "e2e-infer", "--data", str(rows), "--model-name", MODEL_NAME, "--id-column", "city", "--no-drift-check",
        "--output", str(output),
    )
    assert numbered.returncode == 0, numbered.stdout + numbered.stderr
    assert "Id column:" not in numbered.stdout and pd.read_csv(output).columns[0] == "city"


def test_e2e_train_refuses_a_date_column_naming_it(cli, tmp_path):
    data = tmp_path / "customers.parquet"
    customers().assign(signup=pd.date_range("2024-01-01", periods=ROWS, freq="D")).to_parquet(data)
    result = cli("e2e-train", "--data", str(data), "--target", "churned", "--model-name", MODEL_NAME)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().startswith("error: column 'signup' holds dates (dtype datetime64[")
    assert "--drop-columns" in result.stderr and "\n" not in result.stderr.strip()
