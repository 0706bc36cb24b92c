"""What the live rules look at: a run's events and resource samples, and how a finding quotes them.

`LiveWindow` holds the run's recent events plus a sequence of `ResourceSample`s and answers the
questions every rule asks (the device, the steps, one GPU's readings) once per window; the text
helpers phrase the evidence the same way in every finding.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from emosum_tui.core.events import Event, RunStart, StepBegin, StepEnd, TrainPlan
from emosum_tui.doctor.findings import gib
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Phrase
from emosum_tui.monitor.gpu_mapping import GpuSelection
from emosum_tui.monitor.resources import GpuReading, ResourceSample

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class LiveWindow:
    """What a rule may look at: events (all of the run so far, or a recent tail) and recent samples.

    The views of one kind of event (`steps`, `plan`...) are computed once per window: the rules
    ask for them a dozen times per pass, and a long run holds thousands of events. A caller that
    already holds the events by kind (the live diagnoser) passes them as `by_kind`."""

    events: Sequence[Event]
    samples: Sequence[ResourceSample]
    warmup_steps: int = 0
    save_steps: int | None = None
    precision: str = ""  # the preset's train.precision ("" = unknown)
    learning_rate: float | None = None
    by_kind: dict[type, list[Event]] | None = field(default=None, repr=False, compare=False)  # `events` sorted by type

    @cached_property
    def _by_kind(self) -> dict[type, list[Event]]:
        if self.by_kind is not None:
            return self.by_kind
        kinds: dict[type, list[Event]] = {}
        for event in self.events:
            kinds.setdefault(type(event), []).append(event)
        return kinds

    def of_kind(self, kind: type[E]) -> list[E]:
        """The window's events of one kind, in log order."""
        return self._by_kind.get(kind, [])  # type: ignore[return-value]

    @cached_property
    def plan(self) -> TrainPlan | None:
        plans = self.of_kind(TrainPlan)
        return plans[-1] if plans else None

    @cached_property
    def device(self) -> str:
        """The trainer's device as it reported it ("cpu", "cuda:0"); before the train plan, what its
        environment said at start (torch cannot use CUDA -> "cpu"); "" when nothing is known yet."""
        plan = self.plan
        if plan and plan.device:
            return plan.device.lower()
        starts = [e for e in self.of_kind(RunStart) if e.environment.cuda_available is not None]
        if starts:
            return "cuda" if starts[-1].environment.cuda_available else "cpu"
        return ""

    @property
    def device_source(self) -> Phrase:
        plan = self.plan
        return Phrase(N_("train plan")) if plan and plan.device else Phrase(N_("trainer environment"))

    @property
    def on_cpu(self) -> bool:
        return self.device.startswith("cpu")

    @property
    def on_gpu(self) -> bool:
        return self.device.startswith("cuda")

    @property
    def steps(self) -> list[StepEnd]:
        return self.of_kind(StepEnd)

    @property
    def begins(self) -> list[StepBegin]:
        return self.of_kind(StepBegin)

    @cached_property
    def _step_seconds(self) -> list[float]:
        done = [e.step_seconds for e in self.steps if e.step_seconds > 0]
        begins = self.begins
        if begins and self.samples and (not self.steps or self.steps[-1].step < begins[-1].step):
            running = self.samples[-1].t - begins[-1].t
            if running > 0 and (not done or running > max(done)):
                done.append(running)
        return done

    def step_seconds(self) -> list[float]:
        """Finished steps' durations, plus the one still running when it is already longer than them all."""
        return list(self._step_seconds)

    def gpu_index(self) -> int:
        device = self.device
        if ":" in device:
            try:
                return int(device.split(":", 1)[1])
            except ValueError:
                return 0
        return 0

    @cached_property
    def gpu_selection(self) -> GpuSelection:
        """The run's GPUs as its last recorded start says (UUIDs, CUDA_VISIBLE_DEVICES); every GPU before that."""
        starts = [e for e in self.of_kind(RunStart) if e.environment.recorded]
        return GpuSelection.from_environment(starts[-1].environment) if starts else GpuSelection()

    def run_gpus(self, sample: ResourceSample) -> tuple[GpuReading, ...]:
        """The GPUs of one sample that the run uses, in torch's order (cuda:0 first)."""
        return self.gpu_selection.pick(sample.gpus)

    def gpu_readings(self, index: int | None = None) -> list[GpuReading]:
        """Readings of one of the run's GPUs across the samples, by torch's index (the trainer's device, by default)."""
        index = self.gpu_index() if index is None else index
        return [gpus[index] for gpus in map(self.run_gpus, self.samples) if index < len(gpus)]



def mean_known(values: Sequence[float | None]) -> float | None:
    """The mean of the values that were measured (None when none was)."""
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def median_text(seconds: list[float]) -> Phrase:
    """"median 1.3 s/step over 40 steps": the step time a finding quotes."""
    if not seconds:
        return Phrase(N_("no step finished yet"))
    median = statistics.median(seconds)
    shown = f"{median:.1f}" if median >= 1 else f"{median:.2f}"  # a 0.13 s step is not "0.1 s"
    return Phrase(N_("median {seconds} s/step over {steps} steps"), seconds=shown, steps=len(seconds))


def trainer_cpu_text(window: LiveWindow) -> Phrase:
    """The trainer's mean CPU over the window, in cores' terms."""
    cpu = mean_known([s.trainer_cpu_percent for s in window.samples])
    if cpu is None:
        return Phrase(N_("trainer CPU not measured"))
    cores = window.samples[-1].cpu_count
    return Phrase(N_("trainer CPU {percent}% (100% = one core; {cores} logical cores)"), percent=f"{cpu:.0f}", cores=cores)


def gpu_text(readings: list[GpuReading]) -> Phrase:
    """One GPU's name, mean utilisation and memory use over its readings."""
    first = readings[-1]
    util = mean_known([g.util_percent for g in readings])
    used = mean_known([g.memory_used for g in readings])
    util_text = (Phrase(N_("util not readable")) if util is None
                 else Phrase(N_("util {percent}% avg over {samples} samples"), percent=f"{util:.0f}", samples=len(readings)))
    return Phrase(N_("GPU {index} {name}: {util}, {used} of {total} used"), index=first.index, name=first.name, util=util_text,
                  used=gib(used), total=gib(first.memory_total))
