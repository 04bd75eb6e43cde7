"""A regression's predictions in four numbers: what ``e2e-infer`` prints and records for them."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict


class PredictionSummary(BaseModel):
    """Count, smallest, mean and largest of a regression's predictions: parts add up (``combine``)."""

    model_config = ConfigDict(frozen=True)

    rows: int = 0
    minimum: float | None = None
    mean: float | None = None
    maximum: float | None = None

    @classmethod
    def of(cls, values: Any) -> PredictionSummary:
        values = np.asarray(values, dtype="float64")
        if values.size == 0:
            return cls()
        return cls(rows=int(values.size), minimum=float(values.min()), mean=float(values.mean()), maximum=float(values.max()))

    def combine(self, other: PredictionSummary) -> PredictionSummary:
        if not other.rows:
            return self
        if not self.rows:
            return other
        rows = self.rows + other.rows
        return PredictionSummary(
            rows=rows,
            minimum=min(self.minimum, other.minimum),  # type: ignore[type-var]
            mean=(self.mean * self.rows + other.mean * other.rows) / rows,  # type: ignore[operator]
            maximum=max(self.maximum, other.maximum),  # type: ignore[type-var]
        )

    def describe(self) -> str:
        """One phrase for the command's summary."""
        if not self.rows:
            return "none"
        return f"min {self.minimum:.4g}, mean {self.mean:.4g}, max {self.maximum:.4g} ({self.rows} rows)"

    def metadata(self) -> dict[str, Any]:
        return {"rows": self.rows, "min": self.minimum, "mean": self.mean, "max": self.maximum}

    @classmethod
    def from_metadata(cls, data: dict[str, Any]) -> PredictionSummary:
        return cls(rows=data.get("rows", 0), minimum=data.get("min"), mean=data.get("mean"), maximum=data.get("max"))
