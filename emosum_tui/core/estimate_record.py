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
from typing import TYPE_CHECKING, Any

from emosum_tui.core.atomic import write_json_atomic
from emosum_tui.core.events import EVENTS_FILE, CheckpointSaved, Done, EvalResult, StepEnd, TrainPlan, read_events
from emosum_tui.core.rundir import ESTIMATE_FILE
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Translatable

if TYPE_CHECKING:
    from emosum_tui.core.cost_model import Estimate

ESTIMATE_KINDS = ("calibrated", "prior", "given")  # how the cost model's s/step basis begins


def write_estimate(run_dir: Path, estimate: Estimate) -> Path:
    """Keep an estimate with a run (replaced whole: a reader never sees half a file)."""
    path = Path(run_dir) / ESTIMATE_FILE
    write_json_atomic(path, estimate.as_dict())
    return path


def _figure(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class EstimateRecord:
    """The figures of a run's `estimate.json` that are compared with what it measured (None:
    not in the file; the file is the cost model's whole `Estimate`, read for these only)."""

    optimizer_steps: float | None = None
    seconds_per_step: float | None = None
    train_seconds: float | None = None
    eval_seconds: float | None = None
    total_seconds: float | None = None
    checkpoint_bytes: float | None = None
    final_model_bytes: float | None = None  # from the estimate's details
    seconds_per_step_basis: str = ""  # what the s/step rests on, in words ("calibrated on ...", "prior: ...")

    @property
    def kind(self) -> str:
        """"calibrated", "prior" or "given": the first word of the s/step basis ("" when not said)."""
        word = self.seconds_per_step_basis.split(":", 1)[0].split(" ", 1)[0]
        return word if word in ESTIMATE_KINDS else ""

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> EstimateRecord:
        details = body.get("details")
        return cls(
            optimizer_steps=_figure(body, "optimizer_steps"),
            seconds_per_step=_figure(body, "seconds_per_step"),
            train_seconds=_figure(body, "train_seconds"),
            eval_seconds=_figure(body, "eval_seconds"),
            total_seconds=_figure(body, "total_seconds"),
            checkpoint_bytes=_figure(body, "checkpoint_bytes"),
            final_model_bytes=_figure(details, "final_model_bytes") if isinstance(details, dict) else None,
            seconds_per_step_basis=str((body.get("basis") or {}).get("seconds_per_step", "")) if isinstance(body.get("basis"), dict) else "",
        )


def read_estimate(run_dir: Path) -> EstimateRecord | None:
    """The estimate kept with a run, or None when the run has none (or it is unreadable)."""
    try:
        body = json.loads((Path(run_dir) / ESTIMATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return EstimateRecord.from_dict(body) if isinstance(body, dict) else None


def read_estimate_seconds(run_dir: Path) -> float | None:
    """The estimated seconds per optimizer step kept with a run, when it is a usable one (> 0)."""
    record = read_estimate(run_dir)
    seconds = record.seconds_per_step if record else None
    return seconds if seconds and seconds > 0 else None


def read_estimate_kind(run_dir: Path) -> str:
    """What the run's s/step estimate rests on: "calibrated", "prior", "given", or "" (none kept)."""
    record = read_estimate(run_dir)
    return record.kind if record else ""


@dataclass(frozen=True)
class Comparison:
    """One figure: predicted, measured (None until the run has measured it), and the ratio.
    `figure` and `note` are English (--json) and Translatable (`shown()` where drawn)."""

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
    final = done.totals.final_bytes if done is not None and done.totals is not None else None
    return Measured(
        total_steps=plan.total_steps if plan else None,
        steps_done=steps[-1].step if steps else 0,
        step_seconds=[e.step_seconds for e in steps if e.step_seconds > 0],
        eval_seconds=sum(e.seconds for e in evals),
        evaluations=len(evals),
        checkpoint_bytes=saves[-1].bytes if saves else None,
        checkpoint_seconds=sum(e.seconds for e in saves),
        run_seconds=done.seconds if done is not None else None,
        final_bytes=final,
        finished=done is not None and done.reason == "completed",
    )


def compare(run_dir: Path, estimate: EstimateRecord | None = None) -> list[Comparison]:
    """Predicted vs measured rows for a run (its own `estimate.json` unless one is given)."""
    predicted = estimate if estimate is not None else read_estimate(run_dir)
    if predicted is None:
        return []
    got = measured(run_dir)
    median = statistics.median(got.step_seconds) if got.step_seconds else None
    train = sum(got.step_seconds) if got.finished and got.step_seconds else None
    T = Translatable
    partial = T(N_("sum of step times")) if got.finished else T(N_("so far: {steps} steps"), steps=got.steps_done)
    rows = [
        Comparison(T(N_("optimizer steps")), "optimizer_steps", "steps", predicted.optimizer_steps, got.total_steps,
                   T(N_("as the Trainer planned them"))),
        Comparison(T(N_("s/step (median)")), "seconds_per_step", "s", predicted.seconds_per_step, median,
                   T(N_("{steps} steps measured"), steps=len(got.step_seconds))),
        Comparison(T(N_("training time")), "train_seconds", "s", predicted.train_seconds, train, partial),
        Comparison(T(N_("evaluation time")), "eval_seconds", "s", predicted.eval_seconds,
                   got.eval_seconds if got.finished else None, T(N_("{evaluations} evaluations"), evaluations=got.evaluations)),
        Comparison(T(N_("total time")), "total_seconds", "s", predicted.total_seconds, got.run_seconds if got.finished else None,
                   T(N_("the trainer process, start to done"))),
        Comparison(T(N_("checkpoint size")), "checkpoint_bytes", "bytes", predicted.checkpoint_bytes, got.checkpoint_bytes,
                   T(N_("the last checkpoint saved"))),
    ]
    if predicted.final_model_bytes is not None:
        rows.append(Comparison(T(N_("final model size")), "final_model_bytes", "bytes", predicted.final_model_bytes,
                               got.final_bytes, "output_dir/final"))
    return rows
