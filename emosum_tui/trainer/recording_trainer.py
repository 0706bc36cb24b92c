"""`Seq2SeqTrainer`, plus the few measurements its callbacks cannot see.

Overrides, each calling the Trainer's own method: `training_step` (per-micro-batch raw loss,
rows and tokens into the `StepMeter`, test faults), `compute_loss` (a test fault makes it NaN
before backward, as a real overflow would), `_get_grad_norm` (the norm the Trainer computed,
kept instead of averaged away), `_save_checkpoint` (the "saving" phase, its time and size,
and a test fault: disk full), `_save_optimizer_and_scheduler` (a test fault: killed mid-save),
`evaluate` (the "evaluating" phase); checkpoint and evaluation are paused out of the
step timer. `prediction_step` drops the collator's host-side count before the model sees the
batch, and `_get_train_sampler` groups by the dataset's own `length` column (the longer of
source and target), which the Trainer's column filter would otherwise remove first.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from transformers import Seq2SeqTrainer

from emosum_tui.core.events import CheckpointSaved, Phase
from emosum_tui.trainer.batching import BATCH_COUNT
from emosum_tui.trainer.faults import FaultPlan
from emosum_tui.trainer.reporter import Reporter
from emosum_tui.trainer.step_meter import StepMeter
from emosum_tui.trainer.step_timer import StepTimer


def folder_bytes(path: Path) -> int:
    return sum(item.stat().st_size for item in Path(path).rglob("*") if item.is_file())


class RecordingSeq2SeqTrainer(Seq2SeqTrainer):
    # MT5's forward takes **kwargs, so transformers 5 assumes it normalises its loss by
    # `num_items_in_batch` and skips dividing by gradient_accumulation_steps; but MT5 returns a
    # plain mean. Left alone, a 4 x 2 step back-propagates (and reports) the sum of two means.
    loss_is_scaled_for_ga = False

    def __init__(self, *args: Any, reporter: Reporter, meter: StepMeter, faults: FaultPlan, timer: StepTimer | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reporter = reporter
        self.meter = meter
        self.faults = faults
        self.timer = timer or StepTimer()

    def training_step(self, model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> Any:
        self.faults.before_micro_batch(self.state.global_step + 1)
        self.meter.add_batch(inputs, inputs.pop(BATCH_COUNT, None))
        loss = super().training_step(model, inputs, num_items_in_batch)
        self.meter.add_loss(loss)
        return loss

    def compute_loss(self, model: Any, inputs: Any, return_outputs: bool = False, num_items_in_batch: Any = None) -> Any:
        result = super().compute_loss(model, inputs, return_outputs=return_outputs, num_items_in_batch=num_items_in_batch)
        if model.training and self.faults.poison_loss(self.state.global_step + 1):
            if return_outputs:
                return result[0] * float("nan"), result[1]
            return result * float("nan")
        return result

    def prediction_step(self, model: Any, inputs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        inputs.pop(BATCH_COUNT, None)
        return super().prediction_step(model, inputs, *args, **kwargs)

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        return super()._get_train_sampler(self.train_dataset)

    def _get_grad_norm(self, model: Any, grad_norm: Any = None) -> Any:
        value = super()._get_grad_norm(model, grad_norm=grad_norm)
        self.meter.set_grad_norm(value)
        return value

    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        step = self.state.global_step
        path = Path(self.args.output_dir) / f"checkpoint-{step}"
        self.reporter.emit(Phase(name="saving", detail=str(path)))
        self.faults.before_save(step, str(path))
        started = time.perf_counter()
        with self.timer.pause("checkpoint"):
            super()._save_checkpoint(model, trial)
        seconds = time.perf_counter() - started
        self.reporter.emit(CheckpointSaved(step=step, path=str(path), bytes=folder_bytes(path), seconds=seconds))
        self.reporter.emit(Phase(name="training"))

    def _save_optimizer_and_scheduler(self, output_dir: str) -> None:
        self.faults.inside_save(self.state.global_step)
        super()._save_optimizer_and_scheduler(output_dir)

    def evaluate(self, *args: Any, **kwargs: Any) -> dict[str, float]:
        rows = len(self.eval_dataset) if self.eval_dataset is not None else None
        self.reporter.emit(Phase(name="evaluating", done=0, total=rows))
        with self.timer.pause("evaluation"):
            metrics = super().evaluate(*args, **kwargs)
        self.reporter.emit(Phase(name="training"))
        return metrics
