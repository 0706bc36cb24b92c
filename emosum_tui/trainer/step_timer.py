"""Honest seconds per optimizer step: the wall time from one step's end to the next.

In transformers 5 the Trainer fetches a step's batches from the loader *before* it calls
`on_step_begin`, so a begin-to-end timer misses the loader (and anything else between steps)
and a run whose loader is slow shows a fine s/step and a wrong ETA. This timer measures from
the end of the previous step (or the start of training) to the end of this one, loader
included, minus the intervals that are not steps: an evaluation, a checkpoint save and a
`torch.compile` compilation. Those are paused out and reported as their own figures.

Pauses nest (a compilation inside an evaluation counts once, as evaluation time).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

PAUSE_KINDS = ("evaluation", "checkpoint", "compile")


@dataclass(frozen=True)
class StepTiming:
    """One optimizer step's time, and what was taken out of it."""

    step_seconds: float  # previous step's end to this one's, loader included, pauses excluded
    compute_seconds: float  # on_step_begin to on_step_end (the micro-batches and the update), pauses excluded
    paused_seconds: float  # evaluation + checkpoint + compilation inside this interval
    compile_seconds: float  # the compilation share of `paused_seconds`


class StepTimer:
    """`start()` at the start of training, `begin()` at each step's begin, `lap()` at its end;
    `pause(kind)` (or `pause_begin` / `pause_end`) around anything that is not a step."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.mark: float | None = None
        self.begun: float | None = None
        self.paused_total = 0.0  # since `mark`
        self.compile_total = 0.0
        self.paused_at_begin = 0.0
        self.totals = dict.fromkeys(PAUSE_KINDS, 0.0)  # the whole run's pauses, by kind
        self._depth = 0
        self._pause_started = 0.0
        self._pause_kind = ""

    @property
    def paused(self) -> bool:
        """True inside an evaluation, a checkpoint save or a compilation."""
        return self._depth > 0

    def start(self) -> None:
        """Training starts (or resumes): the first step is timed from here."""
        self.mark = self.clock()
        self.begun = None
        self.paused_total = self.compile_total = 0.0

    def begin(self) -> None:
        if self.mark is None:
            self.start()
        self.begun = self.clock()
        self.paused_at_begin = self.paused_total

    def pause_begin(self, kind: str) -> None:
        self._depth += 1
        if self._depth == 1:
            self._pause_started = self.clock()
            self._pause_kind = kind

    def pause_end(self) -> None:
        if self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0:
            seconds = self.clock() - self._pause_started
            self.paused_total += seconds
            self.totals[self._pause_kind] = self.totals.get(self._pause_kind, 0.0) + seconds
            if self._pause_kind == "compile":
                self.compile_total += seconds

    @contextmanager
    def pause(self, kind: str) -> Iterator[None]:
        self.pause_begin(kind)
        try:
            yield
        finally:
            self.pause_end()

    def lap(self) -> StepTiming:
        """This step's timing; the next step is timed from now."""
        now = self.clock()
        if self.mark is None:
            self.mark = now
        begun = self.begun if self.begun is not None else self.mark
        step = max(0.0, now - self.mark - self.paused_total)
        compute = max(0.0, now - begun - (self.paused_total - self.paused_at_begin))
        timing = StepTiming(step, min(compute, step), self.paused_total, self.compile_total)
        self.mark, self.begun = now, None
        self.paused_total = self.compile_total = self.paused_at_begin = 0.0
        return timing
