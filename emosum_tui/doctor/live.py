"""The console's live diagnoser: keeps a window of events and samples, runs the rules, logs new findings.

Findings are written as `Diagnosis` events to `<run_dir>/diagnosis.jsonl`, not into the
trainer's `events.jsonl`: two processes appending to one file is only safe with O_APPEND on
POSIX, and on Windows an append is a seek plus a write that can interleave. Same schema, own
file, own sequence numbers; `read_diagnoses(run_dir)` reads it back (e.g. `watch`, a second console).
"""

from __future__ import annotations

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
from emosum_tui.doctor.live_rules import LiveWindow, diagnose
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
    plan (a few per run: what device the run is on), and the last MAX_STEPS steps' ends, begins
    and checkpoints (loss trends and save spikes); samples for a recent window. It kept all other
    events too, 5,000 of them: on a run of 5,000 steps the step begins pushed the run start and
    the train plan out, and the doctor forgot the device. The rules read every step they are
    given, 0.9 ms per 1,000 steps, every 2-4 s: MAX_STEPS bounds that, and a loss that has not
    fallen over the last 10,000 steps is still news.
    """

    MAX_STEPS = 10_000

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

    def update(self) -> list[Finding]:
        findings = diagnose(self.window())
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
