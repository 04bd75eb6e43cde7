"""What a run is doing while it runs: one line per finished step, and a progress bar on a terminal.

ZenML's local orchestrator runs the steps in this process and says nothing at our log level, so a
thread reads the run's steps from the store every half second and reports each step once it has
finished: its name, its duration, and "(cached)" when ZenML reused an earlier result. On a
terminal a tqdm bar counts the finished steps (the model families searched, the partitions scored);
in logs and CI only the plain lines are written.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from e2e_common.runtime import colors_wanted

POLL_SECONDS = 0.5
FINISHED = frozenset({"completed", "cached", "failed"})


@dataclass(frozen=True)
class FinishedStep:
    """A step of a run that has finished, as the step lines show it."""

    name: str
    status: str
    seconds: float | None

    def describe(self) -> str:
        """``step search_random_forest: 20.5 s``, ``step load_data: (cached)``, ``... failed after 1.2 s``."""
        if self.status == "cached":
            return f"step {self.name}: (cached)"
        took = "?" if self.seconds is None else f"{self.seconds:.1f} s"
        return f"step {self.name}: {'failed after ' if self.status == 'failed' else ''}{took}"


def finished_steps(steps: dict[str, Any]) -> list[FinishedStep]:
    """The finished steps of a run's ``steps`` (ZenML step runs by name), in the order they ended."""
    done = []
    for name, step in steps.items():
        status = getattr(step.status, "value", str(step.status))
        if status not in FINISHED:
            continue
        done.append(FinishedStep(name, status, _seconds(step.start_time, step.end_time)))
    ends = {name: steps[name].end_time or datetime.min for name in steps}
    return sorted(done, key=lambda step: ends[step.name])


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max((end - start).total_seconds(), 0.0)


class StepProgress:
    """Reports the steps of the run named ``run_name`` as they finish, from a background thread.

    Use as a context manager around the pipeline call; leaving it reports what is left.
    """

    def __init__(self, run_name: str, say: Callable[[str], None] = print, total: int | None = None) -> None:
        self.run_name = run_name
        self.say = say
        self.total = total
        self._reported: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="e2e-step-progress", daemon=True)
        self._bar: Any = None

    def __enter__(self) -> StepProgress:
        if colors_wanted():
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, unit="step", desc="steps", leave=False, file=sys.stdout)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.report()
        if self._bar is not None:
            self._bar.close()

    def _watch(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.report()

    def report(self) -> None:
        """Say each finished step not said yet; never fails the run."""
        try:
            from zenml.client import Client

            steps = Client().get_pipeline_run(self.run_name).steps
        except Exception:  # noqa: BLE001 - the run may not exist yet, or the store be busy
            return
        for step in finished_steps(steps):
            if step.name in self._reported:
                continue
            self._reported.add(step.name)
            if self._bar is not None:
                self._bar.write(step.describe(), file=sys.stdout)
                self._bar.update(1)
            else:
                self.say(step.describe())
        if self._bar is not None:
            self._bar.refresh()  # the elapsed time keeps moving during a long step
