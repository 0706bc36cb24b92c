"""A "compiling" phase for every `torch.compile` compilation, while it happens.

`torch.compile` compiles lazily, inside the first forward of each new shape, so a compiled
run's first step (and the first step of a new length bucket) can take minutes. Dynamo calls
its start and end callbacks around each outermost compilation; this turns them into
`Phase("compiling")` and back, so the console's stall alarm gives the compilation a budget of
its own instead of calling the step stalled, and the step timer takes it out of s/step. It is one
of the Trainer's callbacks so that it unregisters itself when training ends (a process may train
more than once, as the tests do); a run that ends in an exception leaves it registered, and a
later compilation in that process then finds its log closed, which it lets go.
"""

from __future__ import annotations

import contextlib
from typing import Any

from transformers import TrainerCallback

from emosum_tui.core.events import Phase
from emosum_tui.trainer.reporter import Reporter
from emosum_tui.trainer.step_timer import StepTimer

COMPILING = "compiling"


class CompileWatch(TrainerCallback):
    """Registered with dynamo's callback handler from `start()` until `close()` (or training's end)."""

    def __init__(self, reporter: Reporter, timer: StepTimer) -> None:
        self.reporter = reporter
        self.timer = timer
        self.compilations = 0
        self.resume_phase = "training"

    def start(self) -> CompileWatch:
        from torch._dynamo.callback import callback_handler

        callback_handler.register_start_callback(self._on_start)
        callback_handler.register_end_callback(self._on_end)
        return self

    def close(self) -> None:
        from torch._dynamo.callback import callback_handler

        for remove, callback in ((callback_handler.remove_start_callback, self._on_start),
                                 (callback_handler.remove_end_callback, self._on_end)):
            with contextlib.suppress(ValueError):  # never registered, or removed already
                remove(callback)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.close()

    def _emit(self, phase: Phase) -> None:
        with contextlib.suppress(OSError):  # the run that registered this watch has closed its log
            self.reporter.emit(phase)

    def _on_start(self, args: Any) -> None:
        self.compilations += 1
        phase = self.reporter.status.phase
        self.resume_phase = phase if phase != COMPILING else self.resume_phase
        self.timer.pause_begin("compile")
        self._emit(Phase(name=COMPILING, detail=f"torch.compile, compilation {self.compilations}"))

    def _on_end(self, args: Any) -> None:
        self.timer.pause_end()
        self._emit(Phase(name=self.resume_phase))
