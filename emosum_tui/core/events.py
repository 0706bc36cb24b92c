"""The event schema: the one contract between the trainer process and the console.

The trainer appends one JSON object per line to `events.jsonl` in the run directory; the
console (and `tail -f`) reads it. Every event has `v` (schema version), `kind`, `t` (unix
seconds, wall clock of the writer) and `seq` (0, 1, 2, ... per writer). Unknown kinds and
unknown keys are skipped by readers, so a newer trainer can add fields without breaking an
older console. A reader tolerates a torn last line: it only consumes complete lines.

Torch-free, standard library only: both sides import this module.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from emosum_tui.core.run_facts import Environment as Environment  # the payloads of events, re-exported
from emosum_tui.core.run_facts import GpuDevice as GpuDevice
from emosum_tui.core.run_facts import RunTotals as RunTotals
from emosum_tui.core.run_facts import from_dict as from_dict
from emosum_tui.core.run_facts import known_fields as known_fields

SCHEMA_VERSION = 1
EVENTS_FILE = "events.jsonl"

PHASES = ("starting", "loading_model", "loading_data", "tokenising", "training", "compiling", "evaluating", "saving", "done")
ERROR_CLASSES = (
    "out-of-memory",
    "nan-loss",
    "model-not-available",
    "bad-data",
    "disk-full",
    "interrupted",
    "rank-lost",  # a torchrun rank ended without a word (killed); the launcher records it
    "other",
)
DONE_REASONS = ("completed", "stopped", "failed")


@dataclass
class Event:
    """Base of every event; subclasses set `kind`."""

    kind: ClassVar[str] = "event"
    t: float = field(default_factory=time.time)
    seq: int = -1

    def to_json(self) -> str:
        body = {"v": SCHEMA_VERSION, "kind": self.kind, **asdict(self)}
        return json.dumps(body, ensure_ascii=False, allow_nan=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Event:
        """The event from its JSON object (unknown keys skipped); TypeError on a wrong shape."""
        return cls(**known_fields(cls, body))


@dataclass
class RunStart(Event):
    """The trainer is up: what it runs, where, on what."""

    kind: ClassVar[str] = "run_start"
    preset: str = ""
    run_dir: str = ""
    output_dir: str = ""
    pid: int = 0
    resumed_from: str | None = None
    environment: Environment = field(default_factory=Environment)
    world_size: int = 1  # trainer processes (torchrun ranks); rank 0 writes this log

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> RunStart:
        values = known_fields(cls, body)
        values["environment"] = Environment.from_dict(values.get("environment"))
        return cls(**values)


@dataclass
class Phase(Event):
    """Entering a phase, or progress inside it (`done` of `total` items, e.g. rows tokenised)."""

    kind: ClassVar[str] = "phase"
    name: str = "starting"
    done: int | None = None
    total: int | None = None
    detail: str = ""


@dataclass
class TrainPlan(Event):
    """What the Trainer is about to do, as the Trainer itself counted it."""

    kind: ClassVar[str] = "train_plan"
    total_steps: int = 0
    start_step: int = 0  # > 0 when resumed from a checkpoint
    epochs: float = 0.0
    train_rows: int = 0
    eval_rows: int = 0
    batch_size: int = 0  # the micro-batch, per device
    grad_accum: int = 0
    device: str = ""  # "cpu" or "cuda:0 (<name>)"
    precision: str = ""  # what actually runs: bf16, fp16 or fp32
    speed: str = ""  # the speed switches that run (compile, TF32, optimizer, padding)


@dataclass
class StepBegin(Event):
    """An optimizer step has started: the console's clock runs from here."""

    kind: ClassVar[str] = "step_begin"
    step: int = 0  # the step being run, 1-based (the Trainer's global_step after it ends)
    epoch: float = 0.0


@dataclass
class StepEnd(Event):
    """An optimizer step has ended. `loss` is this step's raw loss, never a window average."""

    kind: ClassVar[str] = "step_end"
    step: int = 0
    total_steps: int = 0
    epoch: float = 0.0
    loss: float | None = None
    learning_rate: float | None = None
    grad_norm: float | None = None
    step_seconds: float = 0.0  # previous step's end to this one's (loader included), minus paused_seconds
    samples_per_second: float = 0.0
    tokens_per_second: float = 0.0  # non-padding source + target tokens
    compute_seconds: float | None = None  # this step's begin to end: step_seconds minus this is the wait for data
    paused_seconds: float = 0.0  # evaluation, checkpoint and compilation time since the previous step, not in step_seconds


@dataclass
class Heartbeat(Event):
    """From a thread every few seconds: the process is alive even inside a long step."""

    kind: ClassVar[str] = "heartbeat"
    step: int = 0
    phase: str = ""


