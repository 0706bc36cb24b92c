"""The trainer's voice: every event goes to the log, the status file and any listener.

One `Reporter` per trainer process. `emit` appends the event to `events.jsonl` (never waits for
a reader), keeps `status.json` in step with it (phase, step, final state), and passes the event
to listeners such as the headless printer, so what `nohup` prints is what the log says.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

from emosum_tui.core.events import Done, Error, Event, EventWriter, Phase, StepBegin, StepEnd, TrainPlan
from emosum_tui.core.rundir import RunStatus, write_status

Listener = Callable[[Event], None]


class Reporter:
    def __init__(self, run_dir: Path, writer: EventWriter, status: RunStatus) -> None:
        self.run_dir = Path(run_dir)
        self.writer = writer
        self.status = status
        self.listeners: list[Listener] = []
        self.current_step: int | None = None  # the optimizer step running now (for errors)
        self._lock = threading.Lock()
        self.save_status()

    def emit(self, event: Event) -> Event:
        self.writer.write(event)
        changed = self._track(event)
        if changed:
            self.save_status()
        for listener in self.listeners:
            listener(event)
        return event

    def _track(self, event: Event) -> bool:
        """Fold an event into the status; True when the status file should be rewritten now."""
        status = self.status
        if isinstance(event, Phase):
            changed = status.phase != event.name
            status.phase = event.name
            if event.name not in ("starting", "loading_model", "loading_data", "tokenising"):
                status.state = "running"
            return changed
        if isinstance(event, TrainPlan):
            status.total_steps, status.step, status.state = event.total_steps, event.start_step, "running"
            return True
        if isinstance(event, StepBegin):
            self.current_step = event.step
            return False
        if isinstance(event, StepEnd):
            status.step = event.step
            return False  # the heartbeat refreshes the file; a write per step is not needed
        if isinstance(event, Error):
            status.error, status.message = event.classification, event.message
            return True
        if isinstance(event, Done):
            status.state = {"completed": "finished", "stopped": "stopped"}.get(event.reason, "failed")
            status.phase, status.final_path, status.step = "done", event.final_path, event.steps or status.step
            return True
        return False

    def save_status(self) -> None:
        # The status is a convenience for readers; the event log is the record, so a failed write is let go.
        with self._lock, contextlib.suppress(OSError):
            write_status(self.run_dir, self.status)

    def where(self) -> tuple[int, str]:
        return self.status.step, self.status.phase
