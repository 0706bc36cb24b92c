"""The console's live diagnoser: keeps a window of events and samples, runs the rules, logs new findings.

Findings are written as `Diagnosis` events to `<run_dir>/diagnosis.jsonl`, not into the
trainer's `events.jsonl`: two processes appending to one file is only safe with O_APPEND on
POSIX, and on Windows an append is a seek plus a write that can interleave. Same schema, own
file, own sequence numbers; `read_diagnoses(run_dir)` reads it back (e.g. `watch`, a second console).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from emosum_tui.core.events import (
    CheckpointSaved,
    Diagnosis,
    Event,
    EventWriter,
    RunStart,
    StepBegin,
    StepEnd,
    TrainPlan,
    read_events,
)
from emosum_tui.core.presets import Preset, PresetError, load_preset
from emosum_tui.doctor.findings import Finding
from emosum_tui.doctor.live_rules import diagnose
from emosum_tui.doctor.live_window import LiveWindow
from emosum_tui.monitor.resources import ResourceSample

DIAGNOSIS_FILE = "diagnosis.jsonl"


def run_preset(run_dir: Path) -> Preset | None:
    """The preset as run (`<run_dir>/preset.toml`), for warm-up, save steps and learning rate."""
    path = run_dir / "preset.toml"
    if not path.is_file():
        return None
    try:
        return load_preset(path)
    except PresetError:
        return None


def read_diagnoses(run_dir: Path) -> list[Finding]:
    """Every finding logged for a run, oldest first."""
    return [Finding.from_event(e) for e in read_events(run_dir / DIAGNOSIS_FILE) if isinstance(e, Diagnosis)]


class LiveDiagnoser:
    """Feed it events and samples as they come; `update()` returns the current findings.

    Each finding is logged once per (code, severity); it is logged again only if it goes away
    and comes back. It keeps only the kinds of event the rules read: every run start and train
    plan, kept apart so a long run's steps never push out what device the run is on, and the
    last MAX_STEPS steps' ends, begins and checkpoints (loss trends and save spikes); samples
    for a recent window. The rules read every step they are given: MAX_STEPS bounds that cost,
    and a loss that has not fallen over that many steps is still news.

    `due()` paces the passes by what the last one cost, so the doctor takes at most SHARE of one
    core and the trainer keeps the machine; MAX_WAIT is the longest a finding may wait. The
    doctor's findings are trends, so pacing them loses nothing; the stall alarm is not the
    doctor's and is never paced.
    """

    MAX_STEPS = 10_000
    SHARE = 0.0005  # of one core, at most, for the rules
    MAX_WAIT = 15.0  # seconds between passes, at most

    def __init__(self, run_dir: Path | None, preset: Preset | None = None, max_samples: int = 120) -> None:
        self.run_dir = run_dir
        self.preset = preset if preset is not None else (run_preset(run_dir) if run_dir else None)
        self._starts: list[Event] = []  # RunStart and TrainPlan, in log order
        self._saves: deque[Event] = deque(maxlen=self.MAX_STEPS)
        self._begins: deque[Event] = deque(maxlen=self.MAX_STEPS)
        self._steps: deque[Event] = deque(maxlen=self.MAX_STEPS)
        self._samples: deque[ResourceSample] = deque(maxlen=max_samples)
        self._active: set[tuple[str, str]] = set()
        self._writer: EventWriter | None = None
        self.next_pass = float("-inf")  # time.monotonic() before which `due()` says no

    def add_events(self, events: Iterable[Event]) -> None:
        for event in events:
            if isinstance(event, StepEnd):
                self._steps.append(event)
            elif isinstance(event, StepBegin):
                self._begins.append(event)
            elif isinstance(event, CheckpointSaved):
                self._saves.append(event)
            elif isinstance(event, (RunStart, TrainPlan)):
                self._starts.append(event)

    def add_sample(self, sample: ResourceSample) -> None:
        self._samples.append(sample)

    def window(self) -> LiveWindow:
        kinds: dict[type, list[Event]] = {RunStart: [], TrainPlan: []}
        for event in self._starts:
            kinds[type(event)].append(event)
        kinds.update({CheckpointSaved: list(self._saves), StepBegin: list(self._begins), StepEnd: list(self._steps)})
        p = self.preset
        return LiveWindow(
            events=[event for events in kinds.values() for event in events],  # within a kind, log order is kept
            by_kind=kinds,
            samples=list(self._samples),
            warmup_steps=p["train.warmup_steps"] if p else 0,
            save_steps=p["save.steps"] if p else None,
            precision=p["train.precision"] if p else "",
            learning_rate=p["train.learning_rate"] if p else None,
        )

    def due(self, now: float | None = None) -> bool:
        """Whether a pass now keeps the doctor within SHARE of a core (the first one always is)."""
        return (time.monotonic() if now is None else now) >= self.next_pass

    def update(self, now: float | None = None) -> list[Finding]:
        """Run the rules now, whatever `due()` says; the time it took sets when the next pass is due.
        Wall time, not CPU time: Windows counts a thread's CPU in 15.6 ms ticks, and on a busy
        machine a pass that waits for a core is one more reason to wait."""
        began = time.perf_counter()
        findings = diagnose(self.window())
        spent = time.perf_counter() - began
        self.next_pass = (time.monotonic() if now is None else now) + min(self.MAX_WAIT, spent / self.SHARE)
        now = {(f.code, f.severity) for f in findings}
        for finding in findings:
            if (finding.code, finding.severity) not in self._active:
                self._log(finding)
        self._active = now
        return findings

    def _log(self, finding: Finding) -> None:
        if self.run_dir is None:
            return
        if self._writer is None:
            self._writer = EventWriter(self.run_dir / DIAGNOSIS_FILE)
        self._writer.write(finding.to_event())

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
