"""Estimate vs actual: what a run was predicted to cost, next to what it measured.

When a run starts, its estimate is kept in the run directory (`estimate.json`, the cost
model's `Estimate.as_dict()`). Afterwards the event log says what happened: `step_end`
step times, `eval` and `checkpoint` seconds and bytes, `done` with the whole run's seconds.
`compare(run_dir)` puts them side by side so the console and `emosum-tui estimate --run DIR`
can show where the model was right and where it was not. Torch-free, standard library only.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emosum_tui.core.atomic import write_json_atomic
from emosum_tui.core.events import EVENTS_FILE, CheckpointSaved, Done, EvalResult, StepEnd, TrainPlan, read_events

ESTIMATE_FILE = "estimate.json"


def write_estimate(run_dir: Path, estimate: Any) -> Path:
    """Keep an estimate with a run (replaced whole: a reader never sees half a file)."""
    body = estimate.as_dict() if hasattr(estimate, "as_dict") else dict(estimate)
    path = Path(run_dir) / ESTIMATE_FILE
    write_json_atomic(path, body)
    return path


def read_estimate(run_dir: Path) -> dict[str, Any] | None:
    """The estimate kept with a run, or None when the run has none (or it is unreadable)."""
    try:
        body = json.loads((Path(run_dir) / ESTIMATE_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return body if isinstance(body, dict) else None


@dataclass(frozen=True)
class Comparison:
    """One figure: predicted, measured (None until the run has measured it), and the ratio."""

    figure: str
    key: str
    unit: str  # "s", "bytes", "steps"
    predicted: float | None
    measured: float | None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """measured / predicted (1.0 = the estimate was exact; 2.0 = it took twice as long)."""
        if self.predicted in (None, 0) or self.measured is None:
            return None
        return self.measured / self.predicted


@dataclass(frozen=True)
class Measured:
    """What a run's event log says it did."""

    total_steps: int | None  # as the Trainer planned them
    steps_done: int
    step_seconds: list[float]
    eval_seconds: float
    evaluations: int
    checkpoint_bytes: int | None  # the last checkpoint saved
    checkpoint_seconds: float
    run_seconds: float | None  # `done.seconds`: the whole trainer process
    final_bytes: int | None
    finished: bool


def measured(run_dir: Path) -> Measured:
    events = read_events(Path(run_dir) / EVENTS_FILE)
    plan = next((e for e in reversed(events) if isinstance(e, TrainPlan)), None)
    steps = [e for e in events if isinstance(e, StepEnd)]
    evals = [e for e in events if isinstance(e, EvalResult)]
    saves = [e for e in events if isinstance(e, CheckpointSaved)]
    done = next((e for e in reversed(events) if isinstance(e, Done)), None)
    final = done.totals.get("final_bytes") if done is not None else None
    return Measured(
        total_steps=plan.total_steps if plan else None,
        steps_done=steps[-1].step if steps else 0,
        step_seconds=[e.step_seconds for e in steps if e.step_seconds > 0],
        eval_seconds=sum(e.seconds for e in evals),
        evaluations=len(evals),
        checkpoint_bytes=saves[-1].bytes if saves else None,
        checkpoint_seconds=sum(e.seconds for e in saves),
        run_seconds=done.seconds if done is not None else None,
        final_bytes=int(final) if isinstance(final, (int, float)) else None,
        finished=done is not None and done.reason == "completed",
    )


def compare(run_dir: Path, estimate: dict[str, Any] | None = None) -> list[Comparison]:
    """Predicted vs measured rows for a run (its own `estimate.json` unless one is given)."""
    predicted = estimate if estimate is not None else read_estimate(run_dir)
    if predicted is None:
        return []
    got = measured(run_dir)

    def p(key: str) -> float | None:
        value = predicted.get(key)
        return float(value) if isinstance(value, (int, float)) else None

    median = statistics.median(got.step_seconds) if got.step_seconds else None
    train = sum(got.step_seconds) if got.finished and got.step_seconds else None
    partial = "" if got.finished else f"so far: {got.steps_done} steps"
    rows = [
        Comparison("optimizer steps", "optimizer_steps", "steps", p("optimizer_steps"), got.total_steps, "as the Trainer planned them"),
        Comparison("s/step (median)", "seconds_per_step", "s", p("seconds_per_step"), median, f"{len(got.step_seconds)} steps measured"),
        Comparison("training time", "train_seconds", "s", p("train_seconds"), train, partial or "sum of step times"),
        Comparison("evaluation time", "eval_seconds", "s", p("eval_seconds"), got.eval_seconds if got.finished else None,
                   f"{got.evaluations} evaluations"),
        Comparison("total time", "total_seconds", "s", p("total_seconds"), got.run_seconds if got.finished else None,
                   "the trainer process, start to done"),
        Comparison("checkpoint size", "checkpoint_bytes", "bytes", p("checkpoint_bytes"), got.checkpoint_bytes, "the last checkpoint saved"),
    ]
    final_model = (predicted.get("details") or {}).get("final_model_bytes")
    if isinstance(final_model, (int, float)):
        rows.append(Comparison("final model size", "final_model_bytes", "bytes", float(final_model), got.final_bytes, "output_dir/final"))
    return rows
