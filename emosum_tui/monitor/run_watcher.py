"""Tails a run directory for the console: events as they are appended, resources once a second.

The watcher never touches widgets: it runs in a thread worker and posts Messages to the screen
that owns it (the shape of Textualize/toolong's watcher). Event batches must all arrive (every
loss point is plotted), so `EventsRead` is never collapsed; `ResourcesRead` is a gauge and may
replace an older one still in the queue.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from textual.message import Message
from textual.message_pump import MessagePump

from emosum_tui.core.events import EVENTS_FILE, Event, EventReader, RunStart
from emosum_tui.core.rundir import ESTIMATE_FILE


class EventsRead(Message):
    """New complete events from the log, in order. Never replaced: loss points must all arrive."""

    def __init__(self, events: list[Event]) -> None:
        super().__init__()
        self.events = events


class ResourcesRead(Message):
    """A resource sample; a newer one supersedes one not yet handled."""

    def __init__(self, sample: object) -> None:
        super().__init__()
        self.sample = sample  # emosum_tui.monitor.resources.ResourceSample

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ResourcesRead)


def read_estimate_seconds(run_dir: Path) -> float | None:
    """The calibrated seconds per optimizer step written at launch (`estimate.json`), if any."""
    try:
        body = json.loads((run_dir / ESTIMATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = body.get("seconds_per_step") if isinstance(body, dict) else None
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


POLL_SECONDS = 0.25


class RunWatcher:
    """Polls one run's event log (and optionally samples resources) until cancelled.

    `run(is_cancelled)` is the body of a thread worker; `target.post_message` is thread-safe.
    It polls four times a second (twice while the machine's CPU is busy: the screen sets
    `poll_seconds`, which the thread reads at each poll). Each batch is a message the console
    handles, and at ten steps a second a 0.1 s poll made ten of them a second. The alarm does not wait for it (the clock
    judges the silence since the last event), and a step's end shows within the next frame.
    """

    def __init__(
        self,
        run_dir: Path,
        target: MessagePump,
        poll_seconds: float = POLL_SECONDS,
        sample_seconds: float | None = 1.0,
        disk_path: Path | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.target = target
        self.poll_seconds = poll_seconds
        self.sample_seconds = sample_seconds
        self.disk_path = disk_path or run_dir
        self.reader = EventReader(run_dir / EVENTS_FILE)
        self.pid: int | None = None

    def run(self, is_cancelled: Callable[[], bool]) -> None:
        sampler = self._sampler() if self.sample_seconds else None
        next_sample = 0.0
        try:
            while not is_cancelled():
                events = self.reader.poll()
                if events:
                    for event in events:
                        if isinstance(event, RunStart) and event.pid:
                            self.pid = event.pid
                            if sampler is not None:
                                sampler.set_pid(event.pid)
                                sampler.disk_path = Path(event.output_dir or self.disk_path)
                    self.target.post_message(EventsRead(events))
                now = time.monotonic()
                if sampler is not None and now >= next_sample:
                    next_sample = now + (self.sample_seconds or 1.0)
                    self.target.post_message(ResourcesRead(sampler.sample()))
                time.sleep(self.poll_seconds)
        finally:
            if sampler is not None:
                sampler.close()

    def _sampler(self):  # -> ResourceSampler
        from emosum_tui.monitor.resources import ResourceSampler

        return ResourceSampler(self.disk_path, self.pid)
