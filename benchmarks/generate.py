"""Rows with the default data set's schema, in any number, written to Parquet by batches."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from e2e_common.data import DEFAULT_TARGET, default_inference_data, load_default_dataset

BATCH_ROWS = 500_000


def generate_rows(rows: int, output: Path, seed: int = 0) -> Path:
    """Resample the default features with small noise: same distribution, any size."""
    features = load_default_dataset().drop(columns=[DEFAULT_TARGET])
    features = features[default_inference_data().columns]
    values = features.to_numpy(dtype="float64")
    spread = features.std().to_numpy() * 0.01
    rng = np.random.default_rng(seed)
    schema = pa.schema([(name, pa.float64()) for name in features.columns])
    output.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(output, schema) as writer:
        done = 0
        while done < rows:
            size = min(BATCH_ROWS, rows - done)
            picked = values[rng.integers(0, len(values), size)] + rng.normal(0, 1, (size, len(spread))) * spread
            writer.write_table(pa.Table.from_arrays(list(picked.T), schema=schema))
            done += size
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    generate_rows(args.rows, args.output)


if __name__ == "__main__":
    main()