@dataclass
class EvalResult(Event):
    """An evaluation has ended: its metrics and how long it took."""

    kind: ClassVar[str] = "eval"
    step: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class SamplePrediction(Event):
    """What the model wrote for one of the fixed validation rows (`eval.samples`) at an evaluation,
    beside its reference: the same rows every time, so a row's prediction can be followed."""

    kind: ClassVar[str] = "sample"
    step: int = 0  # the optimizer step evaluated at
    index: int = 0  # the row's place among the samples, the same at every evaluation
    row_id: str = ""  # the row's id in the validation file (its line number when it has none)
    source: str = ""  # the start of the source, as the model read it
    reference: str = ""
    prediction: str = ""
    seconds: float = 0.0  # generating this row


@dataclass
class CheckpointSaved(Event):
    """A checkpoint is on disk: where, how large, how long the save took."""

    kind: ClassVar[str] = "checkpoint"
    step: int = 0
    path: str = ""
    bytes: int = 0
    seconds: float = 0.0


@dataclass
class Warn(Event):
    """Something the user should know that does not stop the run (a CPU-only torch, no checkpoint)."""

    kind: ClassVar[str] = "warning"
    code: str = ""  # what it is about: "device", "estimate", "no-checkpoint", "bad-rows"...
    message: str = ""


@dataclass
class Diagnosis(Event):
    """A finding of the live diagnosis (doctor): why it is slow or failing, with evidence."""

    kind: ClassVar[str] = "diagnosis"
    code: str = ""  # the rule that fired ("vram-spill")
    severity: str = "info"  # "info", "warning" or "error"
    message: str = ""
    evidence: str = ""  # the figures the rule saw
    fix: str = ""


@dataclass
class Error(Event):
    """What ended the run, classified (one of ERROR_CLASSES), with the trainer's own advice."""

    kind: ClassVar[str] = "error"
    classification: str = "other"
    type: str = ""  # the exception's class name
    message: str = ""
    traceback_tail: str = ""
    advice: list[str] = field(default_factory=list)
    step: int | None = None  # the optimizer step it happened in, when training had started


@dataclass
class Done(Event):
    """The trainer's last word: why it ended (one of DONE_REASONS) and what it did."""

    kind: ClassVar[str] = "done"
    reason: str = "completed"
    final_path: str | None = None
    steps: int = 0
    seconds: float = 0.0  # the whole trainer process
    train_loss: float | None = None
    totals: RunTotals | None = None  # None when the run failed before training counted anything

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Done:
        values = known_fields(cls, body)
        values["totals"] = RunTotals.from_dict(values.get("totals"))
        return cls(**values)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (RunStart, Phase, TrainPlan, StepBegin, StepEnd, Heartbeat, EvalResult, SamplePrediction, CheckpointSaved, Warn,
                Diagnosis, Error, Done)
}


def json_object(line: str) -> dict[str, Any] | None:
    """One line of a JSON-lines log as an object; None for anything else (a torn or stray line)."""
    try:
        body = json.loads(line)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def parse_event(line: str) -> Event | None:
    """One event from one line, or None for a line that is not one we know (skipped)."""
    body = json_object(line)
    if body is None:
        return None
    cls = EVENT_TYPES.get(body.get("kind", ""))
    if cls is None:
        return None
    try:
        return cls.from_dict(body)
    except TypeError:
        return None


class EventReader:
    """Incremental reader of an event log: call `poll()` as often as you like.

    It remembers its byte offset and only consumes whole lines, so a line the writer is
    still writing (or a line torn by a crash) is left for later, never half-parsed.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.skipped = 0  # complete lines that were not valid events

    def poll(self) -> list[Event]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        events = []
        for raw in chunk[: end + 1].splitlines():
            event = parse_event(raw.decode("utf-8", errors="replace"))
            if event is None:
                if raw.strip():
                    self.skipped += 1
            else:
                events.append(event)
        return events

    def torn_tail(self) -> bool:
        """True when the file ends in a partial line (a crash mid-write, or a write in flight)."""
        try:
            return self.path.stat().st_size > self.offset
        except FileNotFoundError:
            return False


def read_events(path: Path) -> list[Event]:
    """Every complete event in a log (a torn last line is ignored)."""
    return EventReader(path).poll()


class EventWriter:
    """Appends events to the log, one whole line per `write` call, thread-safe.

    Appending to a file never waits for a reader, so a slow or absent console cannot block
    training. Each line is written with a single `os.write` on an O_APPEND descriptor so a
    crash leaves at most the last line torn.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0), 0o644)
        self._lock = threading.Lock()
        self._seq = self._next_seq(path)

    @staticmethod
    def _next_seq(path: Path) -> int:
        """Continue the numbering of an existing log (a resumed run appends to it)."""
        events = read_events(path)
        return events[-1].seq + 1 if events else 0

    def write(self, event: Event) -> Event:
        with self._lock:
            event.seq = self._seq
            self._seq += 1
            os.write(self._fd, (event.to_json() + "\n").encode("utf-8"))
        return event

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
