"""The `TrainerCallback` that turns the Trainer's life into events, and obeys the stop file.

One `StepBegin` per optimizer step (the Trainer calls `on_step_begin` on the first micro-batch
of each accumulation), one `StepEnd` with the raw loss from the `StepMeter`, the step's wall
time from the previous step's end (`StepTimer`: the loader included; evaluation, checkpoint and
compilation taken out and reported apart), rows/s and non-padding tokens/s. A NaN/inf loss ends
the run at once with `nan-loss` (the Trainer would otherwise average it away). A stop request makes the Trainer save a
checkpoint after this step and stop.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from emosum_tui.core.events import EvalResult, Phase, StepBegin, StepEnd, TrainPlan
from emosum_tui.core.rundir import stop_requested
from emosum_tui.trainer.distributed import agree_step
from emosum_tui.trainer.health import NanLossError
from emosum_tui.trainer.reporter import Reporter
from emosum_tui.trainer.step_meter import StepMeter
from emosum_tui.trainer.step_timer import StepTimer


class EventCallback(TrainerCallback):
    def __init__(self, reporter: Reporter, meter: StepMeter, plan: dict[str, Any], run_dir: Path,
                 timer: StepTimer | None = None) -> None:
        self.reporter = reporter
        self.meter = meter
        self.plan = plan  # train_rows, eval_rows, device, precision: what the Trainer cannot tell us
        self.run_dir = Path(run_dir)
        self.timer = timer or StepTimer()
        self.learning_rate: float | None = None
        self.stopped = False
        self.losses: list[float] = []
        self.steps_run = 0
        self.train_seconds = 0.0
        self.tokens = 0
        self.samples = 0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.reporter.emit(
            TrainPlan(
                total_steps=state.max_steps,
                start_step=state.global_step,
                epochs=float(args.num_train_epochs),
                batch_size=args.per_device_train_batch_size,
                grad_accum=args.gradient_accumulation_steps,
                **self.plan,
            )
        )
        self.reporter.emit(Phase(name="training"))
        self.timer.start()

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.timer.begin()
        self.reporter.emit(StepBegin(step=state.global_step + 1, epoch=float(state.epoch or 0.0)))

    def on_optimizer_step(self, args: Any, state: Any, control: Any, optimizer: Any = None, **kwargs: Any) -> None:
        if optimizer is not None and optimizer.param_groups:
            self.learning_rate = float(optimizer.param_groups[0].get("lr", 0.0))

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        timing = self.timer.lap()
        seconds = timing.step_seconds
        totals, stop = agree_step(self.meter.take(), stop_requested(self.run_dir))  # every rank: one all-reduce
        self.steps_run += 1
        self.train_seconds += seconds
        self.tokens += totals.tokens
        self.samples += totals.samples
        self.reporter.emit(
            StepEnd(
                step=state.global_step,
                total_steps=state.max_steps,
                epoch=float(state.epoch or 0.0),
                loss=totals.loss,
                learning_rate=self.learning_rate,
                grad_norm=totals.grad_norm,
                step_seconds=seconds,
                samples_per_second=totals.samples / seconds if seconds > 0 else 0.0,
                tokens_per_second=totals.tokens / seconds if seconds > 0 else 0.0,
                compute_seconds=timing.compute_seconds,
                paused_seconds=timing.paused_seconds,
            )
        )
        if totals.loss is not None and not math.isfinite(totals.loss):
            raise NanLossError(state.global_step, totals.loss)
        if totals.loss is not None:
            self.losses.append(totals.loss)
        if stop and not self.stopped:
            self.stopped = True
            control.should_save = True
            control.should_training_stop = True

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: dict[str, Any] | None = None, **kwargs: Any) -> None:
        metrics = metrics or {}
        numbers = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        self.reporter.emit(EvalResult(step=state.global_step, metrics=numbers, seconds=numbers.get("eval_runtime", 0.0)))

    def recent_loss(self, window: int) -> float | None:
        """The mean raw loss of the last `window` steps: the loss the model ended with."""
        tail = self.losses[-max(1, window):]
        return sum(tail) / len(tail) if tail else None
