"""Headless mode: one readable line per logging step, for servers and `nohup`.

It listens to the same events the log gets, so the printed lines and the run dir agree.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
from typing import TextIO

from emosum_tui.core.events import CheckpointSaved, Done, Error, EvalResult, Event, Phase, RunStart, StepEnd, TrainPlan, Warn

RECENT_STEPS = 50  # the printed s/step and ETA are the median of this many recent steps


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class HeadlessPrinter:
    """A listener of the reporter: prints the events a person watching a terminal needs."""

    def __init__(self, logging_steps: int, out: TextIO | None = None) -> None:
        self.logging_steps = max(1, logging_steps)
        self.out = out or sys.stdout
        self.recent: list[float] = []
        self.losses: list[float] = []
        self.phase = ""

    def say(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # a closed terminal must not stop training
            print(text, file=self.out, flush=True)

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStart):
            self.say(f"run {event.run_dir}  preset {event.preset}  output {event.output_dir}  pid {event.pid}")
        elif isinstance(event, Phase):
            if event.name != self.phase:
                self.phase = event.name
                self.say(f"[{event.name}] {event.detail}".rstrip())
            elif event.total and event.done == event.total:
                self.say(f"[{event.name}] {event.done}/{event.total}")
        elif isinstance(event, TrainPlan):
            self.say(
                f"plan: {event.total_steps} optimizer steps (from {event.start_step}), {event.train_rows} rows, "
                f"batch {event.batch_size} x {event.grad_accum}, {event.device}, {event.precision}"
            )
        elif isinstance(event, StepEnd):
            self._step(event)
        elif isinstance(event, EvalResult):
            shown = "  ".join(f"{k} {v:.4g}" for k, v in event.metrics.items() if isinstance(v, (int, float)))
            self.say(f"eval @ step {event.step}: {shown}")
        elif isinstance(event, CheckpointSaved):
            self.say(f"checkpoint {event.path} ({event.bytes / 1e6:.1f} MB, {event.seconds:.1f} s)")
        elif isinstance(event, Warn):
            self.say(f"warning: {event.message}")
        elif isinstance(event, Error):
            self.say(f"error [{event.classification}]: {event.message}")
            for line in event.advice:
                self.say(f"  - {line}")
        elif isinstance(event, Done):
            where = f" -> {event.final_path}" if event.final_path else ""
            loss = f", final loss {event.train_loss:.4f}" if event.train_loss is not None else ""
            self.say(f"done ({event.reason}) after {event.steps} steps in {format_duration(event.seconds)}{loss}{where}")

    def _step(self, event: StepEnd) -> None:
        self.recent = [*self.recent[-(RECENT_STEPS - 1):], event.step_seconds]
        if event.loss is not None:
            self.losses = [*self.losses[-(self.logging_steps - 1):], event.loss] if self.logging_steps > 1 else [event.loss]
        if event.step % self.logging_steps and event.step != event.total_steps:
            return
        per_step = statistics.median(self.recent)
        eta = per_step * max(0, event.total_steps - event.step)
        loss = f"{statistics.fmean(self.losses):.4f}" if self.losses else "n/a"
        self.say(
            f"step {event.step}/{event.total_steps}  epoch {event.epoch:.2f}  loss {loss}  "
            f"{per_step:.2f} s/step  {event.tokens_per_second:.0f} tok/s  ETA {format_duration(eta)}"
        )
